package deb

import (
	"strings"
)

// Reading, not running, maintainer scripts: a few built-ins take literal
// arguments from the script of the package they stand in for (the
// update-alternatives calls, base-files' lists of directories), so that
// they follow each release's script. Nothing is ever evaluated: a word
// with an expansion ($x, `x`) makes the whole command unreadable.

// shellCommands returns the argument lists of every call of cmd in
// script whose words are all literal. Backslash-newline continues a
// command; single and double quotes are removed; an unquoted ; | & < > (
// ) or a newline ends it. A literal "$DPKG_ROOT" prefix, which dpkg sets
// to "" for a normal install, is dropped.
func shellCommands(script, cmd string) [][]string {
	var out [][]string
	s := strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(s, "\n") {
		for {
			i := strings.Index(line, cmd)
			if i < 0 {
				break
			}
			before := strings.TrimSpace(line[:i])
			line = line[i+len(cmd):]
			if i > 0 && !isCmdBoundary(before) {
				continue
			}
			if line != "" && line[0] != ' ' && line[0] != '\t' {
				continue
			}
			args, rest, ok := shellWords(line)
			line = rest
			if ok {
				out = append(out, args)
			}
		}
	}
	return out
}

// isCmdBoundary reports whether what precedes a command word on its line
// lets it start a command: nothing, or a separator, a keyword, "!".
func isCmdBoundary(before string) bool {
	if before == "" {
		return true
	}
	for _, suffix := range []string{";", "&&", "||", "|", "then", "else", "do", "!", "(", "{"} {
		if strings.HasSuffix(before, suffix) {
			return true
		}
	}
	return false
}

// shellWords splits the words of one simple command up to its end and
// returns what follows; ok is false when a word is not literal.
func shellWords(s string) (words []string, rest string, ok bool) {
	ok = true
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			w := cur.String()
			w = strings.TrimPrefix(w, "\x00DPKG_ROOT")
			if strings.Contains(w, "\x00") {
				ok = false
			}
			words = append(words, w)
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case strings.IndexByte(";|&<>()\n", c) >= 0:
			flush()
			return words, s[i:], ok
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return words, "", false
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			if j >= len(s) {
				return words, "", false
			}
			cur.WriteString(expansionMarker(unescapeDouble(s[i+1 : j])))
			inWord = true
			i = j
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i++
		case c == '$' || c == '`':
			j := i + 1
			for j < len(s) && strings.IndexByte(" \t;|&<>()\n'\"", s[j]) < 0 {
				j++
			}
			cur.WriteString(expansionMarker(s[i:j]))
			inWord = true
			i = j - 1
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, "", ok
}

// expansionMarker replaces a leading $DPKG_ROOT (dpkg sets it to "" for a
// normal install) with a marker shellWords drops, and any other expansion
// with a NUL that marks the word as not literal.
func expansionMarker(s string) string {
	for _, root := range []string{"${DPKG_ROOT}", "$DPKG_ROOT"} {
		if rest, ok := strings.CutPrefix(s, root); ok {
			if strings.ContainsAny(rest, "$`") {
				return "\x00"
			}
			return "\x00DPKG_ROOT" + rest
		}
	}
	if strings.ContainsAny(s, "$`") {
		return "\x00"
	}
	return s
}

func unescapeDouble(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shellAssignment returns the literal value of `name="value"` (or
// 'value', or a bare word) in script, and whether it was found.
func shellAssignment(script, name string) (string, bool) {
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		v, ok := strings.CutPrefix(line, name+"=")
		if !ok {
			continue
		}
		words, _, lit := shellWords(v)
		if !lit || len(words) != 1 {
			return "", false
		}
		return words[0], true
	}
	return "", false
}
