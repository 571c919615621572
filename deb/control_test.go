package deb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseControl(t *testing.T) {
	in := "Package: a\nVersion: 1.0\nDescription: short\n long line\n .\n more\n\n\n# comment\nPackage: b\r\nDepends: c,\n d\n \nPackage: c\n"
	type para struct {
		Line   int
		Fields map[string]string
	}
	var got []para
	err := ParseControl([]byte(in), func(p *Paragraph) error {
		m := map[string]string{}
		for _, f := range p.Fields {
			m[string(f.Name)] = string(f.Value)
		}
		got = append(got, para{p.Line, m})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []para{
		{1, map[string]string{"Package": "a", "Version": "1.0", "Description": "short\n long line\n .\n more"}},
		{10, map[string]string{"Package": "b", "Depends": "c,\n d"}},
		{14, map[string]string{"Package": "c"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("paragraphs (-want +got):\n%s", d)
	}
}

func TestParseControlErrors(t *testing.T) {
	for _, in := range []string{" continued\n", "no colon here\n", "Bad Name: x\n", ": empty\n"} {
		if err := ParseControl([]byte(in), func(*Paragraph) error { return nil }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func FuzzParseControl(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\n\nPackage: b\n x\n"))
	f.Add([]byte("A: \n b\n\tc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseControl(data, func(p *Paragraph) error {
			for _, fl := range p.Fields {
				if len(fl.Name) == 0 {
					t.Fatal("empty field name")
				}
			}
			return nil
		})
	})
}
