// Command rootfsd builds minimal root filesystems and container images from
// Debian, Ubuntu and Alpine packages, without Docker and without root.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rootfsd/rootfsd/store/image/publish"
)

func main() {
	// The containers-storage commit re-executes rootfsd inside a user
	// namespace; the child starts here.
	if publish.InitReexec() {
		return
	}
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("ROOTFSD_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}
