// Package debtest exports the fixture builders of deb's own tests to the
// tests of other packages (the CLI and the daemon): signed repositories
// served on 127.0.0.1, keys, and .deb files built in memory. It is only
// imported by tests.
package debtest

import in "github.com/rootfsd/rootfsd/deb/internal/debtest"

type (
	ArMember   = in.ArMember
	Cache      = in.Cache
	Deb        = in.Deb
	DebEntry   = in.DebEntry
	KeyAlgo    = in.KeyAlgo
	KeyOptions = in.KeyOptions
	Repo       = in.Repo
	Server     = in.Server
)

var (
	Ar             = in.Ar
	ArmoredKeyring = in.ArmoredKeyring
	ClearSign      = in.ClearSign
	Compress       = in.Compress
	Compressed     = in.Compressed
	DetachSign     = in.DetachSign
	Epoch          = in.Epoch
	GenerateKey    = in.GenerateKey
	MD5Sums        = in.MD5Sums
	MakeDeb        = in.MakeDeb
	NewCache       = in.NewCache
	NewKey         = in.NewKey
	Packages       = in.Packages
	PublicKeyring  = in.PublicKeyring
	Serve          = in.Serve
	SigningKey     = in.SigningKey
	SparseTar      = in.SparseTar
	Sum            = in.Sum
	Tar            = in.Tar
	Trust          = in.Trust
)

// Key algorithms of KeyOptions.
const (
	RSA     = in.RSA
	Ed25519 = in.Ed25519
)
