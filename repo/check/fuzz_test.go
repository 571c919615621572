package check

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func FuzzParseLdSoConf(f *testing.F) {
	f.Add([]byte("include /etc/ld.so.conf.d/*.conf\n"))
	f.Add([]byte("/usr/local/lib\n/opt/a:/opt/b,/opt/c # x\nhwcap 1 x\n"))
	f.Add([]byte("\x00/\n=\ninclude\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dirs, _ := ParseLdSoConf(data)
		for _, d := range dirs {
			if d == "" || d[0] != '/' {
				t.Fatalf("relative directory %q", d)
			}
		}
	})
}

// FuzzRun feeds arbitrary bytes as a program, a passwd file and a dpkg
// status file: Run must neither panic nor fail.
func FuzzRun(f *testing.F) {
	if data, err := os.ReadFile("/bin/true"); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Add([]byte("Package: a\nStatus: install ok installed\nDepends: tzdata\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"usr/bin/prog":         {Data: data, Mode: 0o755},
			"etc/passwd":           {Data: data, Mode: 0o644},
			"etc/ld.so.conf":       {Data: data, Mode: 0o644},
			"var/lib/dpkg/status":  {Data: data, Mode: 0o644},
			"lib/apk/db/installed": {Data: data, Mode: 0o644},
			"bin":                  {Data: []byte("/usr/bin"), Mode: fs.ModeSymlink | 0o777},
		}
		cfg := &ImageConfig{Entrypoint: []string{"prog"}, User: string(data[:min(len(data), 8)])}
		if _, err := Run(context.Background(), fsys, Options{Config: cfg}); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzLoadTar loads arbitrary bytes as a rootfs tar or image archive.
func FuzzLoadTar(f *testing.F) {
	f.Add(tarBytes(map[string]string{"etc/passwd": "root:x:0:0::/:/bin/sh\n", "a/.wh.b": "", "c/.wh..wh..opq": ""}))
	f.Add(tarBytes(map[string]string{"oci-layout": "{}", "index.json": `{"manifests":[{"digest":"sha256:00"}]}`}))
	f.Add(tarBytes(map[string]string{"manifest.json": `[{"Config":"../x","Layers":["/etc/passwd"]}]`}))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tg, err := Load(context.Background(), p, LoadOptions{MaxTree: 1 << 20, TempDir: t.TempDir()})
		if err != nil {
			return
		}
		defer tg.Close()
		if _, err := Run(context.Background(), tg.FS, Options{Config: tg.Config}); err != nil {
			t.Fatal(err)
		}
	})
}
