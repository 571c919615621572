package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

// tuneGC lets the heap grow to three times what is live between
// collections rather than twice (GOGC=200), unless GOGC or GOMEMLIMIT is
// set: a build's live heap is small (its file contents stay in files) but
// it allocates steadily, and at the default the collector runs some forty
// times per build, a tenth of its CPU. A soft limit of 384 MiB keeps a
// very large build from trading that for memory.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(200)
	debug.SetMemoryLimit(384 << 20)
}

// startProfile writes a CPU profile of the whole command to path when it
// is set (ROOTFSD_CPUPROFILE, for developers measuring a command; see
// README.md, Development). The returned function stops and flushes it.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rootfsd: ROOTFSD_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "rootfsd: ROOTFSD_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
