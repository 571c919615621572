package apk

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The facts of the fixtures README, "Indexes" table.
func TestReadIndexFixtures(t *testing.T) {
	type facts struct {
		Signer      string
		Description string
		Records     int
		Names       int
		Date        string
	}
	for _, tc := range []struct {
		rel  string
		arch string
		want facts
	}{
		{"v3.19/main/x86_64", "x86_64", facts{"6165ee59", "v3.19.1-643-gec825d20535", 5443, 5443, "2024-06-18 15:36"}},
		{"v3.19/community/x86_64", "x86_64", facts{"6165ee59", "v3.19.1-642-g9e5b575ce97", 17587, 17582, "2024-06-18 15:25"}},
		{"v3.19.1-iso/apks/x86_64", "x86_64", facts{"6165ee59", "3.19.1", 100, 100, "2023-12-27 12:33"}},
		{"v3.17/main/aarch64", "aarch64", facts{"616ae350", "v3.17.3-216-g54a39ace82a", 5004, 5004, "2023-05-27 07:49"}},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			keys, err := DefaultKeyring(tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := ReadIndex(readFixture(t, tc.rel+"/APKINDEX.tar.gz"), keys, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, p := range idx.Packages {
				names[p.Name] = true
			}
			got := facts{
				Signer:      keyID(idx.Signer),
				Description: idx.Description,
				Records:     len(idx.Packages),
				Names:       len(names),
				Date:        idx.Date.Format("2006-01-02 15:04"),
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("index facts (-want +got):\n%s", diff)
			}
			if idx.Date.Location() != time.UTC {
				t.Errorf("Date not in UTC")
			}
		})
	}
}

// keyID extracts the 8-hex id from "<list address>-<id>.rsa.pub".
func keyID(name string) string {
	name = strings.TrimSuffix(name, ".rsa.pub")
	return name[strings.LastIndexByte(name, '-')+1:]
}

func TestIndexFieldCounts(t *testing.T) {
	idx := fixtureIndex(t, "v3.19/main/x86_64")
	got := map[string]int{}
	for _, p := range idx.Packages {
		for _, f := range []struct {
			k   string
			set bool
		}{
			{"D", len(p.Depends) > 0}, {"p", len(p.Provides) > 0}, {"i", len(p.InstallIf) > 0},
			{"k", p.ProviderPriority != 0}, {"m", p.Maintainer != ""},
			{"CPVASITULotc", p.Checksum != "" && p.Name != "" && p.Version != "" && p.Arch != "" &&
				p.Size > 0 && p.InstalledSize >= 0 && p.Description != "" && p.URL != "" &&
				p.License != "" && p.Origin != "" && p.BuildTime > 0 && p.Commit != ""},
		} {
			if f.set {
				got[f.k]++
			}
		}
		if len(p.Extra) != 0 {
			t.Errorf("%s: unexpected extra fields %v", p.ID(), p.Extra)
		}
	}
	want := map[string]int{"D": 3620, "p": 2258, "i": 1753, "k": 272, "m": 5401, "CPVASITULotc": 5443}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field counts (-want +got):\n%s", diff)
	}
}

func TestIndexRecordDetails(t *testing.T) {
	idx := fixtureIndex(t, "v3.19.1-iso/apks/x86_64")
	var got *Package
	for i := range idx.Packages {
		if idx.Packages[i].Name == "ssl_client" {
			got = &idx.Packages[i]
		}
	}
	if got == nil {
		t.Fatal("ssl_client not in the ISO index")
	}
	want := Package{
		Checksum: "Q1ghpY+ugZuaNDPDKibm/Uuw1UGr8=", Name: "ssl_client", Version: "1.36.1-r15", Arch: "x86_64",
		Size: 4666, License: "GPL-2.0-only", Origin: "busybox",
		Depends: []Dep{
			{Name: "so:libc.musl-x86_64.so.1", Op: OpAny},
			{Name: "so:libcrypto.so.3", Op: OpAny},
			{Name: "so:libssl.so.3", Op: OpAny},
		},
		Provides:  []Dep{{Name: "cmd:ssl_client", Op: OpEqual, Version: "1.36.1-r15"}},
		InstallIf: []Dep{{Name: "busybox", Op: OpEqual, Version: "1.36.1-r15"}, {Name: "libssl3", Op: OpAny}},
	}
	ignore := func(p Package) Package {
		p.InstalledSize, p.Description, p.URL, p.Maintainer, p.BuildTime, p.Commit = 0, "", "", "", 0, ""
		return p
	}
	if diff := cmp.Diff(want, ignore(*got)); diff != "" {
		t.Errorf("ssl_client record (-want +got):\n%s", diff)
	}
}

// Community lists five names twice: records are keyed by name and version.
func TestIndexDuplicateNames(t *testing.T) {
	idx := fixtureIndex(t, "v3.19/community/x86_64")
	count := map[string][]string{}
	for _, p := range idx.Packages {
		count[p.Name] = append(count[p.Name], p.Version)
	}
	var dups []string
	for n, vs := range count {
		if len(vs) == 2 && vs[0] != vs[1] {
			dups = append(dups, n)
		} else if len(vs) > 1 {
			t.Errorf("%s: versions %v", n, vs)
		}
	}
	want := []string{"dotnet-bash-completion", "dotnet-doc", "dotnet-host", "dotnet-zsh-completion", "netstandard21-targeting-pack"}
	if diff := cmp.Diff(want, dups, cmpSortStrings); diff != "" {
		t.Errorf("duplicated names (-want +got):\n%s", diff)
	}
}

// Every record of the upstream indexes renders back to its own text.
func TestIndexHeaderRoundTrip(t *testing.T) {
	for _, rel := range []string{"v3.19.1-iso/apks/x86_64", "v3.19/main/x86_64"} {
		idx := fixtureIndex(t, rel)
		var b strings.Builder
		for i := range idx.Packages {
			idx.Packages[i].AppendIndexHeader(&b)
			b.WriteByte('\n')
		}
		text := indexText(t, rel)
		if b.String() != text {
			got, want := strings.Split(b.String(), "\n"), strings.Split(text, "\n")
			for i := range want {
				if i >= len(got) || got[i] != want[i] {
					t.Fatalf("%s: line %d: got %q, want %q", rel, i+1, got[min(i, len(got)-1)], want[i])
				}
			}
			t.Fatalf("%s: rendered index differs in length", rel)
		}
	}
}
