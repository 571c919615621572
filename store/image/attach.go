package image

import (
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Attachment is an artifact stored beside the image and pointing at it.
type Attachment struct {
	// ArtifactType is the artifact's type, e.g. "application/spdx+json".
	ArtifactType string
	// MediaType of Data (ArtifactType when empty).
	MediaType string
	Data      []byte
	// Title becomes org.opencontainers.image.title, e.g. "sbom.spdx.json".
	Title       string
	Annotations map[string]string
}

// MaxAttachmentSize bounds one attachment kept in memory.
const MaxAttachmentSize = 64 << 20

// referrers returns the attachments as artifact manifests with subject.
func (img *Image) referrers(subject *Manifest) ([]*Manifest, map[string][]byte, error) {
	var out []*Manifest
	blobs := map[string][]byte{emptyJSONHex: emptyJSON}
	for _, a := range img.attachments {
		mt := a.MediaType
		if mt == "" {
			mt = a.ArtifactType
		}
		h := sha256Hex(a.Data)
		blobs[h] = a.Data
		ann := map[string]string{v1.AnnotationCreated: img.created}
		for k, v := range a.Annotations {
			ann[k] = v
		}
		layerAnn := map[string]string{}
		if a.Title != "" {
			layerAnn[v1.AnnotationTitle] = a.Title
		}
		sub := subject.Descriptor(nil)
		m := v1.Manifest{
			Versioned:    specs.Versioned{SchemaVersion: 2},
			MediaType:    v1.MediaTypeImageManifest,
			ArtifactType: a.ArtifactType,
			Config:       v1.Descriptor{MediaType: v1.MediaTypeEmptyJSON, Digest: digest.NewDigestFromEncoded(digest.SHA256, emptyJSONHex), Size: 2, Data: emptyJSON},
			Layers:       []v1.Descriptor{{MediaType: mt, Digest: digest.NewDigestFromEncoded(digest.SHA256, h), Size: int64(len(a.Data)), Annotations: layerAnn}},
			Subject:      &sub,
			Annotations:  ann,
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, nil, fmt.Errorf("image: attachment %s: %w", a.Title, err)
		}
		out = append(out, &Manifest{Bytes: data, Digest: "sha256:" + sha256Hex(data), MediaType: v1.MediaTypeImageManifest, ArtifactType: a.ArtifactType})
	}
	return out, blobs, nil
}

var emptyJSON = []byte("{}")

const emptyJSONHex = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
