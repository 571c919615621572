package apk

import (
	"archive/tar"
	"bufio"
	"context"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readPackageFiles returns the content of the named entries of a fixture
// package.
func readPackageFiles(t *testing.T, rel string, names ...string) map[string][]byte {
	t.Helper()
	f, err := os.Open(fixture(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	_, err = ReadPackage(context.Background(), f, AllKeys(), Expect{}, Limits{}, func(hdr *tar.Header, r io.Reader) error {
		if contains(names, hdr.Name) {
			b, err := io.ReadAll(r)
			out[hdr.Name] = b
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The applet tables of the real busybox give the 304 paths Alpine lists in
// etc/busybox-paths.d/busybox; with bin/sh taken by busybox-binsh, the 303
// unowned links of the golden minirootfs.
func TestBusyboxApplets(t *testing.T) {
	files := readPackageFiles(t, isoRepo+"/busybox-1.36.1-r15.apk", "bin/busybox", "etc/busybox-paths.d/busybox")
	got, err := BusyboxApplets(files["bin/busybox"])
	if err != nil {
		t.Fatal(err)
	}
	want := parseBusyboxPaths(files["etc/busybox-paths.d/busybox"])
	if diff := cmp.Diff(want, got, cmpSortStrings); diff != "" {
		t.Errorf("applets (-paths.d +binary):\n%s", diff)
	}
	var golden []string
	f, err := os.Open(fixture(t, "golden/minirootfs-3.19.4-x86_64/tree.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) == 8 && c[1] == "l" && c[6] == "/bin/busybox" && c[7] == "-" {
			golden = append(golden, c[0])
		}
	}
	var links []string
	for _, p := range got {
		if p != "bin/sh" {
			links = append(links, p)
		}
	}
	sort.Strings(links)
	if len(golden) != 303 {
		t.Fatalf("golden tree has %d busybox links", len(golden))
	}
	if diff := cmp.Diff(golden, links); diff != "" {
		t.Errorf("links (-golden +got):\n%s", diff)
	}
}

func TestBusyboxAppletsNotBusybox(t *testing.T) {
	files := readPackageFiles(t, isoRepo+"/zlib-1.3.1-r0.apk", "lib/libz.so.1.3.1")
	if _, err := BusyboxApplets(files["lib/libz.so.1.3.1"]); err == nil {
		t.Error("zlib has busybox applets")
	}
}
