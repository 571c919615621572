package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/rootfsd/rootfsd/repo"
)

// The published JSON Schema and the Go types describe the same keys.
func TestSchemaMatchesTypes(t *testing.T) {
	data, err := os.ReadFile("../../../docs/spec.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	defs := schema["$defs"].(map[string]any)
	props := func(obj any) []string {
		m := obj.(map[string]any)
		if m["additionalProperties"] != false {
			t.Errorf("schema object %v does not forbid unknown keys", m["properties"])
		}
		var out []string
		for k := range m["properties"].(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	top := schema["properties"].(map[string]any)
	cases := []struct {
		name   string
		typ    any
		schema any
	}{
		{"spec", Spec{}, schema},
		{"accounts", Accounts{}, top["accounts"]},
		{"source", Source{}, defs["source"]},
		{"package", Package{}, defs["package"].(map[string]any)["oneOf"].([]any)[1]},
		{"user", User{}, defs["user"]},
		{"group", Group{}, defs["group"]},
		{"path", Path{}, defs["path"]},
		{"file", File{}, defs["file"]},
	}
	for _, c := range cases {
		if d := cmp.Diff(fieldNames(reflect.TypeOf(c.typ)), props(c.schema)); d != "" {
			t.Errorf("%s: Go keys (-) vs schema keys (+):\n%s", c.name, d)
		}
	}
	var variants []any
	for _, v := range repo.Variants {
		variants = append(variants, string(v))
	}
	if d := cmp.Diff(variants, top["variant"].(map[string]any)["enum"]); d != "" {
		t.Errorf("variants (-repo +schema):\n%s", d)
	}
}

// validateSchema is a JSON Schema 2020-12 validator in Python: it reads a
// JSON list of documents on stdin and prints one line per document, "ok"
// or the first error.
const validateSchema = `
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
for doc in json.load(sys.stdin):
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    print("ok" if not errs else "/".join(map(str, errs[0].path)) + ": " + errs[0].message.replace("\n", " "))
`

// Every example spec in examples/ is valid under the published schema
// (checked by python3-jsonschema), and the schema rejects a typo.
func TestExamplesMatchSchema(t *testing.T) {
	if err := exec.Command("python3", "-c", "import jsonschema").Run(); err != nil {
		t.Skipf("SKIPPING: python3 with jsonschema is not installed (apt-get install python3-jsonschema): %v", err)
	}
	files, err := filepath.Glob("../../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var docs []any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs = append(docs, doc)
	}
	bad := map[string]any{"distro": "debian:12", "pakages": []string{"curl"}}
	in, err := json.Marshal(append(docs, bad))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", validateSchema, "../../../docs/spec.schema.json")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files)+1 {
		t.Fatalf("the validator printed %d lines for %d documents:\n%s", len(lines), len(files)+1, out)
	}
	for i, f := range files {
		if lines[i] != "ok" {
			t.Errorf("%s does not match docs/spec.schema.json: %s", filepath.Base(f), lines[i])
		}
	}
	if last := lines[len(files)]; !strings.Contains(last, "pakages") {
		t.Errorf("the schema accepts the key pakages: %s", last)
	}
}
