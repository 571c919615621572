package api

import (
	"fmt"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
	"github.com/rootfsd/rootfsd/repo"
)

// Conversions between the Go model of package repo and the messages.
// Empty repeated fields come back as nil slices, as protobuf has no way to
// tell nil from empty.

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func optionsToProto(o Options) *pb.Options {
	return &pb.Options{Mirror: o.Mirror, SecurityMirror: o.SecurityMirror, Offline: o.Offline, CacheDir: o.CacheDir, Keys: o.Keys}
}

func optionsFromProto(o *pb.Options) Options {
	return Options{Mirror: o.GetMirror(), SecurityMirror: o.GetSecurityMirror(), Offline: o.GetOffline(), CacheDir: o.GetCacheDir(), Keys: nilIfEmpty(o.GetKeys())}
}

// RequestToProto converts a request to its message.
func RequestToProto(r repo.Request) *pb.Request {
	m := &pb.Request{Distro: r.Distro, Arch: r.Arch, Packages: r.Packages, Variant: string(r.Variant),
		Components: r.Components, Recommends: r.Recommends}
	for _, s := range r.Sources {
		m.Sources = append(m.Sources, &pb.Source{Url: s.URL, Suite: s.Suite, Components: s.Components,
			SignedBy: s.SignedBy, Arches: s.Arches, Tag: s.Tag})
	}
	return m
}

// RequestFromProto converts a message to a request.
func RequestFromProto(m *pb.Request) repo.Request {
	r := repo.Request{Distro: m.GetDistro(), Arch: m.GetArch(), Packages: nilIfEmpty(m.GetPackages()),
		Variant: repo.Variant(m.GetVariant()), Components: nilIfEmpty(m.GetComponents()), Recommends: m.GetRecommends()}
	for _, s := range m.GetSources() {
		r.Sources = append(r.Sources, repo.Source{URL: s.GetUrl(), Suite: s.GetSuite(), Components: nilIfEmpty(s.GetComponents()),
			SignedBy: s.GetSignedBy(), Arches: nilIfEmpty(s.GetArches()), Tag: s.GetTag()})
	}
	return r
}

// PlanToProto converts a plan to its message.
func PlanToProto(p *repo.Plan) *pb.Plan {
	if p == nil {
		return nil
	}
	m := &pb.Plan{Family: string(p.Family), Distro: p.Distro, Arch: p.Arch, Variant: string(p.Variant)}
	for _, ix := range p.Indexes {
		m.Indexes = append(m.Indexes, &pb.Index{Name: ix.Name, Url: ix.URL, Digest: ix.Digest, Date: ix.Date})
	}
	for _, k := range p.Packages {
		m.Packages = append(m.Packages, &pb.Package{Name: k.Name, Version: k.Version, Arch: k.Arch,
			Source: k.Source, SourceVersion: k.SourceVersion, Repository: k.Repository, Filename: k.Filename,
			Size: k.Size, Sha256: k.SHA256, Checksum: k.Checksum, InstalledSize: k.InstalledSize,
			Essential: k.Essential, Priority: k.Priority, MultiArch: k.MultiArch, Licence: k.Licence,
			Suite: k.Suite, Reason: k.Reason, Depends: k.Depends})
	}
	return m
}

// PlanFromProto converts a message to a plan.
func PlanFromProto(m *pb.Plan) *repo.Plan {
	if m == nil {
		return nil
	}
	p := &repo.Plan{Family: repo.Family(m.GetFamily()), Distro: m.GetDistro(), Arch: m.GetArch(), Variant: repo.Variant(m.GetVariant())}
	for _, ix := range m.GetIndexes() {
		p.Indexes = append(p.Indexes, repo.Index{Name: ix.GetName(), URL: ix.GetUrl(), Digest: ix.GetDigest(), Date: ix.GetDate()})
	}
	for _, k := range m.GetPackages() {
		p.Packages = append(p.Packages, repo.Planned{Name: k.GetName(), Version: k.GetVersion(), Arch: k.GetArch(),
			Source: k.GetSource(), SourceVersion: k.GetSourceVersion(), Repository: k.GetRepository(), Filename: k.GetFilename(),
			Size: k.GetSize(), SHA256: k.GetSha256(), Checksum: k.GetChecksum(), InstalledSize: k.GetInstalledSize(),
			Essential: k.GetEssential(), Priority: k.GetPriority(), MultiArch: k.GetMultiArch(), Licence: k.GetLicence(),
			Suite: k.GetSuite(), Reason: k.GetReason(), Depends: nilIfEmpty(k.GetDepends())})
	}
	return p
}

// LockToProto converts a lock to its message.
func LockToProto(l *repo.Lock) *pb.Lock {
	if l == nil {
		return nil
	}
	return &pb.Lock{LockVersion: int32(l.LockVersion), Request: RequestToProto(l.Request), Plan: PlanToProto(&l.Plan), Digest: l.Digest()}
}

// LockFromProto converts a message to a lock and validates it as a
// lockfile read from disk would be: a lock names the hashes a build
// trusts, so one that arrives over the socket gets the same checks.
func LockFromProto(m *pb.Lock) (*repo.Lock, error) {
	if m == nil {
		return nil, nil
	}
	l := &repo.Lock{LockVersion: int(m.GetLockVersion()), Request: RequestFromProto(m.GetRequest())}
	if p := PlanFromProto(m.GetPlan()); p != nil {
		l.Plan = *p
	}
	data, err := l.Marshal()
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if _, err := repo.ParseLock(data); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if m.GetDigest() != "" && m.GetDigest() != l.Digest() {
		return nil, fmt.Errorf("lock: digest %s does not match its content (%s)", m.GetDigest(), l.Digest())
	}
	return l, nil
}

// EventToProto converts a progress event.
func EventToProto(e repo.Event) *pb.Event {
	return &pb.Event{Kind: string(e.Kind), Name: e.Name, Message: e.Message, Current: e.Current, Total: e.Total, Cached: e.Cached}
}

// EventFromProto converts a progress event.
func EventFromProto(m *pb.Event) repo.Event {
	return repo.Event{Kind: repo.EventKind(m.GetKind()), Name: m.GetName(), Message: m.GetMessage(),
		Current: m.GetCurrent(), Total: m.GetTotal(), Cached: m.GetCached()}
}

func packageInfosToProto(infos []repo.PackageInfo) *pb.PackageInfos {
	m := &pb.PackageInfos{}
	for _, in := range infos {
		m.Packages = append(m.Packages, &pb.PackageInfo{Name: in.Name, Version: in.Version, Arch: in.Arch,
			Suite: in.Suite, Candidate: in.Candidate, Filename: in.Filename, Size: in.Size, Sha256: in.SHA256,
			Fields: in.Fields, ProvidedBy: in.ProvidedBy, Description: in.Description})
	}
	return m
}

func packageInfosFromProto(m *pb.PackageInfos) []repo.PackageInfo {
	var out []repo.PackageInfo
	for _, in := range m.GetPackages() {
		fields := in.GetFields()
		if fields == nil {
			fields = map[string]string{}
		}
		out = append(out, repo.PackageInfo{Name: in.GetName(), Version: in.GetVersion(), Arch: in.GetArch(),
			Suite: in.GetSuite(), Candidate: in.GetCandidate(), Filename: in.GetFilename(), Size: in.GetSize(),
			SHA256: in.GetSha256(), Fields: fields, ProvidedBy: nilIfEmpty(in.GetProvidedBy()), Description: in.GetDescription()})
	}
	return out
}
