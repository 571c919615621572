package spec

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

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
