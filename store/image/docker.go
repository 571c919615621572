package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// dockerManifestItem is one entry of a docker save archive's manifest.json.
type dockerManifestItem struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// Docker reference grammar, the parts rootfsd accepts: an optional
// registry host[:port], lower-case path components, and a tag.
var (
	dockerName = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	dockerTag  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// SplitReference splits "name[:tag]" into name and tag ("latest" when
// absent) and checks both against the docker reference grammar. Digests
// ("@sha256:...") are refused: an image being written has no digest yet.
func SplitReference(ref string) (name, tag string, err error) {
	if strings.Contains(ref, "@") {
		return "", "", fmt.Errorf("image: reference %q: %w: a digest cannot name an image being written", ref, ErrInvalidName)
	}
	name, tag = ref, DefaultTag
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, tag = ref[:i], ref[i+1:]
	}
	if len(name) > 255 || !dockerName.MatchString(name) || !dockerTag.MatchString(tag) {
		return "", "", fmt.Errorf("image: reference %q: %w (want [HOST[:PORT]/]NAME[:TAG], lower-case name)", ref, ErrInvalidName)
	}
	return name, tag, nil
}

// LocalName turns a tag into the name podman and buildah give a local
// image: a name without a registry host is put under "localhost/", and a
// missing tag is "latest". "ca" becomes "localhost/ca:latest", while
// "quay.io/org/ca" and "127.0.0.1:5000/ca:1" keep their host. Use it for
// containers-storage names and docker-archive RepoTags meant for podman.
func LocalName(tag string) (string, error) {
	name, t, err := SplitReference(tag)
	if err != nil {
		return "", err
	}
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || !strings.ContainsAny(first, ".:") && first != "localhost" {
		name = "localhost/" + name
	}
	return name + ":" + t, nil
}

// WriteDockerArchive writes the image in the format of `docker save`
// (docker-archive:FILE), which `docker load`, `podman load` and skopeo
// read: manifest.json naming the config and the uncompressed layer tars,
// plus the legacy per-layer directories and repositories file older docker
// versions need, laid out as containers/image writes them. refs are the
// RepoTags ("localhost/ca:24.04"); none is allowed. The archive is
// deterministic (fixed order, mtime 0, owner 0:0) and appears under path
// only when complete.
func (img *Image) WriteDockerArchive(ctx context.Context, path string, refs ...string) error {
	var tags []string
	repos := map[string]map[string]string{}
	for _, r := range refs {
		name, tag, err := SplitReference(r)
		if err != nil {
			return err
		}
		tags = append(tags, name+":"+tag)
		if repos[name] == nil {
			repos[name] = map[string]string{}
		}
		repos[name][tag] = ""
	}
	cfgName := img.configHex + ".json"
	item := dockerManifestItem{Config: cfgName, RepoTags: tags}
	if item.RepoTags == nil {
		item.RepoTags = []string{}
	}
	legacy, err := img.legacyLayers()
	if err != nil {
		return err
	}
	for _, l := range img.layers {
		item.Layers = append(item.Layers, l.diffID+".tar")
	}
	for name := range repos {
		for tag := range repos[name] {
			repos[name][tag] = legacy[len(legacy)-1].id
		}
	}
	manifest, err := json.Marshal([]dockerManifestItem{item})
	if err != nil {
		return fmt.Errorf("image: docker-archive:%s: %w", path, err)
	}
	err = writeAtomic(path, func(w io.Writer) error {
		tw := newTarWriter(w, time.Unix(0, 0))
		written := map[string]bool{}
		for i, l := range img.layers {
			if written[l.diffID] {
				continue // the same layer twice is stored once
			}
			written[l.diffID] = true
			i := i
			b := layoutBlob{hex: l.diffID, size: l.size, open: func(ctx context.Context) (io.ReadCloser, error) {
				return img.openLayer(ctx, i, Uncompressed)
			}}
			if err := tw.blob(ctx, l.diffID+".tar", b); err != nil {
				return err
			}
		}
		if err := tw.file(cfgName, img.config); err != nil {
			return err
		}
		for _, ll := range legacy {
			if err := tw.symlink(ll.id+"/layer.tar", "../"+ll.diffID+".tar"); err != nil {
				return err
			}
			if err := tw.file(ll.id+"/VERSION", []byte("1.0")); err != nil {
				return err
			}
			if err := tw.file(ll.id+"/json", ll.json); err != nil {
				return err
			}
		}
		if err := tw.file("manifest.json", manifest); err != nil {
			return err
		}
		if len(repos) > 0 {
			data, err := json.Marshal(repos)
			if err != nil {
				return err
			}
			if err := tw.file("repositories", data); err != nil {
				return err
			}
		}
		return tw.Close()
	})
	if err != nil {
		return fmt.Errorf("image: docker-archive:%s: %w", path, err)
	}
	return nil
}

// legacyLayer is the docker 1.x metadata of one layer.
type legacyLayer struct {
	id, diffID string
	json       []byte
}

// legacyLayers computes the legacy layer IDs and json files the way
// containers/image does: each layer's ID is the digest of its json, which
// names its parent and a chain ID of the layers below; the top layer
// carries a subset of the image config.
func (img *Image) legacyLayers() ([]legacyLayer, error) {
	var config map[string]*json.RawMessage
	if err := json.Unmarshal(img.config, &config); err != nil {
		return nil, fmt.Errorf("image: config: %w", err)
	}
	var out []legacyLayer
	chainID, parent := "", ""
	for i, l := range img.layers {
		lc := map[string]any{}
		if parent != "" {
			lc["parent"] = parent
		}
		if i == len(img.layers)-1 {
			for _, k := range []string{"architecture", "config", "container", "container_config", "created", "docker_version", "os"} {
				lc[k] = config[k]
			}
		}
		d := "sha256:" + l.diffID
		if chainID == "" {
			chainID = d
		} else {
			sum := sha256.Sum256([]byte(chainID + " " + d))
			chainID = "sha256:" + hex.EncodeToString(sum[:])
		}
		lc["layer_id"] = chainID
		b, err := json.Marshal(lc)
		if err != nil {
			return nil, fmt.Errorf("image: legacy layer config: %w", err)
		}
		delete(lc, "layer_id")
		id := sha256Hex(b)
		lc["id"] = id
		if b, err = json.Marshal(lc); err != nil {
			return nil, fmt.Errorf("image: legacy layer config: %w", err)
		}
		out = append(out, legacyLayer{id: id, diffID: l.diffID, json: b})
		parent = id
	}
	return out, nil
}
