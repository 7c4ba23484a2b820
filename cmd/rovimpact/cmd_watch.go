package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/watch"
)

func init() { register(newWatchCommand) }

func newWatchCommand() *cobra.Command {
	var opts watch.Flags
	cmd := &cobra.Command{
		Use:   "watch (--neighbor IP[:AS]... | --accept PREFIX... | --bmp ADDR:PORT) (--rtr HOST:PORT... | --vrps FILE...) [flags]",
		Short: "Collect routes live (BGP, BMP) and VRPs (RPKI-RTR, files) and keep the ROV impact current",
		Long: `watch keeps the analysis of analyze current. Routers peer with it over BGP
(it never advertises anything) or stream to it over BMP (RFC 7854); it keeps
every peer's pre-policy paths, fetches VRPs from RPKI caches over RPKI-RTR
(RFC 8210, falling back to RFC 6810) and/or files, and re-validates only the
routes a VRP change can affect.

Outputs:
  HTTP (--http, loopback by default, read-only):
    /metrics       Prometheus: routes by state, invalids by class, dropped by
                   impact, per peer; VRPs, serial and age per cache; sessions
    /api/report    the analyze JSON; /api/summary and /api/invalids its parts
                   (/api/invalids?class=&impact=&origin=&dropped= filters)
    /api/lookup?q= the lookup JSON (&origin=AS as lookup --origin)
    /api/caches    VRP sources and the VRPs they disagree on
    /healthz       200 when ROV runs on live data; 503 with the reasons when no
                   VRP source has delivered data, the VRP union is empty,
                   every source is past its expire interval, or no route
                   session is up
  Log lines (--log-format text|json) when an invalid route appears,
  disappears or changes class or impact, when a session or cache goes up or
  down, when VRPs change, and a summary every --summary-interval.
  --dump DIR writes the table every --dump-interval (and at exit) as a
  gzipped MRT TABLE_DUMP_V2 file that analyze reads (rib.YYYYMMDD.HHMMSS.mrt.gz,
  never overwritten); --dump-keep and --dump-max-age remove old ones.

VRP sources are kept apart (GET /api/caches shows where they disagree) and
their union is used (RFC 8210 §10). --vrps files are re-read when they
change (checked every --file-poll) or on SIGHUP. --config FILE gives any
flag as a YAML key; SIGHUP re-reads it and applies what needs no restart. SLURM filters apply to
every source; SLURM assertions are added to the union. SLURM files are read
at start and on SIGHUP with --config.

Everything listens on loopback unless an address is given. BGP accepts only
--neighbor addresses and --accept prefixes; BMP only --bmp-accept routers
(loopback by default). SIGINT or SIGTERM stops it gracefully.

` + exitcode.Help,
		Example: `  rovimpact watch --local-as 64500 --neighbor 192.0.2.1:64501 --listen 192.0.2.10:179 --rtr 127.0.0.1:3323
  rovimpact watch --bmp 127.0.0.1:11019 --vrps /var/lib/rpki-client/json --http 127.0.0.1:8323
  rovimpact watch --local-as 64500 --accept 10.0.0.0/24 --rtr cache1:323 --rtr cache2:323 --dump /var/lib/rovimpact/ribs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatch(cmd.Context(), flagfile.Given(cmd.Flags()), cmd.ErrOrStderr(), nil)
		},
	}
	watch.AddFlags(cmd.Flags(), &opts)
	return cmd
}

// runWatch runs the watch configured by args (the command line's flags,
// as flagfile.Given lists them) and its --config file, which SIGHUP reads
// again; ready, when non-nil, receives the running service once every
// listener is bound (tests use it to find the addresses).
func runWatch(ctx context.Context, args []string, stderr io.Writer, ready func(*watch.Service)) error {
	o, err := watch.Configure(args)
	if err != nil {
		return err
	}
	o.Reload = func() (watch.Options, error) { return watch.Configure(args) }
	// A *watch.UsageError is exit 2 (its ExitCode).
	return watch.Run(ctx, o, stderr, ready)
}
