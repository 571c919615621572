package deb

import (
	"bytes"
	"fmt"
)

// Field is one field of a deb822 paragraph. Name and Value alias the
// parsed buffer: copy them (string(...)) to keep them past the callback.
// Value has continuation lines joined with '\n' exactly as they appear,
// leading whitespace of the first line and trailing whitespace removed.
type Field struct {
	Name  []byte
	Value []byte
}

// Paragraph is one deb822 paragraph (a stanza of a Packages file, the body
// of a Release file). It aliases the parsed buffer.
type Paragraph struct {
	Fields []Field
	// Line is the 1-based line number of the paragraph's first field.
	Line int
}

// Get returns the value of the field called name (case-insensitive), or nil.
func (p *Paragraph) Get(name string) []byte {
	for i := range p.Fields {
		if len(p.Fields[i].Name) == len(name) && bytes.EqualFold(p.Fields[i].Name, []byte(name)) {
			return p.Fields[i].Value
		}
	}
	return nil
}

// GetString is Get as a string.
func (p *Paragraph) GetString(name string) string { return string(p.Get(name)) }

// ParseControl splits data into deb822 paragraphs and calls fn for each.
// Paragraphs are separated by blank lines (lines of only spaces and tabs
// count as blank); lines starting with '#' are comments; a line starting
// with a space or tab continues the previous field. fn's Paragraph is
// reused between calls. Parsing stops at the first error fn returns.
func ParseControl(data []byte, fn func(*Paragraph) error) error {
	var p Paragraph
	p.Fields = make([]Field, 0, 32)
	line := 0
	flush := func() error {
		if len(p.Fields) == 0 {
			return nil
		}
		for i := range p.Fields {
			p.Fields[i].Value = bytes.TrimRight(p.Fields[i].Value, " \t\r")
		}
		err := fn(&p)
		p.Fields = p.Fields[:0]
		return err
	}
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		if isBlank(l) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		switch l[0] {
		case '#':
			continue
		case ' ', '\t':
			if len(p.Fields) == 0 {
				return fmt.Errorf("deb822: line %d: continuation line without a field", line)
			}
			// Extend the previous value to cover this line: values are
			// contiguous in data, so the slice just grows.
			f := &p.Fields[len(p.Fields)-1]
			if len(f.Value) == 0 {
				f.Value = bytes.TrimLeft(l, " \t")
				continue
			}
			// Values alias data and the lines of a paragraph are
			// contiguous there, so the value grows to cover this line:
			// l starts cap(f.Value)-cap(l) bytes after f.Value does.
			f.Value = f.Value[:cap(f.Value)-cap(l)+len(l)]
			continue
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 {
			return fmt.Errorf("deb822: line %d: expected \"Field: value\", got %q", line, truncate(l, 60))
		}
		if len(p.Fields) == 0 {
			p.Line = line
		}
		name := l[:colon]
		if bytes.ContainsAny(name, " \t") {
			return fmt.Errorf("deb822: line %d: field name %q contains whitespace", line, truncate(name, 60))
		}
		p.Fields = append(p.Fields, Field{Name: name, Value: bytes.TrimLeft(l[colon+1:], " \t")})
	}
	return flush()
}

func isBlank(l []byte) bool {
	for _, c := range l {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
