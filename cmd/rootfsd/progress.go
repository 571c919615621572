package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rootfsd/rootfsd/repo"
)

// reporter prints progress on stderr: a single rewritten status line on a
// terminal, plain lines with --verbose, nothing with --quiet or when
// stderr is not a terminal (and --verbose is off).
func (g *globals) reporter() repo.Reporter {
	if g.quiet {
		return nil
	}
	if g.format == "json" {
		return g.jsonEvents() // JSON lines on stderr: see client.go
	}
	tty := isTerminal(g.stderr)
	if !tty && !g.verbose {
		return nil
	}
	var mu sync.Mutex
	last := time.Time{}
	return func(e repo.Event) {
		mu.Lock()
		defer mu.Unlock()
		line := formatEvent(e)
		if line == "" {
			return
		}
		if g.verbose || !tty {
			fmt.Fprintln(g.stderr, line)
			return
		}
		// Throttle redraws of the status line.
		if time.Since(last) < 80*time.Millisecond && e.Kind == repo.EventDownload && e.Current != e.Total {
			return
		}
		last = time.Now()
		if len(line) > 100 {
			line = line[:100]
		}
		fmt.Fprintf(g.stderr, "\r\033[K%s", line)
		if e.Kind == repo.EventDone || (e.Kind == repo.EventResolve && e.Current > 0) {
			fmt.Fprint(g.stderr, "\r\033[K")
		}
	}
}

func formatEvent(e repo.Event) string {
	switch e.Kind {
	case repo.EventDownload, repo.EventIndex:
		state := ""
		if e.Cached {
			state = " (cached)"
		}
		if e.Total > 0 {
			return fmt.Sprintf("%s %s %s/%s%s", e.Kind, e.Name, humanBytes(e.Current), humanBytes(e.Total), state)
		}
		if e.Message != "" {
			return fmt.Sprintf("%s %s: %s%s", e.Kind, e.Name, e.Message, state)
		}
		return fmt.Sprintf("%s %s %s%s", e.Kind, e.Name, humanBytes(e.Current), state)
	case repo.EventWarning:
		return "warning: " + e.Message
	}
	if e.Message == "" {
		return ""
	}
	if e.Name != "" {
		return fmt.Sprintf("%s %s: %s", e.Kind, e.Name, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
