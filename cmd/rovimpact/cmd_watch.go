package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/rtr"
	"github.com/rovimpact/rovimpact/watch"
)

func init() { register(newWatchCommand) }

// watchOptions are watch's flags: the service's Options plus the flag
// groups watch shares with the other commands.
type watchOptions struct {
	watch.Options
	vrp      vrpOptions
	analysis analysisOptions
	config   string
}

func newWatchCommand() *cobra.Command {
	var opts watchOptions
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

` + exitCodesHelp,
		Example: `  rovimpact watch --local-as 64500 --neighbor 192.0.2.1:64501 --listen 192.0.2.10:179 --rtr 127.0.0.1:3323
  rovimpact watch --bmp 127.0.0.1:11019 --vrps /var/lib/rpki-client/json --http 127.0.0.1:8323
  rovimpact watch --local-as 64500 --accept 10.0.0.0/24 --rtr cache1:323 --rtr cache2:323 --dump /var/lib/rovimpact/ribs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatch(cmd.Context(), flagfile.Given(cmd.Flags()), cmd.ErrOrStderr(), nil)
		},
	}
	addWatchFlags(cmd, &opts)
	return cmd
}

// addWatchFlags binds watch's flags to opts.
func addWatchFlags(cmd *cobra.Command, opts *watchOptions) {
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "read flags from the YAML `FILE` (keys: flag names without --; flags given here win); SIGHUP reads it again")
	f.StringVar(&opts.Listen, "listen", collector.DefaultBGPListen.String(), "BGP: accept sessions on `ADDR:PORT`")
	f.StringArrayVar(&opts.Neighbors, "neighbor", nil, "BGP: accept a session from `IP[:AS]` (IPv6 with an AS: [2001:db8::1]:64501; no AS: any) (repeatable)")
	f.StringArrayVar(&opts.Accept, "accept", nil, "BGP: accept sessions from any address in `PREFIX` (dynamic neighbors) (repeatable)")
	f.Var((*asnValue)(&opts.AcceptAS), "accept-as", "BGP: the `AS` --accept peers must have (0: any)")
	f.StringVar(&opts.RouterID, "router-id", "", "BGP: router ID (IPv4 `ADDR`); default: the --listen address, or 127.0.0.1 for a wildcard one")
	f.StringVar(&opts.BMP, "bmp", "", "BMP: accept router connections on `ADDR:PORT` (RFC 7854, pre-policy route monitoring)")
	f.StringArrayVar(&opts.BMPAccept, "bmp-accept", nil, "BMP: accept routers from `PREFIX` (repeatable; default loopback only)")
	f.DurationVar(&opts.EORTimeout, "eor-timeout", watch.DefaultEORTimeout, "how long a session's initial table is held for its End-of-RIB before it is summed up anyway (initial_load, cause load_timeout); 0: end it at the first --interval")
	f.Uint32Var(&opts.MaxPrefixes, "max-prefixes", 0, "per-peer path limit (BGP: per family, the session is torn down; BMP: further paths are skipped and counted) (0: none)")
	addVRPFlags(cmd, &opts.vrp)
	f.StringArrayVar(&opts.RTR, "rtr", nil, "RPKI-RTR cache `HOST:PORT` (RFC 8210, falls back to RFC 6810) (repeatable)")
	f.DurationVar(&opts.RTRRetry, "rtr-retry", 5*time.Second, "first delay before reconnecting to a cache; it doubles up to the cache's retry interval (RFC 8210 §6) or 60 s, whichever is lower")
	f.DurationVar(&opts.RTRTimeout, "rtr-timeout", rtr.DefaultResponseTimeout, "a cache that leaves a query unanswered this long (no PDU at all, or none inside a response) is declared down and reconnected")
	addAnalysisFlags(cmd, &opts.analysis)
	// One AS plays both parts: the collector speaks BGP as the operator's
	// AS, and routes its iBGP peers originate (empty AS_PATH) come from it.
	f.Lookup("local-as").Usage = "your `AS`: the collector's BGP AS (required with --neighbor or --accept), and the origin of routes with an empty AS_PATH or a final confederation segment"
	f.StringVar(&opts.HTTP, "http", watch.DefaultHTTP, "serve /metrics and the JSON API on `ADDR:PORT` (\"\": no HTTP)")
	f.StringVar(&opts.LogFormat, "log-format", "text", "log line `format`: text or json")
	f.DurationVar(&opts.Interval, "interval", 2*time.Second, "how often changes of invalid routes are looked for and logged")
	f.DurationVar(&opts.SummaryInterval, "summary-interval", time.Minute, "how often a one-line summary is logged (0: never)")
	f.DurationVar(&opts.FilePoll, "file-poll", 5*time.Second, "how often --vrps files are checked for changes (0: only on SIGHUP)")
	f.StringVar(&opts.Dump, "dump", "", "write the collected table as gzip-compressed MRT TABLE_DUMP_V2 files into `DIR`")
	f.DurationVar(&opts.DumpInterval, "dump-interval", time.Hour, "how often --dump writes a file (one more is written at exit)")
	f.IntVar(&opts.DumpKeep, "dump-keep", 0, "keep the newest `N` --dump files, remove older ones (0: all)")
	f.DurationVar(&opts.DumpMaxAge, "dump-max-age", 0, "remove --dump files older than this (0: never)")
	f.IntVar(&opts.MaxChangeLogs, "max-change-logs", 1000, "log at most `N` invalid route changes per --interval; the rest are counted in one line")
}

// runWatch runs the watch configured by args (the command line's flags,
// as flagfile.Given lists them) and its --config file, which SIGHUP reads
// again; ready, when non-nil, receives the running service once every
// listener is bound (tests use it to find the addresses).
func runWatch(ctx context.Context, args []string, stderr io.Writer, ready func(*watch.Service)) error {
	o, err := watchConfig(args)
	if err != nil {
		return err
	}
	o.Reload = func() (watch.Options, error) { return watchConfig(args) }
	err = watch.Run(ctx, o, stderr, ready)
	var ue *watch.UsageError
	if errors.As(err, &ue) {
		return usageError("%v", err)
	}
	return err
}
