package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"time"
)

// Index is a verified, parsed APKINDEX.tar.gz.
type Index struct {
	// Description is the DESCRIPTION entry ("v3.19.1-643-gec825d20535").
	Description string
	// Signer is the file name of the key whose signature verified.
	Signer string
	// Date is the modification time of the APKINDEX entry.
	Date time.Time
	// Packages in index order. Several records may share a name.
	Packages []Package
}

// ReadIndex verifies and parses an APKINDEX.tar.gz held in memory. The file
// is two gzip members: a tar of signature entries, then a tar of
// DESCRIPTION and APKINDEX; the signature covers the raw compressed bytes
// of the second member. Nothing is parsed before the signature verifies.
func ReadIndex(data []byte, keys *Keyring, lim Limits) (*Index, error) {
	lim = lim.withDefaults()
	const what = "apk: APKINDEX.tar.gz"
	if int64(len(data)) > lim.IndexSize {
		return nil, fmt.Errorf("%s: %w of %d bytes", what, ErrTooLarge, lim.IndexSize)
	}
	sigMember, n, err := gzipMember(data, lim.SignatureSize, what)
	if err != nil {
		return nil, err
	}
	sigs, err := parseSignatures(sigMember, what)
	if err != nil {
		return nil, err
	}
	rest := data[n:]
	if len(rest) == 0 {
		return nil, fmt.Errorf("%s: %w: nothing after the signature", what, ErrFormat)
	}
	signer, err := verifySignatures(sigs, keys, digestsOf(rest), what)
	if err != nil {
		return nil, err
	}
	idx, err := readIndexTar(rest, lim, what)
	if err != nil {
		return nil, err
	}
	idx.Signer = signer
	return idx, nil
}

// readIndexTar reads the (already verified) compressed tar of DESCRIPTION
// and APKINDEX.
func readIndexTar(compressed []byte, lim Limits, what string) (*Index, error) {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, ErrFormat, err)
	}
	max := lim.IndexTextSize
	if r := lim.IndexRatio * int64(len(compressed)); r < max {
		max = r
	}
	// Count every decompressed byte, tar headers and padding included.
	cr := &countingReader{r: zr, max: max}
	tr := tar.NewReader(cr)
	idx := &Index{}
	var text []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cr.over {
				return nil, fmt.Errorf("%s: %w of %d decompressed bytes", what, ErrTooLarge, max)
			}
			return nil, fmt.Errorf("%s: %w: %w", what, ErrFormat, err)
		}
		switch hdr.Name {
		case "DESCRIPTION":
			b, err := readAllLimited(tr, 4096, what+": DESCRIPTION")
			if err != nil {
				return nil, err
			}
			idx.Description = string(b)
		case "APKINDEX":
			if text != nil {
				return nil, fmt.Errorf("%s: %w: two APKINDEX entries", what, ErrFormat)
			}
			if hdr.Size > max {
				return nil, fmt.Errorf("%s: APKINDEX: %w of %d bytes", what, ErrTooLarge, max)
			}
			text = make([]byte, hdr.Size)
			if _, err := io.ReadFull(tr, text); err != nil {
				return nil, fmt.Errorf("%s: APKINDEX: %w", what, err)
			}
			idx.Date = hdr.ModTime.UTC()
		}
	}
	// Reading to the end checks the gzip trailer (CRC and length).
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, ErrFormat, err)
	}
	if text == nil {
		return nil, fmt.Errorf("%s: %w: no APKINDEX entry", what, ErrFormat)
	}
	pkgs, err := ParseIndex(text, lim)
	if err != nil {
		return nil, err
	}
	idx.Packages = pkgs
	return idx, nil
}

// countingReader fails once more than max bytes were read.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return n, fmt.Errorf("%w of %d bytes", ErrTooLarge, c.max)
	}
	return n, err
}
