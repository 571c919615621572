package attacks_test

import (
	"archive/tar"
	"fmt"
	"testing"

	"github.com/rootfsd/rootfsd/repo"
)

// thirdPartyAPK is an extra repository signed by its own key, shipping a
// libz above the main repository's and a tool that needs it.
func thirdPartyAPK(t *testing.T) map[string][]byte {
	files, _ := apkRepo(t, "thirdparty", apkThirdParty(), apkNew,
		apkPkg{name: "libz", version: "9.9-r0", provides: "so:libz.so.1=1", signer: apkThirdParty(), entries: []apkEntry{
			{name: "lib/", typ: tar.TypeDir, mode: 0o755}, {name: "lib/libz.so.1", data: []byte("pwned libz")}}},
		apkPkg{name: "evil-z", version: "1.0-r0", provides: "so:libz.so.1=1", signer: apkThirdParty(), entries: []apkEntry{
			{name: "opt/", typ: tar.TypeDir, mode: 0o755}, {name: "opt/libz.so.1", data: []byte("pwned libz")}}},
		apkPkg{name: "spy", version: "1.0-r0", installIf: "app", signer: apkThirdParty(), entries: []apkEntry{
			{name: "etc/", typ: tar.TypeDir, mode: 0o755}, {name: "etc/spy", data: []byte("phone home")}}},
		apkPkg{name: "tool", version: "1.0-r0", depends: "so:libz.so.1", signer: apkThirdParty(), entries: []apkEntry{
			{name: "usr/", typ: tar.TypeDir, mode: 0o755}, {name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
			{name: "usr/bin/tool", data: []byte("tool"), mode: 0o755}}})
	return files
}

// TestAttackAPKPolicy: a third-party repository trying to override a
// package of the main repository.
func TestAttackAPKPolicy(t *testing.T) {
	mainFiles, _ := apkRepo(t, mainDir, apkArchive(), apkNew, appPkgs("1.1-r0")...)
	mirror := merge(mainFiles, thirdPartyAPK(t))
	env := func(t *testing.T, tag string) (*apkEnv, repo.Request) {
		e := newAPKEnv(t, mirror, apkArchive().keyring(t), mainDir)
		req := apkRequest("app", "tool")
		// Configured, not in the request: FetchPackage only knows the
		// backend's repositories' keys (see the report).
		e.b.Repositories = append(e.b.Repositories, repo.Source{URL: e.proxy.URL + "/thirdparty", SignedBy: apkThirdParty().keyFile(t), Tag: tag})
		if tag != "" {
			req.Packages = []string{"app", "tool@" + tag}
		}
		return e, req
	}
	runAttacks(t, "apk", []attack{
		{class: "third-party override", name: "tagged third-party repository ships libz 9.9", defence: "apk tag pinning: a tagged repository serves only what is asked for with @tag",
			run: func(t *testing.T) (string, error) {
				e, req := env(t, "extra")
				plan, tree, err := e.build(t, req)
				if err != nil {
					return "", err
				}
				libz := plan.Find("libz")
				if libz == nil || libz.Version != "1.3-r0" {
					t.Fatalf("libz in the plan: %+v", libz)
				}
				if got := readTree(t, tree, "lib/libz.so.1"); got != "libz 1.3" {
					t.Errorf("installed libz is %q", got)
				}
				return fmt.Sprintf("neutralised: plan keeps libz %s from %s", libz.Version, libz.Suite), nil
			}},
		{class: "third-party override", name: "untagged third-party repository ships libz 9.9", defence: "source policy: an extra repository with its own key cannot replace a name the trusted repositories serve",
			run: func(t *testing.T) (string, error) {
				e, req := env(t, "")
				plan, tree, err := e.build(t, req)
				if err != nil {
					return "", err
				}
				libz := plan.Find("libz")
				if libz == nil || libz.Version != "1.3-r0" || plan.Find("evil-z") != nil || plan.Find("spy") != nil {
					t.Fatalf("libz in the plan: %+v; evil-z %+v; spy %+v", libz, plan.Find("evil-z"), plan.Find("spy"))
				}
				if got := readTree(t, tree, "lib/libz.so.1"); got != "libz 1.3" {
					t.Errorf("installed libz is %q", got)
				}
				return fmt.Sprintf("neutralised: plan keeps libz %s from %s; tool from the extra repository", libz.Version, libz.Suite), nil
			}},
		{class: "third-party override", name: "untagged third-party package with install_if: app", defence: "source policy: third-party install_if rules only follow the repository's own packages",
			run: func(t *testing.T) (string, error) {
				e, req := env(t, "")
				req.Packages = []string{"app"}
				plan, err := e.b.Resolve(ctx(t), req)
				if err != nil {
					return "", err
				}
				if plan.Find("spy") != nil {
					t.Fatalf("spy was pulled in: %+v", plan.Packages)
				}
				return fmt.Sprintf("neutralised: %d packages, no spy", len(plan.Packages)), nil
			}},
		{class: "third-party override", name: "libz@extra asked for by the user", defence: "an explicit @tag is the user's decision",
			run: func(t *testing.T) (string, error) {
				e, req := env(t, "extra")
				req.Packages = append(req.Packages, "libz@extra")
				plan, err := e.b.Resolve(ctx(t), req)
				if err != nil {
					return "", err
				}
				if libz := plan.Find("libz"); libz == nil || libz.Version != "9.9-r0" {
					t.Fatalf("pinned libz: %+v", libz)
				}
				return "accepted: pinned, libz 9.9-r0 from @extra", nil
			}},
	})
}
