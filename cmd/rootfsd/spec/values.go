package spec

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML takes "name", "name=version", "name/suite" or a mapping.
func (p *Package) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		type plain Package
		var q plain
		if err := n.Decode(&q); err != nil {
			return err
		}
		*p = Package(q)
		if p.Name == "" {
			return fmt.Errorf("line %d: a package needs a name", n.Line)
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return fmt.Errorf("line %d: a package is a name, name=version, name/suite, or {name, version, suite}", n.Line)
	}
	s := n.Value
	if name, v, ok := strings.Cut(s, "="); ok {
		*p = Package{Name: name, Version: v}
	} else if name, suite, ok := strings.Cut(s, "/"); ok {
		*p = Package{Name: name, Suite: suite}
	} else {
		*p = Package{Name: s}
	}
	return nil
}

// String is the package as --pkgs takes it.
func (p Package) String() string {
	switch {
	case p.Version != "":
		return p.Name + "=" + p.Version
	case p.Suite != "":
		return p.Name + "/" + p.Suite
	}
	return p.Name
}

// MarshalYAML writes the short form.
func (p Package) MarshalYAML() (any, error) { return p.String(), nil }

// UnmarshalYAML reads an octal mode: "0755", 0755, 755 or "1777".
func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a mode is an octal number such as \"0755\"", n.Line)
	}
	v, err := ParseMode(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*m = Mode{Value: v, Set: true}
	return nil
}

// ParseMode parses an octal mode up to 07777.
func ParseMode(s string) (uint32, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	v, err := strconv.ParseUint(t, 8, 32)
	if err != nil || v > 0o7777 || t == "" {
		return 0, fmt.Errorf("mode %q: expected an octal number from 0000 to 7777, such as \"0755\"", s)
	}
	return uint32(v), nil
}

// MarshalYAML writes the mode as a quoted octal string.
func (m Mode) MarshalYAML() (any, error) {
	if !m.Set {
		return nil, nil
	}
	return fmt.Sprintf("%04o", m.Value), nil
}

// IsZero lets omitempty drop an unset mode.
func (m Mode) IsZero() bool { return !m.Set }

// UnmarshalYAML takes a mapping of names to values or a list of
// KEY=VALUE. A mapping is written in key order.
func (e *Env) UnmarshalYAML(n *yaml.Node) error {
	var out Env
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: env %s: expected a single value", v.Line, k.Value)
			}
			out = append(out, k.Value+"="+v.Value)
		}
	case yaml.SequenceNode:
		for _, v := range n.Content {
			if v.Kind != yaml.ScalarNode || !strings.Contains(v.Value, "=") {
				return fmt.Errorf("line %d: env entries are KEY=VALUE", v.Line)
			}
			out = append(out, v.Value)
		}
	default:
		return fmt.Errorf("line %d: env is a mapping (KEY: value) or a list of KEY=VALUE", n.Line)
	}
	for _, kv := range out {
		if k, _, _ := strings.Cut(kv, "="); k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("line %d: env %q: the name must be non-empty and without spaces", n.Line, kv)
		}
	}
	*e = out
	return nil
}

// UnmarshalYAML takes a list (exec form) or a string split at spaces.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = strings.Fields(n.Value)
	case yaml.SequenceNode:
		var out Command
		for _, v := range n.Content {
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a command is a list of strings", v.Line)
			}
			out = append(out, v.Value)
		}
		*c = out
	default:
		return fmt.Errorf("line %d: a command is a list of strings or one string", n.Line)
	}
	return nil
}
