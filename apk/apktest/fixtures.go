// Package apktest locates the shared Alpine fixtures (real upstream-signed
// indexes, keys, packages and a golden minirootfs) for the tests of any
// package. Only tests import it.
package apktest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the absolute path of the Alpine fixtures directory, or "" when
// it is not there: ROOTFSD_FIXTURES (the fixtures directory or its alpine/),
// else shared/fixtures/alpine beside the repository root.
func Dir() string {
	var cands []string
	if env := os.Getenv("ROOTFSD_FIXTURES"); env != "" {
		cands = append(cands, filepath.Join(env, "alpine"), env)
	} else if _, file, _, ok := runtime.Caller(0); ok {
		// This file is <root>/apk/apktest/fixtures.go.
		root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		cands = append(cands, filepath.Join(root, "..", "shared", "fixtures", "alpine"))
	}
	for _, d := range cands {
		if st, err := os.Stat(filepath.Join(d, "keys")); err == nil && st.IsDir() {
			if abs, err := filepath.Abs(d); err == nil {
				return abs
			}
			return d
		}
	}
	return ""
}

// FixturesDir is Dir for a test that needs the fixtures: it fails the test,
// saying what to set, when they are missing.
func FixturesDir(t testing.TB) string {
	t.Helper()
	d := Dir()
	if d == "" {
		t.Fatal("Alpine fixtures not found beside the repository (shared/fixtures/alpine): set ROOTFSD_FIXTURES to the shared fixtures directory")
	}
	return d
}
