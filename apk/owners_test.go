package apk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnerDatabase(t *testing.T) {
	db := OwnerDatabase()
	if !db.Match("lib/apk/db/installed") || db.Match("lib/apk/db/triggers") || db.Match("etc/apk/world") {
		t.Error("Match selects the wrong files")
	}
	installed := "C:Q1abc=\nP:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1x=\nR:libc.musl-x86_64.so.1\n\n" +
		"C:Q1def=\nP:busybox\nV:1.36.1-r15\nF:bin\nR:busybox\nF:etc\nR:securetty\nF:\nR:.top\n\n"
	got, err := db.Parse(map[string][]byte{"lib/apk/db/installed": []byte(installed)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"musl":    {"lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"},
		"busybox": {"bin/busybox", "etc/securetty", ".top"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
	if _, err := db.Parse(map[string][]byte{"lib/apk/db/installed": []byte("F:bin\nR:sh\n")}); err == nil || !strings.Contains(err.Error(), "outside a package record") {
		t.Errorf("a file before any package: %v", err)
	}
}
