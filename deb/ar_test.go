package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/deb/internal/debtest"
)

type arMember struct {
	Name string
	Size int64
	Data string // what was read; "-" when the test skipped reading
}

// readAr lists an archive, reading the content of every member whose index
// is not in skip.
func readAr(t testing.TB, b []byte, skip map[int]bool) ([]arMember, error) {
	ar, err := NewArReader(bytes.NewReader(b), 0)
	if err != nil {
		return nil, err
	}
	var out []arMember
	for i := 0; ; i++ {
		h, err := ar.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		m := arMember{Name: h.Name, Size: h.Size, Data: "-"}
		if !skip[i] {
			d, err := io.ReadAll(ar)
			if err != nil {
				return out, err
			}
			m.Data = string(d)
		}
		out = append(out, m)
	}
}

func TestArReader(t *testing.T) {
	b := debtest.Ar(
		debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.ArMember{Name: "odd", Data: []byte("abc")},
		debtest.ArMember{Name: "empty", Data: nil},
		debtest.ArMember{Name: "_extra/", Data: []byte("x")},
	)
	want := []arMember{{"debian-binary", 4, "2.0\n"}, {"odd", 3, "-"}, {"empty", 0, ""}, {"_extra", 1, "x"}}
	got, err := readAr(t, b, map[int]bool{1: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	// Some writers leave out the pad byte after the last member.
	got, err = readAr(t, b[:len(b)-1], map[int]bool{3: true})
	if err != nil || len(got) != 4 {
		t.Errorf("without the last pad: %v, %v", got, err)
	}
}

func TestArReaderErrors(t *testing.T) {
	good := debtest.Ar(debtest.ArMember{Name: "a", Data: []byte("hello")}, debtest.ArMember{Name: "b", Data: []byte("x")})
	header := func(name, size string) []byte {
		return []byte(fmt.Sprintf("!<arch>\n%-16s%-12d%-6d%-6d%-8o%-10s`\n", name, 0, 0, 0, 0o644, size))
	}
	many := []debtest.ArMember{}
	for i := 0; i <= arMaxMembers; i++ {
		many = append(many, debtest.ArMember{Name: fmt.Sprint("m", i)})
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"bad magic", []byte("!<arch>x"), ErrAr},
		{"thin archive", []byte("!<thin>\n"), ErrAr},
		{"cut header", good[:30], io.ErrUnexpectedEOF},
		{"cut content", good[:8+60+3], io.ErrUnexpectedEOF},
		{"cut in the second header", good[:8+60+6+10], io.ErrUnexpectedEOF},
		{"bad terminator", append(header("a", "0")[:66], 'x', '\n'), ErrAr},
		{"negative size", header("a", "-1"), ErrAr},
		{"hex size", header("a", "0x10"), ErrAr},
		{"plus size", header("a", "+1"), ErrAr},
		{"size too big", header("a", "9999999999"), ErrAr},
		{"symbol table", header("/", "0"), ErrAr},
		{"GNU long names", header("//", "0"), ErrAr},
		{"BSD long name", header("#1/20", "0"), ErrAr},
		{"space in name", header("a b", "0"), ErrAr},
		{"too many members", debtest.Ar(many...), ErrAr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAr(t, tc.b, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "ar: ") {
				t.Errorf("error %q lacks the ar: prefix", err)
			}
		})
	}
}

func TestArReaderMaxMember(t *testing.T) {
	b := debtest.Ar(debtest.ArMember{Name: "big", Data: make([]byte, 100)})
	ar, err := NewArReader(bytes.NewReader(b), 99)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ar.Next(); !errors.Is(err, ErrAr) {
		t.Fatalf("member over the limit: %v", err)
	}
	if _, err := ar.Next(); err == nil {
		t.Fatal("Next after an error succeeded")
	}
}

// TestArReaderBinutils reads an archive written by GNU ar, if installed.
func TestArReaderBinutils(t *testing.T) {
	if _, err := exec.LookPath("ar"); err != nil {
		t.Skip("no ar binary")
	}
	dir := t.TempDir()
	files := map[string]string{"debian-binary": "2.0\n", "control.tar.xz": "odd", "data.tar.zst": strings.Repeat("z", 1000)}
	args := []string{"rcD", filepath.Join(dir, "x.deb")}
	for _, n := range []string{"debian-binary", "control.tar.xz", "data.tar.zst"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(dir, n))
	}
	if out, err := exec.Command("ar", args...).CombinedOutput(); err != nil {
		t.Fatalf("ar: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.deb"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAr(t, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []arMember{{"debian-binary", 4, files["debian-binary"]}, {"control.tar.xz", 3, "odd"}, {"data.tar.zst", 1000, files["data.tar.zst"]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

func FuzzReadAr(f *testing.F) {
	f.Add(debtest.Ar(debtest.ArMember{Name: "debian-binary", Data: []byte("2.0\n")}, debtest.ArMember{Name: "x/", Data: []byte("abc")}))
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ar, err := NewArReader(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		var total int64
		for i := 0; ; i++ {
			h, err := ar.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrAr) {
					t.Fatalf("error %v is neither io.EOF nor ErrAr", err)
				}
				break
			}
			if h.Size < 0 || h.Size > 1<<20 || h.Name == "" || strings.ContainsAny(h.Name, "/ ") {
				t.Fatalf("bad header %+v", h)
			}
			if i%2 == 0 {
				n, _ := io.Copy(io.Discard, ar)
				if n > h.Size {
					t.Fatalf("read %d bytes of a %d-byte member", n, h.Size)
				}
				total += n
			}
			total += arHeaderSize
		}
		if total > int64(len(b)) {
			t.Fatalf("read %d bytes from %d", total, len(b))
		}
	})
}
