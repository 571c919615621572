package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootfsd/rootfsd/api"
)

// statusView is what `rootfsd status --format json` prints.
type statusView struct {
	Socket  string      `json:"socket"`
	Running bool        `json:"running"`
	Status  *api.Status `json:"status,omitempty"`
	// Cache is the local cache's usage when no daemon answers.
	Cache *api.CacheUsage `json:"cache,omitempty"`
}

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the daemon, the builds it runs, its work sharing and its cache",
		Long: `status asks the daemon on the socket what it is doing: its process, the
requests under way (who asked, since when, at which step), how many downloads
were shared between requests, and the cache. Without a daemon it says so and
shows the local cache (with --daemon always, that is an error).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := g.checkFormat(); err != nil {
				return err
			}
			v := statusView{Socket: g.socketPath()}
			cl, err := g.client()
			if err != nil {
				return err
			}
			if cl != nil {
				defer cl.Close()
				if v.Status, err = cl.Status(c.Context()); err != nil {
					return err
				}
				v.Running = true
			} else {
				u, err := localCache{open: g.engine().Store}.CacheStats(c.Context(), api.Options{})
				if err != nil {
					return err
				}
				v.Cache = u
			}
			if g.format == "json" {
				return writeJSON(g.stdout, v)
			}
			printStatus(g, v)
			return nil
		},
	}
}

func printStatus(g *globals, v statusView) {
	w := g.stdout
	if !v.Running {
		fmt.Fprintf(w, "no daemon on %s (commands run in-process; start one with \"rootfsd serve\")\n", v.Socket)
		printUsage(g, v.Cache)
		return
	}
	s := v.Status
	d := s.Daemon
	state := "serving"
	if d.Draining {
		state = "draining"
	}
	fmt.Fprintf(w, "daemon %s on %s: pid %d, uid %d, %s, up %s, RSS %s, %d requests\n", d.Version, d.Socket, d.PID, d.UID,
		state, time.Since(d.Started).Round(time.Second), humanBytes(d.RSSBytes), d.Requests)
	fmt.Fprintf(w, "limits: %d builds, %d downloads at once\n", d.MaxBuilds, d.MaxDownloads)
	if len(s.Operations) == 0 {
		fmt.Fprintln(w, "no requests under way")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tMETHOD\tDISTRO\tPACKAGES\tCLIENT\tFOR\tSTEP")
		for _, o := range s.Operations {
			step := o.Phase
			if o.LastMessage != "" {
				step += ": " + o.LastMessage
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tuid %d pid %d\t%s\t%s\n", o.ID, o.Method, o.Distro, clip(strings.Join(o.Packages, ","), 40),
				o.ClientUID, o.ClientPID, time.Since(o.Started).Round(time.Second), clip(step, 60))
		}
		tw.Flush()
	}
	sh := s.Share
	fmt.Fprintf(w, "downloads: %d upstream (%s), %d joined one under way, %d in flight\n", sh.Upstream, humanBytes(sh.UpstreamBytes), sh.Joined, sh.InFlight)
	if s.Cache != nil {
		printUsage(g, s.Cache)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
