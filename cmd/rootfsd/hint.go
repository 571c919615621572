package main

import (
	"errors"
	"net"
)

// hint says what to do about an error whose message alone does not: a
// mirror or registry that cannot be reached from this machine.
func hint(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return "the host " + dns.Name + " cannot be resolved from here: give a mirror this machine reaches with --mirror URL (or ROOTFSD_MIRROR, or mirror = \"...\" in the config file; for another architecture, a mirror that serves it), or check the DNS settings"
	case errors.As(err, &op) && op.Op == "dial":
		return "the connection failed: check that the mirror or registry is up and reachable from here, or give another with --mirror URL (or ROOTFSD_MIRROR)"
	}
	return ""
}
