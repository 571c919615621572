package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/cmd/rootfsd/engine"
	"github.com/rootfsd/rootfsd/repo"
)

// fill sets every exported field of v (a pointer to a struct) to a
// non-zero value, so that a conversion that forgets a field shows.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 4 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1700000000, 0).UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString("x-" + strings.ToLower(v.Type().Name()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// The engine's build types and the API's mirror each other: every field
// survives the trip, including fields added to the engine later.
func TestBuildConversionsCoverEveryField(t *testing.T) {
	var req engine.BuildRequest
	fill(reflect.ValueOf(&req).Elem(), 0)
	// The overlay (local files) never goes to the daemon: such builds run
	// in-process (auto.Build) or fail (remote.Build).
	req.Overlay = nil
	// TreeCheck is a function of this process: a daemon's builds leave
	// the check to the client, which reads the output back.
	const inProcessReq = 1
	if d := cmp.Diff(req, buildFromAPI(buildToAPI(req))); d != "" {
		t.Errorf("BuildRequest lost fields through the API types (-want +got):\n%s", d)
	}
	if n, m := reflect.TypeOf(engine.BuildRequest{}).NumField()-1-inProcessReq, reflect.TypeOf(buildToAPI(req)).NumField(); n != m {
		t.Errorf("engine.BuildRequest has %d fields, api.BuildRequest %d: add the new ones to api (and the proto)", n, m)
	}
	var res engine.BuildResult
	fill(reflect.ValueOf(&res).Elem(), 0)
	// So are TreeCheck's findings (TreeFindings, TreeChecked).
	const inProcessRes = 2
	res.TreeFindings, res.TreeChecked = nil, false
	for _, p := range res.Platforms {
		p.TreeFindings, p.TreeChecked = nil, false
	}
	if d := cmp.Diff(&res, resultFromAPI(resultToAPI(&res))); d != "" {
		t.Errorf("BuildResult lost fields through the API types (-want +got):\n%s", d)
	}
	if n, m := reflect.TypeOf(engine.BuildResult{}).NumField()-inProcessRes, reflect.TypeOf(*resultToAPI(&res)).NumField(); n != m {
		t.Errorf("engine.BuildResult has %d fields, api.BuildResult %d: add the new ones to api (and the proto)", n, m)
	}
}

func TestAbsOutput(t *testing.T) {
	tests := map[string]bool{ // output -> made absolute
		"tar:x.tar": true, "dir:rootfs": true, "oci:out": true, "oci-archive:i.tar": true, "docker-archive:d.tar": true,
		"docker://localhost/x:1": false, "containers-storage": false, "tar:/abs.tar": false,
	}
	for in, changes := range tests {
		got := absOutput(in)
		if (got != in) != changes {
			t.Errorf("absOutput(%q) = %q", in, got)
		}
		if changes {
			_, p, _ := strings.Cut(got, ":")
			if !strings.HasPrefix(p, "/") {
				t.Errorf("absOutput(%q) = %q: not absolute", in, got)
			}
		}
	}
	req := absSources(repo.Request{Sources: []repo.Source{{URL: "http://127.0.0.1/x", SignedBy: "k.gpg"}, {URL: "u", SignedBy: "-----BEGIN PGP PUBLIC KEY BLOCK-----"}}})
	if !strings.HasPrefix(req.Sources[0].SignedBy, "/") || !strings.HasPrefix(req.Sources[1].SignedBy, "-----BEGIN") {
		t.Errorf("absSources: %+v", req.Sources)
	}
}

func TestParseAgeAndSize(t *testing.T) {
	ages := map[string]time.Duration{"": 0, "30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "1.5d": 36 * time.Hour}
	for in, want := range ages {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	sizes := map[string]int64{"": 0, "10G": 10 << 30, "500M": 500 << 20, "1KiB": 1024, "2048": 2048, "1.5G": 3 << 29}
	for in, want := range sizes {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "-1d", "-5G", "10Q"} {
		_, e1 := parseAge(bad)
		_, e2 := parseSize(bad)
		if e1 == nil && e2 == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
