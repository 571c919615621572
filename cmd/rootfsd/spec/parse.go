package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rootfsd/rootfsd/repo"
)

// MaxSize bounds a spec file.
const MaxSize = 1 << 20

// Load reads and validates a spec file.
func Load(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("spec %s: larger than %d bytes", path, MaxSize)
	}
	return Parse(path, data)
}

// Parse parses and validates a spec; file names it in errors and is the
// base relative paths (keys, files) are resolved against.
func Parse(file string, data []byte) (*Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the spec is empty; run rootfsd init for a commented starting point", file)
		}
		return nil, fmt.Errorf("%s", lineError(file, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a spec is one YAML document; remove the second one", file, extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the spec is empty; run rootfsd init for a commented starting point", file)
	}
	root := doc.Content[0]
	s := &Spec{file: file, lines: map[string]int{}}
	if err := strict(root, reflect.TypeOf(Spec{}), "", s.lines); err != nil {
		return nil, fmt.Errorf("%s:%s", file, err)
	}
	if err := root.Decode(s); err != nil {
		return nil, fmt.Errorf("%s", lineError(file, err))
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

var lineRE = regexp.MustCompile(`(?m)^(?:yaml: )?line (\d+): `)

// lineError rewrites yaml's "line N: msg" as "FILE:N: msg".
func lineError(file string, err error) string {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) {
		msg = strings.Join(te.Errors, "\n")
	}
	msg = lineRE.ReplaceAllString(msg, file+":$1: ")
	if !strings.HasPrefix(msg, file) {
		msg = file + ": " + strings.TrimPrefix(msg, "yaml: ")
	}
	return msg
}

var unmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// strict walks the YAML tree along the Go type, recording the line of
// every value under its path ("files[0].dest") and refusing unknown keys
// and values of the wrong shape. Errors start with ":LINE: ".
func strict(n *yaml.Node, t reflect.Type, path string, lines map[string]int) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		lines[path] = n.Line
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := reflect.PointerTo(t).Implements(unmarshaler)
	if custom && !(t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode) {
		return nil // scalar forms are checked by the type's UnmarshalYAML
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return shapeError(n, path, "a mapping of keys")
		}
		names := fieldNames(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				return unknownKey(k, path, names)
			}
			if err := strict(v, f.Type, join(path, k.Value), lines); err != nil {
				return err
			}
			lines[join(path, k.Value)] = k.Line
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return shapeError(n, path, "a list")
		}
		for i, e := range n.Content {
			if err := strict(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return shapeError(n, path, "a mapping of names to values")
		}
		for i := 1; i < len(n.Content); i += 2 {
			if v := n.Content[i]; v.Kind != yaml.ScalarNode {
				return shapeError(v, join(path, n.Content[i-1].Value), "a single value")
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return shapeError(n, path, "a single value")
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func shapeError(n *yaml.Node, path, want string) error {
	what := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: fmt.Sprintf("%q", n.Value)}[n.Kind]
	return fmt.Errorf("%d: %s: expected %s, found %s", n.Line, path, want, what)
}

func unknownKey(k *yaml.Node, path string, names []string) error {
	where := "unknown key"
	if path != "" {
		where = "unknown key in " + path + ":"
	}
	msg := fmt.Sprintf("%d: %s %q", k.Line, where, k.Value)
	if best := closest(k.Value, names); best != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, best)
	}
	return fmt.Errorf("%s; valid keys are %s", msg, strings.Join(names, ", "))
}

// closest returns the valid key nearest to key: repo.Suggest's choice,
// else the one at the smallest edit distance when it is not too far.
func closest(key string, names []string) string {
	if s := repo.Suggest(key, names, 1); len(s) > 0 {
		return s[0]
	}
	best, bestD := "", len(key)/2+2
	for _, n := range names {
		if d := distance(strings.ToLower(key), n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name := tagName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); tagName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
