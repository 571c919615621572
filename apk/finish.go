package apk

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/rootfsd/rootfsd/repo/fstree"
)

// FinishOptions describe what Finish writes besides the database.
type FinishOptions struct {
	// World is etc/apk/world: what was asked for.
	World []Dep
	// Arch is written to etc/apk/arch.
	Arch string
	// Repositories, when not empty, are written to etc/apk/repositories,
	// one "[@tag ]URL" a line.
	Repositories []string
	// ModTime is the mtime of the files written; zero is the Unix epoch.
	ModTime time.Time
}

// Finish runs the triggers of the installed packages (their built-in
// equivalents) and writes apk's state: lib/apk/db/{installed,scripts.tar,
// triggers,lock}, etc/apk/{world,arch[,repositories]} and var/cache/apk.
func (in *Installer) Finish(ctx context.Context, opts FinishOptions) error {
	if opts.Arch == "" {
		return fmt.Errorf("apk: finish: no architecture")
	}
	if err := in.runTriggers(ctx); err != nil {
		return err
	}
	installed, err := InstalledDB(in.pkgs)
	if err != nil {
		return err
	}
	dir := fstree.Attr{Mode: 0o755, ModTime: opts.ModTime}
	for _, d := range []string{"lib/apk/db", "etc/apk", "var/cache/apk"} {
		if err := in.Tree.MkdirAll(d, dir); err != nil {
			return fmt.Errorf("apk: finish: %w", err)
		}
	}
	files := []struct {
		name string
		data []byte
		mode uint32
	}{
		{"lib/apk/db/installed", installed, 0o644},
		{"lib/apk/db/scripts.tar", ScriptsTar(in.pkgs), 0o644},
		{"lib/apk/db/triggers", TriggersDB(in.pkgs), 0o644},
		{"lib/apk/db/lock", nil, 0o600},
		{"etc/apk/world", WorldFile(opts.World), 0o644},
		{"etc/apk/arch", []byte(opts.Arch + "\n"), 0o644},
	}
	if len(opts.Repositories) > 0 {
		files = append(files, struct {
			name string
			data []byte
			mode uint32
		}{"etc/apk/repositories", []byte(strings.Join(opts.Repositories, "\n") + "\n"), 0o644})
	}
	for _, f := range files {
		a := fstree.Attr{Mode: f.mode, Uname: "root", Gname: "root", ModTime: opts.ModTime}
		if err := in.Tree.WriteFile(f.name, f.data, a); err != nil {
			return fmt.Errorf("apk: finish: %w", err)
		}
	}
	return nil
}

// runTriggers fires, once, the trigger of every package whose globs match
// a directory of the installed packages: on a fresh root every directory
// is new, as apk-tools sees it after installing everything.
func (in *Installer) runTriggers(ctx context.Context) error {
	dirs := in.dirs()
	for _, ip := range in.pkgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if ip.File.Script("trigger") == nil || len(ip.File.Info.Triggers) == 0 {
			continue
		}
		var matched []string
		for _, glob := range ip.File.Info.Triggers {
			for _, d := range dirs {
				if ok, _ := path.Match(glob, d); ok {
					matched = append(matched, d)
				}
			}
		}
		if len(matched) == 0 {
			continue
		}
		if ip.Package.Name != "busybox" {
			in.notRun(ip, "trigger")
			continue
		}
		if err := in.busyboxTrigger(ip, matched); err != nil {
			return fmt.Errorf("apk: %s trigger: %w", ip.Package.ID(), err)
		}
	}
	return nil
}

// busyboxTrigger is busybox's .trigger: for the program directories,
// bbsuid --install, busybox-extras --install -s and busybox --install -s;
// for kernel module directories, depmod (not built in).
func (in *Installer) busyboxTrigger(ip *Installed, dirs []string) error {
	install := false
	for _, d := range dirs {
		if strings.HasPrefix(d, "/lib/modules/") {
			in.notRun(ip, "trigger (depmod "+strings.TrimPrefix(d, "/lib/modules/")+")")
		} else {
			install = true
		}
	}
	if !install {
		return nil
	}
	if in.exists("bin/bbsuid") {
		if err := in.bbsuidInstall(); err != nil {
			return err
		}
	}
	if in.exists("bin/busybox-extras") {
		if err := in.installApplets("bin/busybox-extras", "etc/busybox-paths.d/busybox-extras"); err != nil {
			return err
		}
	}
	return in.installApplets("bin/busybox", "etc/busybox-paths.d/busybox")
}

// dirs lists the rooted directories ("/usr/bin") the installed packages
// own, with their parents.
func (in *Installer) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, ip := range in.pkgs {
		for _, e := range ip.File.Entries {
			d := e.Header.Name
			if e.Header.Typeflag != '5' {
				d = path.Dir(d)
			}
			for d != "." && d != "" && !seen[d] {
				seen[d] = true
				out = append(out, "/"+d)
				d = path.Dir(d)
			}
		}
	}
	return out
}
