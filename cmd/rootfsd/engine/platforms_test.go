package engine

import (
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestPlanPlatforms(t *testing.T) {
	two := []Platform{{Request: repo.Request{Arch: "amd64"}}, {Request: repo.Request{Arch: "arm64"}}}
	type sub struct {
		Arch    string
		Outputs []string
		Tag     string
	}
	type plan struct {
		Subs    []sub
		Shared  []string
		HostTag string
	}
	cases := []struct {
		name    string
		req     BuildRequest
		want    plan
		wantErr string
	}{
		{"index and per-arch", BuildRequest{Platforms: two, Outputs: []string{"oci:out", "tar:r-{arch}.tar", "docker://h/x:1"}},
			plan{Subs: []sub{{"amd64", []string{"tar:r-amd64.tar"}, ""}, {"arm64", []string{"tar:r-arm64.tar"}, ""}}, Shared: []string{"oci:out", "docker://h/x:1"}}, ""},
		{"tag per arch", BuildRequest{Platforms: two, Tag: "localhost/a:{arch}"},
			plan{Subs: []sub{{"amd64", nil, "localhost/a:amd64"}, {"arm64", nil, "localhost/a:arm64"}}}, ""},
		{"host tag", BuildRequest{Platforms: two, Tag: "localhost/a:1", Outputs: []string{"oci-archive:i.tar"}},
			plan{Subs: []sub{{"amd64", nil, ""}, {"arm64", nil, ""}}, Shared: []string{"oci-archive:i.tar"}, HostTag: "localhost/a:1"}, ""},
		{"docker-archive", BuildRequest{Platforms: two, Outputs: []string{"docker-archive:d.tar"}}, plan{}, "a docker archive holds no image index"},
		{"dir", BuildRequest{Platforms: two, Outputs: []string{"dir:root"}}, plan{}, "put {arch} in the name"},
		{"nothing", BuildRequest{Platforms: two}, plan{}, "nothing to write"},
		{"twice", BuildRequest{Platforms: []Platform{{Request: repo.Request{Arch: "arm64"}}, {Lock: &repo.Lock{Plan: repo.Plan{Arch: "aarch64"}}}}, Outputs: []string{"oci:o"}}, plan{}, "listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pp, err := planPlatforms(tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := plan{HostTag: pp.hostTag}
			for i, s := range pp.subs {
				got.Subs = append(got.Subs, sub{pp.arches[i], s.Outputs, s.Tag})
				if len(s.Platforms) != 0 || s.Request.Arch != tc.req.Platforms[i].Request.Arch {
					t.Errorf("sub %d: %+v", i, s)
				}
			}
			for _, o := range pp.shared {
				got.Shared = append(got.Shared, o.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckScripts(t *testing.T) {
	native := map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "i386", "ppc64le": "ppc64el"}[runtime.GOARCH]
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	if native != "" {
		if err := checkScripts(BuildRequest{Scripts: true, Request: repo.Request{Arch: native}}); err != nil {
			t.Errorf("native %s: %v", native, err)
		}
	}
	if err := checkScripts(BuildRequest{Request: repo.Request{Arch: foreign}}); err != nil {
		t.Errorf("foreign without scripts: %v", err)
	}
	err := checkScripts(BuildRequest{Scripts: true, Lock: &repo.Lock{Plan: repo.Plan{Arch: foreign}}})
	if err == nil || !strings.Contains(err.Error(), "--scripts with --arch "+foreign) {
		t.Errorf("foreign with scripts: %v", err)
	}
}
