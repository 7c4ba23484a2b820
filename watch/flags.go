package watch

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/rtr"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

// Flags are rovimpact watch's command-line flags: the service's Options,
// the flag groups watch shares with the other commands, and --config, the
// YAML file whose keys are these flags' names (internal/flagfile).
type Flags struct {
	Options
	VRP      study.VRPOptions
	Analysis study.AnalysisOptions
	Config   string
}

// AddFlags binds watch's command-line flags to opts.
func AddFlags(f *pflag.FlagSet, opts *Flags) {
	f.StringVar(&opts.Config, "config", "", "read flags from the YAML `FILE` (keys: flag names without --; flags given here win); SIGHUP reads it again")
	f.StringVar(&opts.Listen, "listen", collector.DefaultBGPListen.String(), "BGP: accept sessions on `ADDR:PORT`")
	f.StringArrayVar(&opts.Neighbors, "neighbor", nil, "BGP: accept a session from `IP[:AS]` (IPv6 with an AS: [2001:db8::1]:64501; no AS: any) (repeatable)")
	f.StringArrayVar(&opts.Accept, "accept", nil, "BGP: accept sessions from any address in `PREFIX` (dynamic neighbors) (repeatable)")
	f.Var((*studyflags.ASN)(&opts.AcceptAS), "accept-as", "BGP: the `AS` --accept peers must have (0: any)")
	f.StringVar(&opts.RouterID, "router-id", "", "BGP: router ID (IPv4 `ADDR`); default: the --listen address, or 127.0.0.1 for a wildcard one")
	f.StringVar(&opts.BMP, "bmp", "", "BMP: accept router connections on `ADDR:PORT` (RFC 7854, pre-policy route monitoring)")
	f.StringArrayVar(&opts.BMPAccept, "bmp-accept", nil, "BMP: accept routers from `PREFIX` (repeatable; default loopback only)")
	f.DurationVar(&opts.EORTimeout, "eor-timeout", DefaultEORTimeout, "how long a session's initial table is held for its End-of-RIB before it is summed up anyway (initial_load, cause load_timeout); 0: end it at the first --interval")
	f.Uint32Var(&opts.MaxPrefixes, "max-prefixes", 0, "per-peer path limit (BGP: per family, the session is torn down; BMP: further paths are skipped and counted) (0: none)")
	studyflags.VRP(f, &opts.VRP)
	f.StringArrayVar(&opts.RTR, "rtr", nil, "RPKI-RTR cache `HOST:PORT` (RFC 8210, falls back to RFC 6810) (repeatable)")
	f.DurationVar(&opts.RTRRetry, "rtr-retry", 5*time.Second, "first delay before reconnecting to a cache; it doubles up to the cache's retry interval (RFC 8210 §6) or 60 s, whichever is lower")
	f.DurationVar(&opts.RTRTimeout, "rtr-timeout", rtr.DefaultResponseTimeout, "a cache that leaves a query unanswered this long (no PDU at all, or none inside a response) is declared down and reconnected")
	f.StringArrayVar(&opts.PeerRoles, "peer-role", nil, "ASPA: a peer's relationship, `AS|IP=ROLE` (customer, peer, provider, rs, rs-client, ibgp; repeatable; unnamed peers are verified upstream)")
	f.StringVar(&opts.PeerRolesFile, "peer-roles", "", "ASPA: CSV `FILE` of AS|IP,ROLE lines")
	studyflags.Analysis(f, &opts.Analysis)
	// One AS plays both parts: the collector speaks BGP as the operator's
	// AS, and routes its iBGP peers originate (empty AS_PATH) come from it.
	f.Lookup("local-as").Usage = "your `AS`: the collector's BGP AS (required with --neighbor or --accept), and the origin of routes with an empty AS_PATH or a final confederation segment"
	f.StringVar(&opts.HTTP, "http", DefaultHTTP, "serve /metrics and the JSON API on `ADDR:PORT` (\"\": no HTTP)")
	f.StringVar(&opts.DebugAddr, "debug-addr", "", "serve Go's profiles (net/http/pprof, /debug/pprof/) on the loopback `ADDR:PORT` (\"\": off)")
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

// Configure reads the flags in args (the command line's, as
// flagfile.Given lists them), then the --config file for the flags args
// leave unset, into the service's Options. A mistake is a usage error
// (exit 2), at the file's line when the file set the flag. Options.Reload
// is left to the caller (rovimpact watch sets it to Configure again).
func Configure(args []string) (Options, error) {
	opts := Flags{Options: Options{Now: time.Now, ShutdownDeadline: 5 * time.Second}}
	fs := pflag.NewFlagSet("watch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	AddFlags(fs, &opts)
	if err := fs.Parse(args); err != nil {
		return Options{}, exitcode.Usagef("%v", err)
	}
	var file *flagfile.File
	if opts.Config != "" {
		var err error
		if file, err = flagfile.Load(fs, opts.Config, map[string]flagfile.Section{"alerts": func(file string, key, v *yaml.Node) (err error) {
			opts.Alerts, opts.AlertsText, err = alert.Section(file, key, v)
			return err
		}}); err != nil {
			if fe := (*flagfile.Error)(nil); errors.As(err, &fe) {
				return Options{}, exitcode.Usagef("%v", err)
			}
			return Options{}, fmt.Errorf("--config: %w", err)
		}
	}
	o := opts.Options
	o.HTTPExplicit, o.ListenExplicit = fs.Changed("http"), fs.Changed("listen")
	copt, err := opts.Analysis.Classify()
	if err != nil {
		return o, exitcode.Usagef("%s%v", file.Line("as-set"), errors.Unwrap(err))
	}
	o.VRPFiles, o.SLURM, o.DropExpired = opts.VRP.Files, opts.VRP.SLURM, opts.VRP.DropExpired
	o.Classify, o.Policy = copt, opts.Analysis.Policy(copt, nil)
	if err := Check(o); err != nil {
		return o, exitcode.Usagef("%s%v", file.Line(err.(*UsageError).Flag), err)
	}
	return o, nil
}
