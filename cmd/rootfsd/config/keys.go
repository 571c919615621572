package config

// Type is the type of a configuration value.
type Type string

const (
	String Type = "string"
	Bool   Type = "bool"
	// List is a list of strings: a TOML array, or a comma-separated
	// environment variable.
	List Type = "list"
)

// Key describes one configuration value.
type Key struct {
	// Name is the TOML key, dotted for tables ("build.distro").
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Env is the environment variable that overrides files.
	Env string `json:"env"`
	// Flag is the command-line flag that overrides everything ("" for none).
	Flag string `json:"flag,omitempty"`
	// Default is the built-in value: a string, bool or []string.
	Default any    `json:"default"`
	Help    string `json:"help"`
}

// Keys lists every configuration key, in the order `rootfsd config`
// prints them. The list is built fresh on each call.
func Keys() []Key {
	return []Key{
		{Name: "cache-dir", Type: String, Env: "ROOTFSD_CACHE_DIR", Flag: "cache-dir", Default: "",
			Help: "cache directory (empty: $XDG_CACHE_HOME/rootfsd, /var/cache/rootfsd as root)"},
		{Name: "mirror", Type: String, Env: "ROOTFSD_MIRROR", Flag: "mirror", Default: "",
			Help: "archive mirror URL (empty: discovered from the host's apt sources and debootstrap's scripts)"},
		{Name: "security-mirror", Type: String, Env: "ROOTFSD_SECURITY_MIRROR", Flag: "security-mirror", Default: "",
			Help: "security archive mirror URL"},
		{Name: "keyrings", Type: List, Env: "ROOTFSD_KEYRINGS", Flag: "keyring", Default: []string{},
			Help: "key files to trust instead of the embedded archive keys"},
		{Name: "offline", Type: Bool, Env: "ROOTFSD_OFFLINE", Flag: "offline", Default: false,
			Help: "use cached indexes only, without network"},
		{Name: "cache-from", Type: String, Env: "ROOTFSD_CACHE_FROM", Flag: "cache-from", Default: "",
			Help: "registry cache to pull layers and packages from on a miss: oci://HOST/REPO"},
		{Name: "cache-to", Type: String, Env: "ROOTFSD_CACHE_TO", Flag: "cache-to", Default: "",
			Help: "registry cache to push layers and packages to after a build: oci://HOST/REPO"},
		{Name: "plain-http", Type: Bool, Env: "ROOTFSD_PLAIN_HTTP", Flag: "plain-http", Default: false,
			Help: "speak plain HTTP to a registry cache on a loopback address"},
		{Name: "format", Type: String, Env: "ROOTFSD_FORMAT", Flag: "format", Default: "table",
			Help: "output format: table or json"},
		{Name: "daemon", Type: String, Env: "ROOTFSD_DAEMON", Flag: "daemon", Default: "auto",
			Help: "where commands run: auto, always (the daemon), never (in-process)"},
		{Name: "socket", Type: String, Env: "ROOTFSD_SOCKET", Flag: "socket", Default: "",
			Help: "the daemon's socket (empty: $XDG_RUNTIME_DIR/rootfsd/rootfsd.sock, /run/rootfsd/rootfsd.sock as root)"},
		{Name: "build.distro", Type: String, Env: "ROOTFSD_DISTRO", Flag: "distro", Default: "",
			Help: "release used when --distro is not given, e.g. debian:12"},
		{Name: "build.arch", Type: String, Env: "ROOTFSD_ARCH", Flag: "arch", Default: "amd64",
			Help: "architecture"},
		{Name: "build.variant", Type: String, Env: "ROOTFSD_VARIANT", Flag: "variant", Default: "base",
			Help: "package set added to the requested packages: base, custom, essential, minbase, apt"},
		{Name: "build.components", Type: List, Env: "ROOTFSD_COMPONENTS", Flag: "components", Default: []string{},
			Help: "components (empty: the release's defaults)"},
		{Name: "build.with-recommends", Type: Bool, Env: "ROOTFSD_WITH_RECOMMENDS", Flag: "with-recommends", Default: false,
			Help: "also install Recommends"},
		{Name: "build.trim", Type: String, Env: "ROOTFSD_TRIM", Flag: "trim", Default: "docs",
			Help: "what builds leave out: none, docs, minimal"},
	}
}

// lookupKey finds a key by name.
func lookupKey(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

func keyNames() []string {
	var out []string
	for _, k := range Keys() {
		out = append(out, k.Name)
	}
	return out
}
