package repo

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"strings"
)

// Source is one extra repository beyond a release's own pockets: a PPA or
// third-party Debian repository, or an apk repository line.
type Source struct {
	// URL is the repository base ("http://host/ubuntu", or for apk the full
	// repository URL whose <arch>/APKINDEX.tar.gz is fetched).
	URL string `json:"url"`
	// Suite and Components are Debian's; empty for apk. A Suite ending in
	// "/" is a flat repository.
	Suite      string   `json:"suite,omitempty"`
	Components []string `json:"components,omitempty"`
	// SignedBy is the path of a key file (binary or armored OpenPGP for
	// Debian, PEM RSA for apk), or an armored key inline.
	SignedBy string `json:"signedBy,omitempty"`
	// Arches limits the source to these architectures (empty: all).
	Arches []string `json:"arches,omitempty"`
	// Tag pins an apk repository ("@testing"): its packages are only used
	// when asked for with name@tag.
	Tag string `json:"tag,omitempty"`
}

func (s Source) String() string {
	if s.Suite == "" {
		if s.Tag != "" {
			return "@" + s.Tag + " " + s.URL
		}
		return s.URL
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", s.URL, s.Suite, strings.Join(s.Components, " ")))
}

// ParseDebSources reads Debian sources in either one-line form
// ("deb [signed-by=/k.gpg arch=amd64] URL suite comp...") or deb822 form
// (stanzas with Types, URIs, Suites, Components, Signed-By). deb-src
// entries are skipped. The format packages refuse an extra source without
// a key: rootfsd trusts no third-party repository implicitly.
func ParseDebSources(data []byte) ([]Source, error) {
	if isDeb822(data) {
		return parseDeb822Sources(data)
	}
	var out []Source
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		s, skip, err := parseOneLine(line)
		if err != nil {
			return nil, fmt.Errorf("sources line %d: %w", n, err)
		}
		if !skip {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// ParseDebSourceLine parses one "deb [options] URL suite components" line.
func ParseDebSourceLine(line string) (Source, error) {
	s, skip, err := parseOneLine(strings.TrimSpace(line))
	if err == nil && skip {
		err = fmt.Errorf("%q: only \"deb\" lines are used", line)
	}
	return s, err
}

func parseOneLine(line string) (s Source, skip bool, err error) {
	typ, rest, _ := strings.Cut(line, " ")
	switch typ {
	case "deb":
	case "deb-src":
		return s, true, nil
	default:
		return s, false, fmt.Errorf("%q: a source line starts with \"deb\"", line)
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return s, false, fmt.Errorf("%q: unterminated [options]", line)
		}
		for _, opt := range strings.Fields(rest[1:end]) {
			k, v, ok := strings.Cut(opt, "=")
			if !ok {
				return s, false, fmt.Errorf("option %q: expected key=value", opt)
			}
			switch k {
			case "signed-by":
				s.SignedBy = v
			case "arch":
				s.Arches = strings.Split(v, ",")
			}
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return s, false, fmt.Errorf("%q: expected URL and suite", line)
	}
	s.URL, s.Suite, s.Components = strings.TrimRight(f[0], "/"), f[1], f[2:]
	if err := checkSource(&s); err != nil {
		return s, false, err
	}
	return s, false, nil
}

func isDeb822(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		return bytes.HasPrefix(l, []byte("Types:")) || bytes.HasPrefix(l, []byte("URIs:")) ||
			bytes.HasPrefix(l, []byte("Enabled:")) || bytes.HasPrefix(l, []byte("Suites:"))
	}
	return false
}

func parseDeb822Sources(data []byte) ([]Source, error) {
	var out []Source
	for i, stanza := range splitStanzas(data) {
		f := stanza
		if f["enabled"] == "no" {
			continue
		}
		types := strings.Fields(f["types"])
		if !contains(types, "deb") {
			continue
		}
		key := f["signed-by"]
		if strings.Contains(key, "\n") { // an inline key: restore line breaks
			key = strings.ReplaceAll(strings.ReplaceAll(key, "\n .\n", "\n\n"), "\n ", "\n")
		}
		for _, u := range strings.Fields(f["uris"]) {
			for _, suite := range strings.Fields(f["suites"]) {
				s := Source{URL: strings.TrimRight(u, "/"), Suite: suite, Components: strings.Fields(f["components"]),
					SignedBy: strings.TrimSpace(key), Arches: strings.Fields(f["architectures"])}
				if err := checkSource(&s); err != nil {
					return nil, fmt.Errorf("sources stanza %d: %w", i+1, err)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// splitStanzas is a small deb822 reader for sources files: lower-cased
// field names, continuation lines joined with "\n".
func splitStanzas(data []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.TrimSpace(l) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur, last = map[string]string{}, ""
			}
		case l[0] == '#':
		case l[0] == ' ' || l[0] == '\t':
			if last != "" {
				cur[last] += "\n" + l
			}
		default:
			k, v, _ := strings.Cut(l, ":")
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func checkSource(s *Source) error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") || (u.Host == "" && u.Scheme != "file") {
		return fmt.Errorf("repository URL %q: expected http://, https:// or file:// URL", s.URL)
	}
	if s.Suite != "" && !strings.HasSuffix(s.Suite, "/") && len(s.Components) == 0 {
		return fmt.Errorf("source %s %s: no components (a flat repository's suite ends with \"/\")", s.URL, s.Suite)
	}
	return nil
}

// ParseAPKRepository parses one line of an apk repositories file:
// "[@tag ]URL". Comments and blank lines give ok == false.
func ParseAPKRepository(line string) (s Source, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return s, false, nil
	}
	if line[0] == '@' {
		tag, rest, found := strings.Cut(line, " ")
		if !found {
			return s, false, fmt.Errorf("repository %q: a tag must be followed by a URL", line)
		}
		s.Tag, line = tag[1:], strings.TrimSpace(rest)
	}
	s.URL = strings.TrimRight(line, "/")
	if err := checkSource(&s); err != nil {
		return s, false, err
	}
	return s, true, nil
}
