package image

import (
	"fmt"
	"sort"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultPath is the PATH added to Env when the config sets none (the
// value Docker and buildah use).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Config is the runtime configuration and metadata of an image.
type Config struct {
	// Created dates the image and its history; pass SOURCE_DATE_EPOCH or
	// the lock's date. The zero value means 1970-01-01T00:00:00Z, never
	// the current time: the config digest (the image ID) depends on it.
	Created time.Time
	Author  string
	// OS and Architecture in OCI/Go spelling ("linux", "amd64", "arm64");
	// NormalizeArch converts distribution spellings. OS defaults to linux.
	OS           string
	Architecture string
	Variant      string
	// Env entries are KEY=VALUE; PATH=DefaultPath is added first when no
	// entry sets PATH.
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	User       string
	StopSignal string
	// ExposedPorts ("80/tcp") and Volumes ("/data") are written as sets.
	ExposedPorts []string
	Volumes      []string
	// Labels go into the image config (podman inspect shows them).
	Labels map[string]string
	// Annotations go on the manifest; org.opencontainers.image.created is
	// added from Created unless set.
	Annotations map[string]string
	// CreatedBy is the history entry of each layer ("rootfsd build" when
	// empty); Layer.Comment adds a comment to it.
	CreatedBy string
}

// NormalizeArch maps distribution architecture names (Debian's, Alpine's,
// uname's) to the OCI architecture and variant. Unknown names are returned
// unchanged. Debian's armhf is ARMv7; Alpine's armhf is ARMv6, so callers
// building Alpine armhf images should set the variant themselves.
func NormalizeArch(arch string) (goarch, variant string) {
	switch arch {
	case "amd64", "x86_64", "x86-64":
		return "amd64", ""
	case "arm64", "aarch64":
		return "arm64", ""
	case "armhf", "armv7", "armv7l":
		return "arm", "v7"
	case "armel", "armv5":
		return "arm", "v5"
	case "armv6":
		return "arm", "v6"
	case "i386", "i686", "x86", "386":
		return "386", ""
	case "ppc64el", "ppc64le":
		return "ppc64le", ""
	case "mips64el", "mips64le":
		return "mips64le", ""
	case "mipsel", "mipsle":
		return "mipsle", ""
	}
	return arch, ""
}

func (c Config) created() time.Time {
	if c.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return c.Created.UTC().Truncate(time.Second)
}

// env returns Env with PATH first when missing, rejecting malformed entries.
func (c Config) env() ([]string, error) {
	hasPath := false
	for _, e := range c.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\n\x00") || strings.Contains(e, "\x00") {
			return nil, fmt.Errorf("image: env %q: want KEY=VALUE", e)
		}
		hasPath = hasPath || k == "PATH"
	}
	if hasPath {
		return append([]string(nil), c.Env...), nil
	}
	return append([]string{"PATH=" + DefaultPath}, c.Env...), nil
}

func set(items []string) map[string]struct{} {
	if len(items) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(items))
	for _, s := range items {
		m[s] = struct{}{}
	}
	return m
}

// ociConfig is the image config for the given layers.
func (c Config) ociConfig(layers []*layer) (v1.Image, error) {
	env, err := c.env()
	if err != nil {
		return v1.Image{}, err
	}
	osName := c.OS
	if osName == "" {
		osName = "linux"
	}
	if c.Architecture == "" {
		return v1.Image{}, fmt.Errorf("image: config has no architecture")
	}
	created := c.created()
	img := v1.Image{
		Created:  &created,
		Author:   c.Author,
		Platform: v1.Platform{Architecture: c.Architecture, OS: osName, Variant: c.Variant},
		Config: v1.ImageConfig{
			User: c.User, Env: env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
			Labels: c.Labels, StopSignal: c.StopSignal, ExposedPorts: set(c.ExposedPorts), Volumes: set(c.Volumes),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	by := c.CreatedBy
	if by == "" {
		by = "rootfsd build"
	}
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.NewDigestFromEncoded(digest.SHA256, l.diffID))
		img.History = append(img.History, v1.History{Created: &created, CreatedBy: by, Author: c.Author, Comment: l.comment})
	}
	return img, nil
}

// annotations returns the manifest annotations, with the creation time.
func (c Config) annotations() map[string]string {
	m := make(map[string]string, len(c.Annotations)+1)
	for k, v := range c.Annotations {
		m[k] = v
	}
	if _, ok := m[v1.AnnotationCreated]; !ok {
		m[v1.AnnotationCreated] = c.created().Format(time.RFC3339)
	}
	return m
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
