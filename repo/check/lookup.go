package check

import (
	"context"
	"path"
	"strings"
	"unicode"
)

// NeedKind is what a finding lacks.
type NeedKind string

const (
	// NeedLibrary is a shared library by soname ("libssl.so.3").
	NeedLibrary NeedKind = "library"
	// NeedFile is a file or directory by path ("/etc/ssl/certs/...").
	NeedFile NeedKind = "file"
	// NeedCommand is a program by name ("sh"); Path is the full path asked
	// for, when there was one.
	NeedCommand NeedKind = "command"
)

// Need is what a Lookup is asked to supply.
type Need struct {
	Kind NeedKind `json:"kind"`
	// Name is the soname, the file's base name, or the command.
	Name string `json:"name"`
	// Path is the absolute path wanted, for files and commands.
	Path string `json:"path,omitempty"`
}

// Lookup names the packages that would supply need, best first, or nil
// when it does not know. The format backends implement it from their
// indexes: apk's index answers libraries and commands exactly through its
// "so:" and "cmd:" provides; Debian's, without Contents files, can confirm
// which of the Candidates exist (see IndexLookup).
type Lookup func(ctx context.Context, need Need) []string

// IndexLookup builds a Lookup from a name query: known returns the
// packages a name stands for in the index (itself, or the providers of a
// virtual name such as apk's "so:libssl.so.3"), or nil if the index does
// not have it. The answer is Candidates filtered through known.
func IndexLookup(family string, known func(ctx context.Context, name string) []string) Lookup {
	return func(ctx context.Context, need Need) []string {
		var out []string
		seen := map[string]bool{}
		for _, cand := range Candidates(family, need) {
			for _, p := range known(ctx, cand) {
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
		return out
	}
}

// Candidates returns the packages a need most likely comes from, by the
// distribution's naming rules and a short table of well-known exceptions,
// without any index. For Debian libraries that is the soname rule of
// Debian Policy 8.1 (libfoo.so.3 -> libfoo3, libfoo2.so.3 -> libfoo2-3)
// plus the names of the 64-bit time_t transition (libfoo3t64); for Alpine
// the "so:" and "cmd:" names apk resolves to their providers.
func Candidates(family string, need Need) []string {
	if need.Kind == NeedFile {
		return fileCandidates(family, need)
	}
	if need.Kind == NeedCommand && need.Path != "" && !systemBin[path.Dir(need.Path)] {
		return nil // a program of the image's own, not of a package
	}
	switch family {
	case "apk":
		if need.Kind == NeedLibrary {
			return appendNew(apkLibraries[need.Name], "so:"+need.Name)
		}
		return []string{"cmd:" + need.Name}
	case "deb":
		if need.Kind == NeedLibrary {
			return debLibraryNames(need.Name)
		}
		if p, ok := debCommands[need.Name]; ok {
			return []string{p}
		}
		if isPackageName(need.Name) {
			return []string{need.Name}
		}
	}
	return nil
}

// systemBin are the directories packages put programs in.
var systemBin = map[string]bool{"/bin": true, "/sbin": true, "/usr/bin": true, "/usr/sbin": true, ".": true}

// debLibraries are sonames whose package does not follow the naming rule.
var debLibraries = map[string][]string{
	"libc.so.6": {"libc6"}, "libm.so.6": {"libc6"}, "libpthread.so.0": {"libc6"}, "libdl.so.2": {"libc6"},
	"librt.so.1": {"libc6"}, "libresolv.so.2": {"libc6"}, "libutil.so.1": {"libc6"}, "libanl.so.1": {"libc6"},
	"libmvec.so.1": {"libc6"}, "libBrokenLocale.so.1": {"libc6"}, "libnss_files.so.2": {"libc6"}, "libnss_dns.so.2": {"libc6"},
	"libcrypto.so.3": {"libssl3t64", "libssl3"}, "libcrypto.so.1.1": {"libssl1.1"}, "libssl.so.1.1": {"libssl1.1"},
	"libz.so.1": {"zlib1g"}, "libgcc_s.so.1": {"libgcc-s1"}, "libbz2.so.1.0": {"libbz2-1.0"},
	"libxml2.so.2": {"libxml2"}, "libpam.so.0": {"libpam0g"}, "libpam_misc.so.0": {"libpam0g"},
	"libbrotlidec.so.1": {"libbrotli1"}, "libbrotlicommon.so.1": {"libbrotli1"}, "libbrotlienc.so.1": {"libbrotli1"},
	"liblber.so.2": {"libldap2"}, "libldap.so.2": {"libldap2"}, "liblber-2.5.so.0": {"libldap-2.5-0"},
	"libcurl-gnutls.so.4": {"libcurl3t64-gnutls", "libcurl3-gnutls"}, "libncurses.so.6": {"libncurses6"},
	"libformw.so.6": {"libncursesw6"}, "libmenuw.so.6": {"libncursesw6"}, "libpanelw.so.6": {"libncursesw6"},
	"libpcre.so.3": {"libpcre3"}, "libsmartcols.so.1": {"libsmartcols1"}, "libcap-ng.so.0": {"libcap-ng0"},
}

// debLibraryNames applies Debian's soname rule: the library name, a
// hyphen if it ends in a digit, the soname version; lower-case, "_" as "-".
func debLibraryNames(soname string) []string {
	if known, ok := debLibraries[soname]; ok {
		return append([]string(nil), known...)
	}
	if strings.HasPrefix(soname, "ld-linux") || strings.HasPrefix(soname, "ld64.so") {
		return []string{"libc6"}
	}
	var out []string
	base, ver, ok := strings.Cut(soname, ".so")
	if !ok {
		return out
	}
	ver = strings.TrimPrefix(ver, ".")
	name := strings.ReplaceAll(strings.ToLower(base), "_", "-")
	var rule string
	switch {
	case ver == "":
		rule = name
	case name != "" && unicode.IsDigit(rune(name[len(name)-1])):
		rule = name + "-" + ver
	default:
		rule = name + ver
	}
	out = appendNew(out, rule+"t64", rule)
	if ver != "" && !strings.HasSuffix(rule, "-"+ver) {
		out = appendNew(out, name+"-"+ver)
	}
	var keep []string
	for _, n := range out {
		if isPackageName(n) {
			keep = append(keep, n)
		}
	}
	return keep
}

// debCommands are programs whose package is not named after them.
var debCommands = map[string]string{
	"sh": "dash", "env": "coreutils", "cat": "coreutils", "ls": "coreutils", "cp": "coreutils", "mv": "coreutils",
	"rm": "coreutils", "mkdir": "coreutils", "echo": "coreutils", "sleep": "coreutils", "true": "coreutils",
	"id": "coreutils", "chmod": "coreutils", "chown": "coreutils", "ln": "coreutils", "find": "findutils",
	"xargs": "findutils", "ps": "procps", "ip": "iproute2", "awk": "mawk", "perl": "perl-base",
	"ssh": "openssh-client", "nc": "netcat-openbsd", "python": "python3", "node": "nodejs",
	"update-ca-certificates": "ca-certificates", "ldconfig": "libc-bin", "getent": "libc-bin", "nologin": "login",
}

// apkLibraries are Alpine sonames whose package is worth naming first.
var apkLibraries = map[string][]string{
	"libssl.so.3": {"libssl3"}, "libcrypto.so.3": {"libcrypto3"}, "libz.so.1": {"zlib"},
	"libc.musl-x86_64.so.1": {"musl"}, "libc.musl-aarch64.so.1": {"musl"},
}

// fileCandidates names the packages of a few files every image needs.
func fileCandidates(family string, need Need) []string {
	p := need.Path
	deb := family == "deb"
	switch {
	case p == caBundles[0] || p == "/etc/ssl/cert.pem":
		if deb {
			return []string{"ca-certificates"}
		}
		return []string{"ca-certificates-bundle"}
	case p == zoneinfo || strings.HasPrefix(p, zoneinfo+"/"):
		return []string{"tzdata"}
	case p == "/tmp":
		if deb {
			return []string{"base-files"}
		}
		return []string{"alpine-baselayout"}
	case p == "/etc/passwd" || p == "/etc/group":
		if deb {
			return []string{"base-passwd"}
		}
		return []string{"alpine-baselayout-data"}
	case strings.HasPrefix(path.Base(p), "ld-musl-"):
		return []string{"musl"}
	case strings.HasPrefix(path.Base(p), "ld-linux") || strings.HasPrefix(path.Base(p), "ld64.so"):
		if deb {
			return []string{"libc6"}
		}
		return []string{"gcompat"}
	}
	return nil
}

func isPackageName(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("+-.", r)
		if !ok {
			return false
		}
	}
	return true
}

func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		found := false
		for _, x := range list {
			found = found || x == n
		}
		if !found {
			list = append(list, n)
		}
	}
	return list
}

// needOf is the Need behind a finding, for naming the fixing package.
func needOf(f Finding) (Need, bool) {
	switch f.Kind {
	case MissingLibrary:
		return Need{Kind: NeedLibrary, Name: f.Missing}, true
	case MissingInterpreter:
		return Need{Kind: NeedFile, Name: path.Base(f.Missing), Path: f.Missing}, true
	case NoCABundle:
		return Need{Kind: NeedFile, Name: path.Base(f.Missing), Path: f.Missing}, true
	case MissingEntrypoint, MissingScriptInterpreter:
		return Need{Kind: NeedCommand, Name: path.Base(f.Missing), Path: f.Missing}, true
	case MissingTmp:
		return Need{Kind: NeedFile, Name: "tmp", Path: "/tmp"}, true
	case MissingTimezone:
		return Need{Kind: NeedFile, Name: "zoneinfo", Path: zoneinfo}, true
	}
	return Need{}, false
}
