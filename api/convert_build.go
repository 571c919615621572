package api

import (
	"time"

	pb "github.com/rootfsd/rootfsd/api/rootfsd/v1"
)

// Conversions of builds, cache reports and status.

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func emptyMapNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func buildRequestToProto(opt Options, r BuildRequest) *pb.BuildRequest {
	m := &pb.BuildRequest{Options: optionsToProto(opt), Request: RequestToProto(r.Request), Lock: LockToProto(r.Lock),
		Outputs: r.Outputs, Tag: r.Tag, Trim: r.Trim, Scripts: r.Scripts, Users: r.Users,
		Env: r.Env, Cmd: r.Cmd, Entrypoint: r.Entrypoint, WorkingDir: r.WorkingDir, User: r.User,
		Labels: r.Labels, Annotations: r.Annotations, Layering: r.Layering}
	if !r.Epoch.IsZero() {
		s := r.Epoch.Unix()
		m.EpochUnix = &s
	}
	for _, p := range r.Platforms {
		m.Platforms = append(m.Platforms, &pb.Platform{Request: RequestToProto(p.Request), Lock: LockToProto(p.Lock)})
	}
	return m
}

func buildRequestFromProto(m *pb.BuildRequest) (BuildRequest, error) {
	l, err := LockFromProto(m.GetLock())
	if err != nil {
		return BuildRequest{}, err
	}
	r := BuildRequest{Request: RequestFromProto(m.GetRequest()), Lock: l,
		Outputs: nilIfEmpty(m.GetOutputs()), Tag: m.GetTag(), Trim: m.GetTrim(), Scripts: m.GetScripts(),
		Users: nilIfEmpty(m.GetUsers()), Env: nilIfEmpty(m.GetEnv()), Cmd: nilIfEmpty(m.GetCmd()),
		Entrypoint: nilIfEmpty(m.GetEntrypoint()), WorkingDir: m.GetWorkingDir(), User: m.GetUser(),
		Labels: emptyMapNil(m.GetLabels()), Annotations: emptyMapNil(m.GetAnnotations()), Layering: m.GetLayering()}
	if m.EpochUnix != nil {
		r.Epoch = time.Unix(m.GetEpochUnix(), 0).UTC()
	}
	for _, p := range m.GetPlatforms() {
		l, err := LockFromProto(p.GetLock())
		if err != nil {
			return BuildRequest{}, err
		}
		r.Platforms = append(r.Platforms, Platform{Request: RequestFromProto(p.GetRequest()), Lock: l})
	}
	return r, nil
}

func buildResultToProto(r *BuildResult) *pb.BuildResult {
	if r == nil {
		return &pb.BuildResult{}
	}
	m := &pb.BuildResult{Lock: LockToProto(r.Lock), LayerDigest: r.LayerDigest, LayerSize: r.LayerSize,
		ImageId: r.ImageID, ManifestDigest: r.ManifestDigest, Outputs: r.Outputs, Sbom: r.SBOM,
		Warnings: r.Warnings, Cached: r.Cached, Layers: layersToProto(r.Layers)}
	for _, p := range r.Platforms {
		m.Platforms = append(m.Platforms, buildResultToProto(p))
	}
	return m
}

func layersToProto(ls []BuildLayer) []*pb.BuildLayer {
	var out []*pb.BuildLayer
	for _, l := range ls {
		out = append(out, &pb.BuildLayer{Digest: l.Digest, Size: l.Size, Packages: l.Packages})
	}
	return out
}

func layersFromProto(ms []*pb.BuildLayer) []BuildLayer {
	var out []BuildLayer
	for _, m := range ms {
		out = append(out, BuildLayer{Digest: m.GetDigest(), Size: m.GetSize(), Packages: nilIfEmpty(m.GetPackages())})
	}
	return out
}

func buildResultFromProto(m *pb.BuildResult) (*BuildResult, error) {
	l, err := LockFromProto(m.GetLock())
	if err != nil {
		return nil, err
	}
	r := &BuildResult{Lock: l, LayerDigest: m.GetLayerDigest(), LayerSize: m.GetLayerSize(),
		ImageID: m.GetImageId(), ManifestDigest: m.GetManifestDigest(), Outputs: nilIfEmpty(m.GetOutputs()),
		SBOM: nilIfEmpty(m.GetSbom()), Warnings: nilIfEmpty(m.GetWarnings()), Cached: m.GetCached(),
		Layers: layersFromProto(m.GetLayers())}
	for _, pm := range m.GetPlatforms() {
		p, err := buildResultFromProto(pm)
		if err != nil {
			return nil, err
		}
		r.Platforms = append(r.Platforms, p)
	}
	return r, nil
}

func countToProto(c Count) *pb.Count   { return &pb.Count{Files: int64(c.Files), Bytes: c.Bytes} }
func countFromProto(m *pb.Count) Count { return Count{Files: int(m.GetFiles()), Bytes: m.GetBytes()} }

func usageToProto(u *CacheUsage) *pb.CacheUsage {
	if u == nil {
		return nil
	}
	m := &pb.CacheUsage{Dir: u.Dir, Blobs: countToProto(u.Blobs), Kinds: map[string]*pb.Count{},
		Referenced: countToProto(u.Referenced), Temp: countToProto(u.Temp), Quarantine: countToProto(u.Quarantine), MetaBytes: u.MetaBytes}
	for k, c := range u.Kinds {
		m.Kinds[k] = countToProto(c)
	}
	return m
}

func usageFromProto(m *pb.CacheUsage) *CacheUsage {
	if m == nil {
		return nil
	}
	u := &CacheUsage{Dir: m.GetDir(), Blobs: countFromProto(m.GetBlobs()), Kinds: map[string]Count{},
		Referenced: countFromProto(m.GetReferenced()), Temp: countFromProto(m.GetTemp()),
		Quarantine: countFromProto(m.GetQuarantine()), MetaBytes: m.GetMetaBytes()}
	for k, c := range m.GetKinds() {
		u.Kinds[k] = countFromProto(c)
	}
	return u
}

func blobsToProto(bs []Blob) []*pb.Blob {
	var out []*pb.Blob
	for _, b := range bs {
		out = append(out, &pb.Blob{Digest: b.Digest, Size: b.Size, Kind: b.Kind, Name: b.Name,
			AddedUnixMs: unixMilli(b.Added), LastUsedUnixMs: unixMilli(b.LastUsed), Refs: b.Refs})
	}
	return out
}

func blobsFromProto(ms []*pb.Blob) []Blob {
	var out []Blob
	for _, m := range ms {
		out = append(out, Blob{Digest: m.GetDigest(), Size: m.GetSize(), Kind: m.GetKind(), Name: m.GetName(),
			Added: fromUnixMilli(m.GetAddedUnixMs()), LastUsed: fromUnixMilli(m.GetLastUsedUnixMs()), Refs: nilIfEmpty(m.GetRefs())})
	}
	return out
}

func verifyToProto(r *VerifyReport) *pb.CacheVerifyResponse {
	m := &pb.CacheVerifyResponse{Blobs: countToProto(r.Blobs), TempRemoved: countToProto(r.TempRemoved)}
	for _, p := range r.Problems {
		m.Problems = append(m.Problems, &pb.Problem{Kind: p.Kind, Digest: p.Digest, Key: p.Key, Detail: p.Detail, Repaired: p.Repaired})
	}
	return m
}

func verifyFromProto(m *pb.CacheVerifyResponse) *VerifyReport {
	r := &VerifyReport{Blobs: countFromProto(m.GetBlobs()), TempRemoved: countFromProto(m.GetTempRemoved())}
	for _, p := range m.GetProblems() {
		r.Problems = append(r.Problems, Problem{Kind: p.GetKind(), Digest: p.GetDigest(), Key: p.GetKey(), Detail: p.GetDetail(), Repaired: p.GetRepaired()})
	}
	return r
}

func pruneOptionsFromProto(m *pb.CachePruneRequest) PruneOptions {
	return PruneOptions{OlderThan: time.Duration(m.GetOlderThanSeconds()) * time.Second, KeepReferenced: m.GetKeepReferenced(),
		MaxBytes: m.GetMaxBytes(), All: m.GetAll(), DryRun: m.GetDryRun()}
}

func pruneToProto(r *PruneReport) *pb.CachePruneResponse {
	return &pb.CachePruneResponse{Removed: blobsToProto(r.Removed), Freed: countToProto(r.Freed), Kept: countToProto(r.Kept),
		Temp: countToProto(r.Temp), Quarantine: countToProto(r.Quarantine)}
}

func pruneFromProto(m *pb.CachePruneResponse) *PruneReport {
	return &PruneReport{Removed: blobsFromProto(m.GetRemoved()), Freed: countFromProto(m.GetFreed()), Kept: countFromProto(m.GetKept()),
		Temp: countFromProto(m.GetTemp()), Quarantine: countFromProto(m.GetQuarantine())}
}

func statusToProto(s *Status) *pb.StatusResponse {
	d := s.Daemon
	m := &pb.StatusResponse{
		Daemon: &pb.Daemon{Version: d.Version, Pid: int32(d.PID), Uid: d.UID, Socket: d.Socket, CacheDir: d.CacheDir,
			StartedUnixMs: unixMilli(d.Started), RssBytes: d.RSSBytes, MaxBuilds: int32(d.MaxBuilds),
			MaxDownloads: int32(d.MaxDownloads), Draining: d.Draining, Requests: d.Requests},
		Share: &pb.ShareStats{Upstream: s.Share.Upstream, Joined: s.Share.Joined, UpstreamBytes: s.Share.UpstreamBytes,
			InFlight: s.Share.InFlight, Work: s.Share.Work, WorkJoined: s.Share.WorkJoined, PerUrl: s.Share.PerURL},
		Cache: usageToProto(s.Cache),
	}
	for _, o := range s.Operations {
		m.Operations = append(m.Operations, &pb.Operation{Id: o.ID, Method: o.Method, Distro: o.Distro, Packages: o.Packages,
			ClientUid: o.ClientUID, ClientPid: int32(o.ClientPID), StartedUnixMs: unixMilli(o.Started), Phase: o.Phase, LastMessage: o.LastMessage})
	}
	return m
}

func statusFromProto(m *pb.StatusResponse) *Status {
	d := m.GetDaemon()
	sh := m.GetShare()
	s := &Status{
		Daemon: Daemon{Version: d.GetVersion(), PID: int(d.GetPid()), UID: d.GetUid(), Socket: d.GetSocket(), CacheDir: d.GetCacheDir(),
			Started: fromUnixMilli(d.GetStartedUnixMs()), RSSBytes: d.GetRssBytes(), MaxBuilds: int(d.GetMaxBuilds()),
			MaxDownloads: int(d.GetMaxDownloads()), Draining: d.GetDraining(), Requests: d.GetRequests()},
		Share: ShareStats{Upstream: sh.GetUpstream(), Joined: sh.GetJoined(), UpstreamBytes: sh.GetUpstreamBytes(),
			InFlight: sh.GetInFlight(), Work: sh.GetWork(), WorkJoined: sh.GetWorkJoined(), PerURL: sh.GetPerUrl()},
		Cache:      usageFromProto(m.GetCache()),
		Operations: []Operation{},
	}
	for _, o := range m.GetOperations() {
		s.Operations = append(s.Operations, Operation{ID: o.GetId(), Method: o.GetMethod(), Distro: o.GetDistro(),
			Packages: nilIfEmpty(o.GetPackages()), ClientUID: o.GetClientUid(), ClientPID: int(o.GetClientPid()),
			Started: fromUnixMilli(o.GetStartedUnixMs()), Phase: o.GetPhase(), LastMessage: o.GetLastMessage()})
	}
	return s
}
