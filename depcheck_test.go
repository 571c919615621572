package rootfsd_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rootfsd/rootfsd"

// TestImportRules keeps the package arrows of ARCHITECTURE.md true:
// repo is distro-neutral, deb and apk never import each other, store knows
// no distro, api is a thin adapter over the engine.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	forbidden := map[string][]string{
		"repo":  {"deb", "apk", "store", "api", "cmd"},
		"deb":   {"apk", "store", "api", "cmd"},
		"apk":   {"deb", "store", "api", "cmd"},
		"store": {"deb", "apk", "api", "cmd"},
		"api":   {"deb", "apk", "store"},
	}
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		top, _, _ := strings.Cut(rel, "/")
		bans := forbidden[top]
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			itop, _, _ := strings.Cut(strings.TrimPrefix(imp, module+"/"), "/")
			for _, b := range bans {
				if itop == b {
					t.Errorf("%s imports %s: %s must not depend on %s", p.ImportPath, imp, top, b)
				}
			}
		}
		// repo uses the standard library and small helpers only.
		if top == "repo" {
			for _, imp := range p.Imports {
				if strings.Contains(imp, ".") && !strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, "golang.org/x/") {
					t.Errorf("%s imports %s: repo is standard library plus small helpers only", p.ImportPath, imp)
				}
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d packages listed", checked)
	}
}
