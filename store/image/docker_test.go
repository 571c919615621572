package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteDockerArchive(t *testing.T) {
	ctx := context.Background()
	img, path, diffID := newTestImage(t, Options{})
	out := filepath.Join(t.TempDir(), "docker.tar")
	if err := img.WriteDockerArchive(ctx, out, "localhost/test:1", "localhost/test:latest", "registry.example:5000/a/b"); err != nil {
		t.Fatal(err)
	}
	members := readTar(t, out)
	var mf []dockerManifestItem
	if err := jsonUnmarshal(members["manifest.json"].data, &mf); err != nil {
		t.Fatal(err)
	}
	cfgName := strings.TrimPrefix(img.ID(), "sha256:") + ".json"
	want := []dockerManifestItem{{Config: cfgName, RepoTags: []string{"localhost/test:1", "localhost/test:latest", "registry.example:5000/a/b:latest"}, Layers: []string{diffID + ".tar"}}}
	if diff := cmp.Diff(want, mf); diff != "" {
		t.Errorf("manifest.json (-want +got):\n%s", diff)
	}
	if !bytes.Equal(members[cfgName].data, img.Config()) {
		t.Error("config differs")
	}
	layer, _ := os.ReadFile(path)
	if !bytes.Equal(members[diffID+".tar"].data, layer) {
		t.Error("layer tar differs from the input")
	}
	var repos map[string]map[string]string
	if err := jsonUnmarshal(members["repositories"].data, &repos); err != nil {
		t.Fatal(err)
	}
	top := repos["localhost/test"]["1"]
	if len(top) != 64 || repos["localhost/test"]["latest"] != top || repos["registry.example:5000/a/b"]["latest"] != top {
		t.Errorf("repositories %v", repos)
	}
	link := members[top+"/layer.tar"]
	if link.hdr == nil || link.hdr.Typeflag != tar.TypeSymlink || link.hdr.Linkname != "../"+diffID+".tar" {
		t.Errorf("legacy layer link %+v", link.hdr)
	}
	if string(members[top+"/VERSION"].data) != "1.0" || !bytes.Contains(members[top+"/json"].data, []byte(`"id":"`+top+`"`)) {
		t.Error("legacy VERSION/json")
	}
	// No tags: still a valid archive, without repositories.
	bare := filepath.Join(t.TempDir(), "bare.tar")
	if err := img.WriteDockerArchive(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if _, ok := readTar(t, bare)["repositories"]; ok {
		t.Error("repositories written without tags")
	}
}

func TestSplitReference(t *testing.T) {
	tests := []struct {
		in, name, tag string
		ok            bool
	}{
		{"ca", "ca", "latest", true},
		{"localhost/ca:24.04", "localhost/ca", "24.04", true},
		{"127.0.0.1:5000/rootfsd/ca:v1", "127.0.0.1:5000/rootfsd/ca", "v1", true},
		{"127.0.0.1:5000/rootfsd/ca", "127.0.0.1:5000/rootfsd/ca", "latest", true},
		{"Registry.Example/a__b/c-d.e:T_1", "Registry.Example/a__b/c-d.e", "T_1", true},
		{"UPPER", "", "", false},
		{"a:b:c", "", "", false},
		{"a@sha256:" + strings.Repeat("0", 64), "", "", false},
		{"a:", "", "", false},
		{":tag", "", "", false},
		{"a//b", "", "", false},
		{"a:" + strings.Repeat("t", 129), "", "", false},
		{"-a", "", "", false},
	}
	for _, tc := range tests {
		name, tag, err := SplitReference(tc.in)
		if (err == nil) != tc.ok || name != tc.name || tag != tc.tag {
			t.Errorf("SplitReference(%q) = %q, %q, %v", tc.in, name, tag, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("SplitReference(%q): error %v does not wrap ErrInvalidName", tc.in, err)
		}
	}
	for _, tag := range []string{"latest", "localhost/ca:24.04", "a--b", "v1.0+build"} {
		if err := CheckTag(tag); err != nil {
			t.Errorf("CheckTag(%q): %v", tag, err)
		}
	}
	for _, tag := range []string{"", "a b", "/a", "a/", "a..b", "é"} {
		if err := CheckTag(tag); err == nil {
			t.Errorf("CheckTag(%q) accepted", tag)
		}
	}
}

func FuzzSplitReference(f *testing.F) {
	for _, s := range []string{"ca", "localhost/ca:24.04", "127.0.0.1:5000/x/y:z", "a@sha256:00", "a:b:c", "::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, tag, err := SplitReference(s)
		if err != nil {
			return
		}
		// What is accepted round-trips and is accepted again.
		n2, t2, err := SplitReference(name + ":" + tag)
		if err != nil || n2 != name || t2 != tag {
			t.Fatalf("%q -> %q %q -> %q %q %v", s, name, tag, n2, t2, err)
		}
		if strings.ContainsAny(name+tag, " \t\n@") {
			t.Fatalf("%q accepted with forbidden characters", s)
		}
	})
}
