package attacks_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rootfsd/rootfsd/apk"
	"github.com/rootfsd/rootfsd/repo"
)

const (
	isoRepo = "v3.19.1-iso/apks" // the real alpine-base closure of the 3.19.1 ISO
	mainDir = "alpine/main"      // the suite's own repository
	appAPK  = "x86_64/app-1.1-r0.apk"
)

var (
	apkOld = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	apkNew = time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)
)

// TestAttackAPK runs the attacks against the Alpine backend: tiny signed
// repositories, and the real upstream-signed fixtures.
func TestAttackAPK(t *testing.T) {
	newFiles, _ := apkRepo(t, mainDir, apkArchive(), apkNew, appPkgs("1.1-r0")...)
	oldFiles, oldBuilt := apkRepo(t, mainDir, apkArchive(), apkOld, appPkgs("1.0-r0")...)
	evilFiles, _ := apkRepo(t, mainDir, apkAttacker(), apkNew, appPkgs("1.1-r0")...)
	env := func(t *testing.T, files map[string][]byte) *apkEnv {
		return newAPKEnv(t, files, apkArchive().keyring(t), mainDir)
	}
	installApp := func(t *testing.T, e *apkEnv) error {
		_, tree, err := e.build(t, apkRequest("app"))
		if err == nil {
			if got := readTree(t, tree, "usr/bin/app"); got != "app 1.1-r0" {
				t.Errorf("installed app is %q", got)
			}
		}
		return err
	}
	real := func(t *testing.T, pkgs ...string) error {
		_, _, err := newAPKEnvReal(t).build(t, apkRequest(pkgs...))
		return err
	}
	runAttacks(t, "apk", []attack{
		{class: "control", name: "untampered repository: app 1.1-r0 installs", defence: "-",
			run: func(t *testing.T) (string, error) {
				return "installed app 1.1-r0 and libz", installApp(t, env(t, newFiles))
			}},
		{class: "control", name: "untampered real 3.19.1 ISO repository: musl installs", defence: "-",
			run: func(t *testing.T) (string, error) { return "installed musl 1.2.4_git20230717-r4", real(t, "musl") }},
		{class: "arbitrary package", name: "real musl .apk with one byte changed", defence: "gzip CRC, index C: (SHA-1 of the control member), RSA signature, datahash",
			want: []error{apk.ErrFormat, apk.ErrChecksum, apk.ErrBadSignature}, text: "musl",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				e.proxy.on("/musl-1.2.4_git20230717-r4.apk", flip(0.6))
				_, _, err := e.build(t, apkRequest("musl"))
				return "", err
			}},
		{class: "arbitrary package", name: "real zlib .apk served as musl", defence: "S: size from the signed index",
			want: []error{repo.ErrSizeMismatch}, text: "musl",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				e.proxy.on("/musl-1.2.4_git20230717-r4.apk", e.proxy.file(e.origin.URL+"/"+isoRepo+"/x86_64/zlib-1.3.1-r0.apk"))
				_, _, err := e.build(t, apkRequest("musl"))
				return "", err
			}},
		{class: "arbitrary package", name: "APKINDEX edited, signature kept", defence: "RSA signature over the compressed index",
			want: []error{apk.ErrBadSignature, apk.ErrFormat}, text: "APKINDEX",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on("/APKINDEX.tar.gz", flip(0.8))
				return "", installApp(t, e)
			}},
		{class: "wrong key", name: "APKINDEX and packages re-signed by the attacker", defence: "trusted keys only",
			want: []error{apk.ErrUntrustedKey}, text: apkAttacker().name,
			run: func(t *testing.T) (string, error) { return "", installApp(t, env(t, evilFiles)) }},
		{class: "wrong key", name: "real x86_64 index served for aarch64", defence: "per-architecture embedded keys",
			want: []error{apk.ErrUntrustedKey}, text: "6165ee59",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				e.proxy.on("/aarch64/APKINDEX.tar.gz", e.proxy.file(e.origin.URL+"/"+isoRepo+"/x86_64/APKINDEX.tar.gz"))
				req := apkRequest("musl")
				req.Arch = "aarch64"
				_, err := e.b.Resolve(ctx(t), req)
				return "", err
			}},
		{class: "missing signature", name: "APKINDEX without its signature member", defence: "unsigned indexes are refused",
			want: []error{apk.ErrUnsigned}, text: "APKINDEX",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on("/APKINDEX.tar.gz", edit(func(b []byte) []byte { return stripSignature(t, b) }))
				return "", installApp(t, e)
			}},
		{class: "rollback", name: "older validly signed APKINDEX after a newer one", defence: "index date recorded per URL (rollback.go, new)",
			want: []error{apk.ErrRollback}, text: "2026-01-02",
			run: func(t *testing.T) (string, error) {
				e := env(t, merge(oldFiles, newFiles))
				if err := installApp(t, e); err != nil {
					t.Fatalf("first build: %v", err)
				}
				e.proxy.on("/APKINDEX.tar.gz", replace(oldFiles[mainDir+"/x86_64/APKINDEX.tar.gz"]))
				_, err := e.b.Resolve(ctx(t), apkRequest("app"))
				return "", err
			}},
		{class: "mix-and-match", name: "old app .apk at the new version's path", defence: "S: and C: from the signed index",
			want: []error{repo.ErrSizeMismatch, apk.ErrChecksum}, text: "app",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on(appAPK, replace(oldBuilt[1].data))
				return "", installApp(t, e)
			}},
		{class: "malicious field", name: "index record P:../../../etc/evil, validly signed", defence: "P: and V: must be usable as a file name (names.go, new)",
			want: []error{apk.ErrFormat}, text: "cannot be part of a file name",
			run: func(t *testing.T) (string, error) {
				pkgs := appPkgs("1.1-r0")
				pkgs[1].depends = "../../../etc/evil"
				pkgs = append(pkgs, apkPkg{name: "../../../etc/evil", version: "1.0-r0", entries: []apkEntry{{name: "evil", data: []byte("x")}}})
				files, _ := apkRepo(t, mainDir, apkArchive(), apkNew, pkgs...)
				return "", installApp(t, env(t, files))
			}},
		{class: "endless data", name: "endless APKINDEX", defence: "64 MiB cap on an index",
			want: []error{repo.ErrTooLarge}, text: "APKINDEX",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on("/APKINDEX.tar.gz", endless(nil))
				return "", installApp(t, e)
			}},
		{class: "endless data", name: "endless .apk", defence: "body capped at the signed S: size",
			want: []error{repo.ErrTooLarge}, text: "app",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on(appAPK, endless(nil))
				return "", installApp(t, e)
			}},
		{class: "slow retrieval", name: "APKINDEX trickled at 160 bytes/s", defence: "minimum rate over a window",
			want: []error{repo.ErrTooSlow}, text: "bytes/s",
			run: func(t *testing.T) (string, error) {
				e := env(t, newFiles)
				e.proxy.on("/APKINDEX.tar.gz", trickle(16, 100*time.Millisecond))
				return bounded(t, 3*time.Second, func() error { return installApp(t, e) })
			}},
		{class: "compressed bomb", name: "APKINDEX bomb, validly signed", defence: "index decompression ratio cap (100)",
			want: []error{apk.ErrTooLarge}, text: "APKINDEX: exceeds limit of",
			run: func(t *testing.T) (string, error) {
				files, built := apkRepo(t, mainDir, apkArchive(), apkNew, appPkgs("1.1-r0")...)
				files[mainDir+"/x86_64/APKINDEX.tar.gz"] = buildIndex(t, apkArchive(), apkNew, indexText(built)+strings.Repeat("\n", 4<<20))
				return "", installApp(t, env(t, files))
			}},
		{class: "compressed bomb", name: ".apk expanding to 24 MiB, validly signed", defence: "DataSize cap (8 MiB here; 32 GiB by default)",
			want: []error{apk.ErrTooLarge}, text: "exceeds limit of 8388608 bytes",
			run: func(t *testing.T) (string, error) {
				pkgs := appPkgs("1.1-r0")
				pkgs[1].entries = append(pkgs[1].entries, apkEntry{name: "usr/zeros", data: make([]byte, 24<<20)})
				files, _ := apkRepo(t, mainDir, apkArchive(), apkNew, pkgs...)
				e := env(t, files)
				e.b.Limits = apk.Limits{DataSize: 8 << 20}
				return "", installApp(t, e)
			}},
		{class: "shared cache", name: "cache record maps musl's C: to zlib's verified blob", defence: "the installer re-verifies every package against the plan's C:",
			want: []error{apk.ErrChecksum}, text: "musl",
			run: func(t *testing.T) (string, error) {
				e := newAPKEnvReal(t)
				plan, _, err := e.build(t, apkRequest("musl", "zlib"))
				if err != nil {
					t.Fatal(err)
				}
				musl, zlib := plan.Find("musl"), plan.Find("zlib")
				zd, err := e.b.FetchPackage(ctx(t), *zlib)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.store.SetMeta("apk-package", musl.Checksum, []byte(zd)); err != nil {
					t.Fatal(err)
				}
				_, _, err = e.build(t, apkRequest("musl", "zlib"))
				return "", err
			}},
	})
}

// newAPKEnvReal serves the shared fixtures with the embedded Alpine keys.
func newAPKEnvReal(t *testing.T) *apkEnv { return newAPKEnv(t, nil, nil, isoRepo) }

// stripSignature drops the first gzip member (the signature) of an index.
func stripSignature(t *testing.T, b []byte) []byte {
	br := bytes.NewReader(b)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatal(err)
	}
	return b[len(b)-br.Len():]
}
