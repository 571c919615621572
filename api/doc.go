// Package api is rootfsd's thin adapter between the protobuf service
// rootfsd.v1 and the service that does the work. NewHandler serves a
// Service over gRPC, gRPC-Web and Connect on one HTTP handler, with server
// reflection and the standard gRPC health service, and checks every
// caller's credentials (SO_PEERCRED) before any handler runs; Listen opens
// the unix socket, or takes it from systemd (LISTEN_FDS). Client speaks the
// same protocol and implements Service too, so the CLI prints the same
// whether the work runs in a daemon or in-process.
//
// Handlers only translate: messages to the Go model of package repo and
// back, events to stream messages. Nothing here knows a package format or
// the cache's layout; cmd/rootfsd wires the engine in as the Service. The
// generated code lives in rootfsd/v1 and is reproduced byte for byte by
// generate.sh with pinned generators.
package api

//go:generate sh generate.sh
