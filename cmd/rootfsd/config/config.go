package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Source tells which layer a value came from.
type Source string

const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// Value is the effective value of one key and where it came from.
type Value struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Source Source `json:"source"`
	// Origin is "FILE:LINE", the environment variable, or "--flag".
	Origin string `json:"origin,omitempty"`
	// Overrides lists the origins of lower layers this value replaced.
	Overrides []string `json:"overrides,omitempty"`
}

// Config is the effective configuration.
type Config struct {
	values map[string]*Value
	files  []string
}

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// Options say where Load looks. The zero value uses DefaultDirs and the
// process environment.
type Options struct {
	// Dirs are searched for config.toml, lowest precedence first.
	Dirs []string
	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
}

// DefaultDirs are the configuration directories, lowest precedence first:
// /usr/share/rootfsd, /etc/rootfsd, and $XDG_CONFIG_HOME/rootfsd (or
// ~/.config/rootfsd).
func DefaultDirs(lookupEnv func(string) (string, bool)) []string {
	dirs := []string{"/usr/share/rootfsd", "/etc/rootfsd"}
	if x, ok := lookupEnv("XDG_CONFIG_HOME"); ok && filepath.IsAbs(x) {
		return append(dirs, filepath.Join(x, "rootfsd"))
	}
	if h, ok := lookupEnv("HOME"); ok && filepath.IsAbs(h) {
		return append(dirs, filepath.Join(h, ".config", "rootfsd"))
	}
	return dirs
}

// Load reads every layer. A missing file is skipped; an unreadable or
// invalid one is an error.
func Load(opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Dirs == nil {
		opts.Dirs = DefaultDirs(opts.LookupEnv)
	}
	c := &Config{values: map[string]*Value{}}
	for _, k := range Keys() {
		c.values[k.Name] = &Value{Key: k.Name, Value: k.Default, Source: SourceDefault}
	}
	var files []string
	for _, d := range opts.Dirs {
		files = append(files, filepath.Join(d, "config.toml"))
	}
	if f, ok := opts.LookupEnv("ROOTFSD_CONFIG"); ok && f != "" {
		files = append(files, f)
	}
	for _, f := range files {
		data, err := readFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.loadFile(f, data); err != nil {
			return nil, err
		}
		c.files = append(c.files, f)
	}
	for _, k := range Keys() {
		v, ok := opts.LookupEnv(k.Env)
		if !ok || v == "" {
			continue
		}
		val, err := parseEnv(k, v)
		if err != nil {
			return nil, err
		}
		c.set(k.Name, val, SourceEnv, k.Env)
	}
	return c, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

func (c *Config) set(name string, v any, src Source, origin string) {
	cur := c.values[name]
	next := &Value{Key: name, Value: v, Source: src, Origin: origin}
	if cur.Source != SourceDefault {
		next.Overrides = append(slices.Clone(cur.Overrides), cur.Origin)
	}
	c.values[name] = next
}

// SetFlag records a value given on the command line.
func (c *Config) SetFlag(name string, v any, flag string) {
	if _, ok := c.values[name]; ok {
		c.set(name, v, SourceFlag, "--"+flag)
	}
}

// Get returns the effective value of a key.
func (c *Config) Get(name string) (Value, bool) {
	v, ok := c.values[name]
	if !ok {
		return Value{}, false
	}
	return *v, true
}

// String returns a string key's value ("" for another type).
func (c *Config) String(name string) string {
	v, _ := c.Get(name)
	s, _ := v.Value.(string)
	return s
}

// Bool returns a bool key's value.
func (c *Config) Bool(name string) bool {
	v, _ := c.Get(name)
	b, _ := v.Value.(bool)
	return b
}

// List returns a list key's value.
func (c *Config) List(name string) []string {
	v, _ := c.Get(name)
	l, _ := v.Value.([]string)
	return slices.Clone(l)
}

// Values returns every key's effective value, in Keys order.
func (c *Config) Values() []Value {
	var out []Value
	for _, k := range Keys() {
		out = append(out, *c.values[k.Name])
	}
	return out
}

// Files lists the configuration files that were read, lowest first.
func (c *Config) Files() []string { return slices.Clone(c.files) }

// Format renders a value for a table.
func Format(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ",")
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
