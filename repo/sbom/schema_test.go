package sbom

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// validator checks documents against the published JSON schemas (SPDX 2.3,
// CycloneDX 1.6 with its SPDX licence enum and JSF) kept in testdata/schema,
// using Python's jsonschema, the reference implementation most SBOM tools
// test with. Go has no JSON Schema validator in the standard library.
const validator = `
import json, sys
from jsonschema import Draft7Validator
from referencing import Registry, Resource
d = sys.argv[1]
def load(n):
    with open(d + "/" + n) as f:
        return json.load(f)
schemas = {n: load(n) for n in ["bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json", "spdx-2.3.schema.json"]}
reg = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()] +
                                [(n, Resource.from_contents(s)) for n, s in schemas.items()])
bad = 0
for arg in sys.argv[2:]:
    kind, path = arg.split(":", 1)
    schema = schemas["spdx-2.3.schema.json" if kind == "spdx" else "bom-1.6.schema.json"]
    errs = sorted(Draft7Validator(schema, registry=reg).iter_errors(json.load(open(path))), key=str)
    for e in errs[:20]:
        print(path, "/".join(str(p) for p in e.absolute_path), e.message[:300])
    bad += len(errs)
sys.exit(1 if bad else 0)
`

func TestSchemas(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIP: python3 not installed: SBOMs not validated against the JSON schemas")
	}
	if out, err := exec.Command(py, "-c", "import jsonschema, referencing").CombinedOutput(); err != nil {
		t.Skipf("SKIP: python3 jsonschema/referencing not installed (apt-get install python3-jsonschema): SBOMs not validated against the JSON schemas: %s", out)
	}
	schemaDir, err := filepath.Abs(filepath.Join("testdata", "schema"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-c", validator, schemaDir}
	plans := map[string]*repo.Plan{"noble": noblePlan(), "alpine": alpinePlan(t)}
	for name, p := range plans {
		for _, f := range Formats {
			for _, dl := range []bool{false, true} {
				data, err := Generate(f, p, Options{Name: "localhost/" + name + ":latest", Version: "1", Created: epoch, DownloadLocations: dl})
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, fmt.Sprintf("%s-%v%s", name, dl, f.Ext()))
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, string(f)+":"+path)
			}
		}
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Errorf("documents do not validate against the schemas: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
