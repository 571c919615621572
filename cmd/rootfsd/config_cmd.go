package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/config"
	"github.com/rootfsd/rootfsd/repo"
)

// requestCommands take the build.* keys as flag defaults; other commands
// with a --distro (check) mean something else by it.
var requestCommands = map[string]bool{"resolve": true, "lock": true, "show": true, "build": true, "init": true}

// applyConfig loads the configuration layers and sets every flag of the
// running command that was not given from them: files < environment <
// flags. It runs before every command.
func (g *globals) applyConfig(c *cobra.Command) error {
	cfg, err := config.Load(config.Options{})
	if err != nil {
		return usageError{err}
	}
	fromLockOrSpec := c.Flags().Changed("lock") || c.Flags().Changed("file")
	keys := map[string]config.Key{}
	for _, k := range config.Keys() {
		keys[k.Name] = k
	}
	for _, v := range cfg.Values() {
		k := keys[v.Key]
		if v.Source == config.SourceDefault || k.Flag == "" {
			continue
		}
		if strings.HasPrefix(k.Name, "build.") && (!requestCommands[c.Name()] || fromLockOrSpec) {
			continue
		}
		fl := c.Flag(k.Flag)
		if fl == nil || fl.Changed {
			continue
		}
		if err := setFlag(fl, v.Value); err != nil {
			return usageError{fmt.Errorf("%s (from %s): %w", k.Name, v.Origin, err)}
		}
	}
	return nil
}

// setFlag sets a flag's value without marking it given on the command
// line, so that a spec file still overrides configuration.
func setFlag(fl *pflag.Flag, v any) error {
	switch x := v.(type) {
	case string:
		return fl.Value.Set(x)
	case bool:
		return fl.Value.Set(strconv.FormatBool(x))
	case []string:
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			return sv.Replace(x)
		}
		return fl.Value.Set(strings.Join(x, ","))
	}
	return fmt.Errorf("unsupported value %v", v)
}

func newConfigCmd(g *globals) *cobra.Command {
	var keys bool
	var distro, arch string
	c := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration and where each value comes from",
		Long: `config prints every setting rootfsd uses and the layer it came from. Layers,
lowest first:

  default                        built into rootfsd
  /usr/share/rootfsd/config.toml what a distribution package ships
  /etc/rootfsd/config.toml       the machine's administrator
  $XDG_CONFIG_HOME/rootfsd/config.toml (~/.config/rootfsd/config.toml)
  $ROOTFSD_CONFIG                a file named in the environment
  ROOTFSD_* environment variables (lists are comma-separated)
  command-line flags

The build.* keys are defaults for --distro, --arch, --variant, --components,
--with-recommends and --trim of resolve, lock, show, build and init; they do
not apply to spec files (-f) or locks, so that a spec builds the same for
everyone. Flags override the spec.
Unknown keys and wrong types are errors naming the file, line and closest key.

With --distro it also shows the mirrors that release would use and how they
were found (configured, or discovered from the host's apt sources or
debootstrap's scripts).

Example config.toml:

  mirror = "http://mirror.internal/debian"
  security-mirror = "http://mirror.internal/debian-security"
  [build]
  distro = "debian:12"
  trim = "minimal"`,
		Example: `  rootfsd config
  rootfsd config --format json
  rootfsd config --keys
  rootfsd --mirror http://127.0.0.1:3142/debian config --distro debian:12`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			if keys {
				return g.printKeys()
			}
			cfg, err := config.Load(config.Options{})
			if err != nil {
				return usageError{err}
			}
			for _, k := range config.Keys() {
				if fl := c.Flag(k.Flag); k.Flag != "" && fl != nil && fl.Changed {
					cfg.SetFlag(k.Name, flagValue(fl), k.Flag)
				}
			}
			return g.printConfig(cfg, distro, arch)
		},
	}
	c.Flags().BoolVar(&keys, "keys", false, "list every key with its environment variable, flag and meaning")
	c.Flags().StringVarP(&distro, "distro", "d", "", "also show the mirrors this release would use")
	c.Flags().StringVar(&arch, "arch", "amd64", "architecture for --distro's mirror discovery")
	return c
}

func flagValue(fl *pflag.Flag) any {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	if fl.Value.Type() == "bool" {
		b, _ := strconv.ParseBool(fl.Value.String())
		return b
	}
	return fl.Value.String()
}

// MirrorInfo is a release's mirrors and how they were found.
type MirrorInfo struct {
	Distro         string `json:"distro"`
	Mirror         string `json:"mirror,omitempty"`
	From           string `json:"from,omitempty"`
	SecurityMirror string `json:"securityMirror,omitempty"`
	SecurityFrom   string `json:"securityFrom,omitempty"`
	Error          string `json:"error,omitempty"`
}

func (g *globals) printConfig(cfg *config.Config, distro, arch string) error {
	var mi *MirrorInfo
	if distro != "" {
		d, err := repo.LookupDistro(distro)
		if err != nil {
			return usageError{err}
		}
		r, err := repo.Mirrors{Mirror: g.mirror, SecurityMirror: g.security}.Resolve(d, repo.DebianArch(arch))
		mi = &MirrorInfo{Distro: d.Name(), Mirror: r.Mirror, From: r.From, SecurityMirror: r.SecurityMirror, SecurityFrom: r.SecurityFrom}
		if err != nil {
			mi.Error = err.Error()
		}
	}
	if g.format == "json" {
		return writeJSON(g.stdout, struct {
			Files   []string       `json:"files"`
			Values  []config.Value `json:"values"`
			Mirrors *MirrorInfo    `json:"mirrors,omitempty"`
		}{Files: nonNilStrings(cfg.Files()), Values: cfg.Values(), Mirrors: mi})
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tFROM")
	for _, v := range cfg.Values() {
		from := string(v.Source)
		if v.Origin != "" {
			from += " " + v.Origin
		}
		if len(v.Overrides) > 0 {
			from += " (overrides " + strings.Join(v.Overrides, ", ") + ")"
		}
		val := config.Format(v.Value)
		if val == "" {
			val = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Key, val, from)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !g.quiet {
		files := cfg.Files()
		if len(files) == 0 {
			files = []string{"none (looked in " + strings.Join(config.DefaultDirs(os.LookupEnv), ", ") + ")"}
		}
		fmt.Fprintf(g.stdout, "config files: %s\n", strings.Join(files, ", "))
	}
	if mi != nil {
		if mi.Error != "" {
			fmt.Fprintf(g.stdout, "mirrors for %s: %s\n", mi.Distro, mi.Error)
		} else {
			fmt.Fprintf(g.stdout, "mirror for %s: %s (%s)\n", mi.Distro, mi.Mirror, mi.From)
			if mi.SecurityMirror != "" {
				fmt.Fprintf(g.stdout, "security mirror for %s: %s (%s)\n", mi.Distro, mi.SecurityMirror, mi.SecurityFrom)
			}
		}
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (g *globals) printKeys() error {
	keys := config.Keys()
	if g.format == "json" {
		return writeJSON(g.stdout, keys)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tENV\tFLAG\tMEANING")
	for _, k := range keys {
		flag := "-"
		if k.Flag != "" {
			flag = "--" + k.Flag
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.Type, k.Env, flag, k.Help)
	}
	return tw.Flush()
}
