package remote

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Scheme prefixes a registry cache reference: oci://HOST[:PORT]/REPO.
const Scheme = "oci://"

// ErrNotFound is returned by Pull when the registry has no entry for a key.
var ErrNotFound = errors.New("not in the registry cache")

// Options configure the connection to a registry cache.
type Options struct {
	// PlainHTTP speaks HTTP instead of HTTPS; refused unless the host is a
	// loopback address.
	PlainHTTP bool
	// CAFiles are PEM files of extra certificate authorities to trust.
	CAFiles []string
	// AuthFiles are credential files (containers' auth.json or Docker's
	// config.json format) tried in order; DefaultAuthFiles when nil.
	AuthFiles []string
	// Timeout bounds each request (30s when zero); a registry that hangs
	// makes Pull fail, and the caller falls back to the mirror.
	Timeout time.Duration
	// Transport is the base transport (a clone of http.DefaultTransport
	// when nil); tests inject one.
	Transport http.RoundTripper
}

// Cache is one registry repository used as a cache. It is safe for
// concurrent use.
type Cache struct {
	ref  string
	repo *remote.Repository

	// configMu serialises the upload of the empty config blob every
	// cache manifest names: concurrent uploads of one blob make
	// docker-registry answer a manifest naming it with "blob unknown" for
	// a moment. configDone records that it is there.
	configMu   sync.Mutex
	configDone bool
}

// ParseRef splits oci://HOST/REPO into HOST and REPO.
func ParseRef(ref string) (host, repository string, err error) {
	rest, ok := strings.CutPrefix(ref, Scheme)
	if !ok {
		return "", "", fmt.Errorf("registry cache %q: want %sHOST/REPO", ref, Scheme)
	}
	host, repository, ok = strings.Cut(rest, "/")
	if !ok || host == "" || repository == "" || strings.ContainsAny(repository, ":@") {
		return "", "", fmt.Errorf("registry cache %q: want %sHOST/REPO without tag or digest", ref, Scheme)
	}
	return host, repository, nil
}

// New connects (lazily) to the registry cache ref.
func New(ref string, opt Options) (*Cache, error) {
	host, repository, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	r, err := remote.NewRepository(host + "/" + repository)
	if err != nil {
		return nil, fmt.Errorf("registry cache %q: %w", ref, err)
	}
	if opt.PlainHTTP {
		if !IsLoopback(host) {
			return nil, fmt.Errorf("registry cache %q: plain HTTP is allowed for loopback addresses only", ref)
		}
		r.PlainHTTP = true
	}
	tr, err := transport(opt)
	if err != nil {
		return nil, fmt.Errorf("registry cache %q: %w", ref, err)
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	creds, err := credentialStore(opt.AuthFiles)
	if err != nil {
		return nil, fmt.Errorf("registry cache %q: %w", ref, err)
	}
	r.Client = &auth.Client{
		Client:     &http.Client{Transport: tr, Timeout: timeout},
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(creds),
	}
	return &Cache{ref: ref, repo: r}, nil
}

// String is the cache's reference.
func (c *Cache) String() string { return c.ref }

// IsLoopback says whether hostport ("127.0.0.1:5000", "localhost",
// "[::1]:5000") names this machine: where plain HTTP is allowed.
func IsLoopback(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

func transport(opt Options) (http.RoundTripper, error) {
	if len(opt.CAFiles) == 0 {
		if opt.Transport != nil {
			return opt.Transport, nil
		}
		return http.DefaultTransport.(*http.Transport).Clone(), nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range opt.CAFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate", f)
		}
	}
	base, ok := opt.Transport.(*http.Transport)
	if opt.Transport == nil {
		base, ok = http.DefaultTransport.(*http.Transport), true
	}
	if !ok {
		return nil, errors.New("custom CAs need an *http.Transport")
	}
	t := base.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.RootCAs = pool
	return t, nil
}

// DefaultAuthFiles are the usual credential files, in the order podman
// and skopeo read them: $REGISTRY_AUTH_FILE, containers' auth.json, then
// Docker's config.json.
func DefaultAuthFiles() []string {
	var files []string
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, f)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	if d, err := os.UserConfigDir(); err == nil {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		files = append(files, filepath.Join(d, "config.json"))
	} else if h, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(h, ".docker", "config.json"))
	}
	return files
}

// credentialStore reads the auth files that exist; none gives anonymous
// access.
func credentialStore(files []string) (credentials.Store, error) {
	if files == nil {
		files = DefaultAuthFiles()
	}
	var stores []credentials.Store
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		s, err := credentials.NewStore(f, credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("auth file %s: %w", f, err)
		}
		stores = append(stores, s)
	}
	if len(stores) == 0 {
		return credentials.NewMemoryStore(), nil
	}
	return credentials.NewStoreWithFallbacks(stores[0], stores[1:]...), nil
}
