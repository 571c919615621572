package apk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fixtureRepos(t testing.TB, rels ...string) []*Repository {
	t.Helper()
	var repos []*Repository
	for _, rel := range rels {
		dir, arch, _ := strings.Cut(rel, "/x86_64")
		if arch != "" {
			t.Fatalf("bad rel %q", rel)
		}
		repos = append(repos, &Repository{URL: "http://fixtures/" + dir, Arch: "x86_64", Name: rel, Index: fixtureIndex(t, rel)})
	}
	return repos
}

func goals(world ...string) []Goal {
	var gs []Goal
	for _, w := range world {
		d, err := ParseDep(w)
		if err != nil {
			panic(err)
		}
		gs = append(gs, Goal{Dep: d, Reason: "requested"})
	}
	return gs
}

func resolveIDs(t *testing.T, repos []*Repository, world ...string) []string {
	t.Helper()
	r, err := NewResolver(repos)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve(goals(world...))
	if err != nil {
		t.Fatalf("resolve %v: %v", world, err)
	}
	checkOrder(t, sol)
	ids := make([]string, len(sol.Packages))
	for i, p := range sol.Packages {
		ids[i] = p.Package.ID()
	}
	return ids
}

// checkOrder verifies that every package comes after what it depends on,
// except inside dependency cycles.
func checkOrder(t *testing.T, sol *Solution) {
	t.Helper()
	pos := map[string]int{}
	for i, p := range sol.Packages {
		pos[p.Package.Name] = i
	}
	deps := map[string][]string{}
	for _, p := range sol.Packages {
		deps[p.Package.Name] = p.Depends
	}
	reaches := func(from, to string) bool {
		seen := map[string]bool{}
		var walk func(string) bool
		walk = func(n string) bool {
			if n == to {
				return true
			}
			if seen[n] {
				return false
			}
			seen[n] = true
			for _, d := range deps[n] {
				if walk(d) {
					return true
				}
			}
			return false
		}
		return walk(from)
	}
	for i, p := range sol.Packages {
		for _, d := range p.Depends {
			j, ok := pos[d]
			if !ok {
				t.Errorf("%s depends on %s, which is not in the solution", p.Package.Name, d)
				continue
			}
			if j > i && !reaches(d, p.Package.Name) {
				t.Errorf("%s (position %d) before its dependency %s (position %d)", p.Package.Name, i, d, j)
			}
		}
	}
}

func names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = nameOf(id)
	}
	return out
}

// nameOf strips "-<version>-r<n>" from a package ID.
func nameOf(id string) string {
	i := strings.LastIndex(id, "-r")
	j := strings.LastIndex(id[:i], "-")
	return id[:j]
}

const isoRepo = "v3.19.1-iso/apks/x86_64"

var minirootfsWorld = []string{"alpine-baselayout", "alpine-keys", "apk-tools", "busybox", "libc-utils"}

// The closures of the fixtures README, "Packages and closures".
func TestResolveFixtureClosures(t *testing.T) {
	minirootfs15 := []string{"alpine-baselayout", "alpine-baselayout-data", "alpine-keys", "apk-tools", "busybox",
		"busybox-binsh", "ca-certificates-bundle", "libc-utils", "libcrypto3", "libssl3", "musl", "musl-utils",
		"scanelf", "ssl_client", "zlib"}
	for _, tc := range []struct {
		name  string
		repos []string
		world []string
		want  []string // IDs; or names when wantNames
		names bool
	}{
		{"iso alpine-base", []string{isoRepo}, []string{"alpine-base"}, []string{
			"alpine-base-3.19.1-r0", "alpine-baselayout-3.4.3-r2", "alpine-baselayout-data-3.4.3-r2",
			"alpine-conf-3.17.2-r0", "alpine-keys-2.4-r1", "alpine-release-3.19.1-r0", "apk-tools-2.14.0-r5",
			"busybox-1.36.1-r15", "busybox-binsh-1.36.1-r15", "busybox-mdev-openrc-1.36.1-r15",
			"busybox-openrc-1.36.1-r15", "busybox-suid-1.36.1-r15", "ca-certificates-bundle-20230506-r0",
			"ifupdown-ng-0.12.1-r4", "libc-utils-0.7.2-r5", "libcap2-2.69-r1", "libcrypto3-3.1.4-r5",
			"libssl3-3.1.4-r5", "mdev-conf-4.6-r0", "musl-1.2.4_git20230717-r4", "musl-utils-1.2.4_git20230717-r4",
			"openrc-0.52.1-r2", "scanelf-1.3.7-r2", "ssl_client-1.36.1-r15", "zlib-1.3.1-r0"}, false},
		{"iso minirootfs world", []string{isoRepo}, minirootfsWorld, minirootfs15, true},
		{"main alpine-base", []string{"v3.19/main/x86_64"}, []string{"alpine-base"}, []string{
			"alpine-base-3.19.2-r0", "alpine-baselayout-3.4.3-r2", "alpine-baselayout-data-3.4.3-r2",
			"alpine-conf-3.17.2-r0", "alpine-keys-2.4-r1", "alpine-release-3.19.2-r0", "apk-tools-2.14.4-r0",
			"busybox-1.36.1-r19", "busybox-binsh-1.36.1-r19", "busybox-mdev-openrc-1.36.1-r19",
			"busybox-openrc-1.36.1-r19", "busybox-suid-1.36.1-r19", "ca-certificates-bundle-20240226-r0",
			"ifupdown-ng-0.12.1-r4", "libc-utils-0.7.2-r5", "libcap2-2.69-r1", "libcrypto3-3.1.5-r0",
			"libssl3-3.1.5-r0", "mdev-conf-4.6-r0", "musl-1.2.4_git20230717-r4", "musl-utils-1.2.4_git20230717-r4",
			"openrc-0.52.1-r2", "scanelf-1.3.7-r2", "ssl_client-1.36.1-r19", "zlib-1.3.1-r0"}, false},
		{"main minirootfs world", []string{"v3.19/main/x86_64"}, minirootfsWorld, []string{
			"alpine-baselayout-3.4.3-r2", "alpine-baselayout-data-3.4.3-r2", "alpine-keys-2.4-r1",
			"apk-tools-2.14.4-r0", "busybox-1.36.1-r19", "busybox-binsh-1.36.1-r19",
			"ca-certificates-bundle-20240226-r0", "libc-utils-0.7.2-r5", "libcrypto3-3.1.5-r0", "libssl3-3.1.5-r0",
			"musl-1.2.4_git20230717-r4", "musl-utils-1.2.4_git20230717-r4", "scanelf-1.3.7-r2",
			"ssl_client-1.36.1-r19", "zlib-1.3.1-r0"}, false},
		{"main jq", []string{"v3.19/main/x86_64"}, []string{"jq"}, []string{
			"jq-1.7.1-r0", "musl-1.2.4_git20230717-r4", "oniguruma-6.9.9-r0"}, false},
		{"main libc-utils", []string{"v3.19/main/x86_64"}, []string{"libc-utils"}, []string{
			"libc-utils-0.7.2-r5", "musl-1.2.4_git20230717-r4", "musl-utils-1.2.4_git20230717-r4", "scanelf-1.3.7-r2"}, false},
		{"main e2fsprogs", []string{"v3.19/main/x86_64"}, []string{"e2fsprogs"}, []string{
			"e2fsprogs-1.47.0-r5", "e2fsprogs-libs-1.47.0-r5", "libblkid-2.39.3-r0", "libcom_err-1.47.0-r5",
			"libuuid-2.39.3-r0", "musl-1.2.4_git20230717-r4"}, false},
		{"main zlib keys data", []string{"v3.19/main/x86_64"}, []string{"zlib", "alpine-keys", "alpine-baselayout-data"}, []string{
			"alpine-baselayout-data-3.4.3-r2", "alpine-keys-2.4-r1", "musl-1.2.4_git20230717-r4", "zlib-1.3.1-r0"}, false},
		{"main+community neovim", []string{"v3.19/main/x86_64", "v3.19/community/x86_64"}, []string{"neovim"}, []string{
			"libgcc-13.2.1_git20231014-r0", "libintl-0.22.3-r0", "libluv-1.45.0.0-r0", "libtermkey-0.22-r1",
			"libuv-1.47.0-r0", "libvterm-0.3.3-r0", "luajit-2.1_p20230410-r3", "msgpack-c-6.0.0-r0",
			"musl-1.2.4_git20230717-r4", "neovim-0.9.4-r0", "tree-sitter-0.20.10-r1", "unibilium-2.1.1-r0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolveIDs(t, fixtureRepos(t, tc.repos...), tc.world...)
			if tc.names {
				got = names(got)
			}
			if diff := cmp.Diff(tc.want, got, cmpSortStrings); diff != "" {
				t.Errorf("closure of %v (-want +got):\n%s", tc.world, diff)
			}
		})
	}
}

func TestResolveNeovimRepositories(t *testing.T) {
	r, err := NewResolver(fixtureRepos(t, "v3.19/main/x86_64", "v3.19/community/x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve(goals("neovim"))
	if err != nil {
		t.Fatal(err)
	}
	community := 0
	for _, p := range sol.Packages {
		if p.Repository.Name == "v3.19/community/x86_64" {
			community++
		}
	}
	if community != 7 {
		t.Errorf("%d packages from community, want 7", community)
	}
}

// Provider priorities decide the virtual names of v3.19 main.
func TestResolveProviderPriority(t *testing.T) {
	repos := fixtureRepos(t, "v3.19/main/x86_64")
	for _, tc := range []struct {
		world []string
		want  string // package that must be present
		not   string // package that must be absent
	}{
		{[]string{"ifupdown-any"}, "ifupdown-ng", "busybox-ifupdown"},
		{[]string{"/bin/sh"}, "busybox-binsh", "dash-binsh"},
		{[]string{"dash-binsh", "/bin/sh"}, "dash-binsh", "busybox-binsh"},
		{[]string{"busybox-ifupdown", "ifupdown-any"}, "busybox-ifupdown", "ifupdown-ng"},
	} {
		got := names(resolveIDs(t, repos, tc.world...))
		if !contains(got, tc.want) || contains(got, tc.not) {
			t.Errorf("%v resolved to %v: want %s and not %s", tc.world, got, tc.want, tc.not)
		}
	}
}

func TestResolveReasonsAndPlanFields(t *testing.T) {
	r, err := NewResolver(fixtureRepos(t, isoRepo))
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve(goals(minirootfsWorld...))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, p := range sol.Packages {
		reasons[p.Package.Name] = p.Reason
	}
	for name, want := range map[string]string{
		"busybox":       "requested",
		"musl":          "depends of apk-tools (musl>=1.2.3_git20230424)",
		"busybox-binsh": "depends of alpine-baselayout (/bin/sh)",
		"ssl_client":    "install_if (busybox=1.36.1-r15 libssl3)",
	} {
		if reasons[name] != want {
			t.Errorf("reason of %s = %q, want %q", name, reasons[name], want)
		}
	}
	bb := sol.Find("busybox")
	if diff := cmp.Diff([]string{"musl"}, bb.Depends); diff != "" {
		t.Errorf("busybox depends (-want +got):\n%s", diff)
	}
	// apk installs the packages in this order (the golden scripts.tar
	// lists busybox's scripts before alpine-baselayout's).
	var order []string
	for _, p := range sol.Packages {
		order = append(order, p.Package.Name)
	}
	if i, j := indexOf(order, "busybox"), indexOf(order, "alpine-baselayout"); i > j {
		t.Errorf("busybox at %d after alpine-baselayout at %d: %v", i, j, order)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
