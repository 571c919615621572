package image

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzMergeIndex feeds arbitrary index.json content of an existing layout
// to WriteOCI's merge: it must not panic, and when it accepts the file our
// entry comes last and our tag appears once.
func FuzzMergeIndex(f *testing.F) {
	for _, s := range []string{
		`{"schemaVersion":2,"manifests":[]}`,
		`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + emptyJSONHex + `","size":2,"annotations":{"org.opencontainers.image.ref.name":"t"}}]}`,
		`{"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"other"}},{}]}`,
		`[]`, `{`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	ours := []v1.Descriptor{{MediaType: v1.MediaTypeImageManifest, Digest: "sha256:" + emptyJSONHex, Size: 2, Annotations: map[string]string{v1.AnnotationRefName: "t"}}}
	f.Fuzz(func(t *testing.T, index []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), ociLayoutFile, 0o644)
		os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
		got, err := mergeIndex(dir, ours)
		if err != nil {
			return
		}
		if len(got) == 0 || got[len(got)-1].Digest != ours[0].Digest {
			t.Fatalf("our entry is not last: %+v", got)
		}
		n := 0
		for _, d := range got {
			if d.Annotations[v1.AnnotationRefName] == "t" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("tag t appears %d times", n)
		}
	})
}
