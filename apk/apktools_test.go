package apk

import (
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/apktools holds the solver tests of apk-tools v2.14.4 (test/*.test
// and the *.repo indexes they use; GPL-2.0-only, see its README). Each test
// names repositories ("--test-repo [tag:]file"), an `apk add` command
// line, and the expected outcome: the packages installed, in order, or an
// error. The tests that start from an installed database or use options
// rootfsd has no equivalent for are skipped.

var installingLine = regexp.MustCompile(`^\(\d+/\d+\) Installing (\S+) \((\S+)\)`)

// apktoolsRepo reads a test index; the tests use some malformed C: fields,
// which are replaced by well-formed checksums of their text.
func apktoolsRepo(t *testing.T, arg string) *Repository {
	tag, file, ok := strings.Cut(arg, ":")
	if !ok {
		tag, file = "", arg
	}
	data, err := os.ReadFile(filepath.Join("testdata", "apktools", file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	// Records without a C: field get one.
	var recs []string
	for _, rec := range strings.Split(text, "\n\n") {
		if !strings.HasPrefix(rec, "C:") && strings.Contains(rec, "P:") {
			rec = "C:missing " + strings.TrimSpace(strings.ReplaceAll(rec, "\n", " ")) + "\n" + strings.TrimLeft(rec, "\n")
		}
		recs = append(recs, rec)
	}
	lines := strings.Split(strings.Join(recs, "\n\n"), "\n")
	for i, l := range lines {
		if c, ok := strings.CutPrefix(l, "C:"); ok && !validChecksum(c) {
			// apk-tools decodes leniently: non-zero padding bits are
			// ignored, so "...E=" and "...F=" can be one package.
			if b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c, "Q1")); err == nil && len(b) == 20 {
				lines[i] = "C:" + FormatQ1(b)
			} else {
				s := sha1.Sum([]byte(c))
				lines[i] = "C:" + FormatQ1(s[:])
			}
		}
	}
	pkgs, err := ParseIndex([]byte(strings.Join(lines, "\n")), Limits{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &Repository{URL: "test/" + file, Arch: "x86_64", Name: file, Tag: tag, Index: &Index{Packages: pkgs}}
}

func TestAPKToolsSolver(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "apktools", "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no apk-tools tests: %v", err)
	}
	ran := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		args, expect, _ := strings.Cut(string(data), "@EXPECT\n")
		var repos []*Repository
		var world []string
		skip := ""
		lines := strings.Split(strings.TrimPrefix(args, "@ARGS\n"), "\n")
		for i := 0; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			switch {
			case l == "":
			case strings.HasPrefix(l, "--test-repo !"):
				skip = l
			case strings.HasPrefix(l, "--test-repo "):
				repos = append(repos, apktoolsRepo(t, strings.TrimPrefix(l, "--test-repo ")))
			case strings.HasPrefix(l, "add "):
				world = strings.Fields(strings.TrimPrefix(l, "add "))
				for _, w := range world {
					if strings.HasPrefix(w, "-") {
						skip = l
					}
				}
			default:
				skip = l
			}
		}
		name := strings.TrimSuffix(filepath.Base(f), ".test")
		t.Run(name, func(t *testing.T) {
			if skip != "" || world == nil {
				t.Skipf("uses %q", skip)
			}
			ran++
			r, err := NewResolver(repos)
			if err != nil {
				t.Fatal(err)
			}
			sol, err := r.Resolve(goals(world...))
			if strings.HasPrefix(expect, "ERROR") {
				if err == nil {
					var got []string
					for _, p := range sol.Packages {
						got = append(got, p.Package.ID())
					}
					t.Fatalf("add %v: resolved to %v, apk-tools fails:\n%s", world, got, expect)
				}
				return
			}
			if err != nil {
				t.Fatalf("add %v: %v\napk-tools:\n%s", world, err, expect)
			}
			var want, got []string
			for _, l := range strings.Split(expect, "\n") {
				if m := installingLine.FindStringSubmatch(l); m != nil {
					want = append(want, m[1]+"-"+m[2])
				}
			}
			for _, p := range sol.Packages {
				// apk names a package installed from a tagged repository
				// name@tag.
				id := p.Package.Name
				if p.Repository.Tag != "" {
					id += "@" + p.Repository.Tag
				}
				got = append(got, id+"-"+p.Package.Version)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("add %v (-apk-tools +rootfsd):\n%s", world, diff)
			}
		})
	}
	if ran < 35 {
		t.Errorf("only %d apk-tools tests ran", ran)
	}
}
