package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/rootfsd/rootfsd/repo"
)

var (
	tableLine = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]`)
	keyLine   = regexp.MustCompile(`^\s*"?([A-Za-z0-9_.-]+)"?\s*=`)
)

// loadFile decodes one TOML file and checks every key and type.
func (c *Config) loadFile(path string, data []byte) error {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("config %s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	lines := keyLines(data)
	for _, name := range flatten("", raw, nil) {
		val := lookupRaw(raw, name)
		where := fmt.Sprintf("%s:%d", path, lines[name])
		k, ok := lookupKey(name)
		if !ok {
			msg := fmt.Sprintf("config %s: unknown key %q", where, name)
			if s := repo.Suggest(name, keyNames(), 1); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			} else {
				msg += "; run rootfsd config --keys for the list"
			}
			return errors.New(msg)
		}
		v, err := convert(k, val)
		if err != nil {
			return fmt.Errorf("config %s: %s: %w", where, name, err)
		}
		c.set(name, v, SourceFile, where)
	}
	return nil
}

func convert(k Key, v any) (any, error) {
	switch k.Type {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case List:
		if l, ok := v.([]any); ok {
			out := make([]string, 0, len(l))
			for _, x := range l {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("expected a list of strings, found %T in it", x)
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("expected a %s, found %s", k.Type, tomlType(v))
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a bool"
	case int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

func parseEnv(k Key, v string) (any, error) {
	switch k.Type {
	case Bool:
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			return true, nil
		case "0", "false", "no", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%s=%q: expected true or false", k.Env, v)
	case List:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return v, nil
}

// flatten lists the dotted names of the leaves of a decoded TOML table,
// sorted. Tables that are not configuration sections stay leaves, so that
// a misplaced table is reported as an unknown key.
func flatten(prefix string, m map[string]any, out []string) []string {
	for k, v := range m {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok && prefix == "" && isSection(k) {
			out = flatten(name+".", sub, out)
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func isSection(name string) bool {
	for _, k := range Keys() {
		if strings.HasPrefix(k.Name, name+".") {
			return true
		}
	}
	return false
}

func lookupRaw(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	sec, rest, ok := strings.Cut(name, ".")
	if !ok {
		return nil
	}
	sub, _ := m[sec].(map[string]any)
	return sub[rest]
}

// keyLines maps dotted key names to the line that sets them. TOML
// decoding does not keep positions; the syntax rootfsd's keys need
// ([table] headers, bare or quoted keys) is simple enough to find again.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := tableLine.FindStringSubmatch(line); m != nil {
			table = m[1] + "."
			out[m[1]] = n
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			if _, seen := out[table+m[1]]; !seen {
				out[table+m[1]] = n
			}
		}
	}
	return out
}
