package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newLookupCommand) }

type lookupOptions struct {
	wide     bool
	snapshot string
	in       studyflags.Study // --vrps, --peer, --as-set, ...
	origin   uint32
	format   string
	top      int
	roles    []string
	now      func() time.Time
}

func newLookupCommand() *cobra.Command {
	opts := lookupOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "lookup QUERY... (--vrps FILE [ROUTES...] | --snapshot FILE) [flags]",
		Short: "Answer for one prefix, address or AS: VRPs, routes, states, and what ROV would do",
		Long: `lookup answers ad-hoc questions with the same verdicts analyze gives.

A QUERY is a prefix (192.0.2.0/24), an address (192.0.2.10) or an AS
(AS64500). Arguments that are not queries are route files, read like
analyze's ROUTES; without route files the answers come from the VRPs alone.
With no QUERY arguments, queries are read from standard input, one a line.

--snapshot FILE answers from a snapshot written by analyze --save or
rovimpact snapshot: the same answers, byte for byte, without reading the VRP
and route files again (a full table loads in a fraction of a second). A
single route file that is a snapshot is used the same way. The snapshot
fixes the VRPs, routes and verdicts, so --vrps, --slurm, --drop-expired,
--updates, --peer and route files are refused with it, and --as-set,
--local-as and --count-default only if they differ from how it was made. A
recorded source file that changed since is reported on standard error.

  prefix   the VRPs covering it and inside it; every route for exactly that
           prefix, the less-specific routes covering it and the more-specific
           routes inside it, with state, class, deciding VRPs and, for each
           route ROV drops, the impact analyze reports. --origin AS validates
           announcing the prefix from AS ("what happens if I announce this?").
  address  the routes containing it, most specific first, and which route
           carries traffic to it today and once ROV drops invalid routes. As
           in analyze, a default route counts only with --count-default.
  AS path  "AS64511 AS64501 AS64496" (two or more ASes, most recent first;
           {a,b} an AS_SET): each hop's ASPA attestation both ways and the
           verdict, as aspa --path gives it (neighbour: its first AS; role
           from --peer-role, default peer). Needs ASPAs in --vrps.
  AS       the routes it originates, its VRPs (unused ones, and RFC 9319
           risky ones whose maxLength authorises unannounced more-specifics),
           and one suggested VRP per announced prefix (maxLength = its
           length; where the AS's own VRP is too short, what widening that
           VRP instead would authorise). No VRP is suggested where another
           AS's VRP allows the route: it is listed as a possible hijack with
           that VRP.

When the --vrps files hold ASPAs (rpki-client or Routinator JSON "aspas")
and route files are given, prefix and address answers also list every path
of their routes with its ASPA verdict (draft-ietf-sidrops-aspa-verification)
and failing hop: the route files are replayed a second time for those
prefixes only, as aspa replays them (--peer-role, iBGP inference, --peer).

Answers are written one at a time, and in json and csv each answer's
routes one at a time, so a batch from standard input or 0.0.0.0/0 needs
about the memory of the analysis, not of the answer.

` + exitcode.Help,
		Example: `  rovimpact lookup --vrps testdata/sample/vrps.json 1.1.1.0/24 testdata/sample/routes-v4.mrt
  rovimpact analyze --vrps vrps.json --save rib.rovsnap rib.bz2 && rovimpact lookup --snapshot rib.rovsnap AS64500
  rovimpact lookup --vrps vrps.json --origin 64500 192.0.2.0/24
  echo AS18101 | rovimpact lookup --vrps vrps.json --format json rib.mrt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLookup(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.snapshot, "snapshot", "", "answer from this snapshot `FILE` (analyze --save, rovimpact snapshot) instead of VRP and route files")
	studyflags.VRP(cmd.Flags(), &opts.in.VRP)
	studyflags.Routes(cmd.Flags(), &opts.in.Route, "route files", "use")
	studyflags.Partial(cmd.Flags(), &opts.in.Route)
	studyflags.Analysis(cmd.Flags(), &opts.in.Analysis)
	f.StringArrayVar(&opts.roles, "peer-role", nil, "ASPA: a peer's relationship, `AS|IP=ROLE` (as for aspa; repeatable); for AS path queries also a bare ROLE, the neighbour's")
	f.Var((*studyflags.ASN)(&opts.origin), "origin", "for prefix queries: also validate announcing the prefix from this `AS`")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (one answer per line)")
	studyflags.CountVar(f, &opts.top, "top", 20, "rows shown per list in the table output (0: all; JSON and CSV always list all)")
	f.BoolVar(&opts.wide, "wide", false, "table output: every column whole, however wide (default: fits 120 columns)")
	return bigHeap(cmd)
}

func runLookup(cmd *cobra.Command, opts lookupOptions, args []string) error {
	if err := reports.LookupFormats.Check(opts.format); err != nil {
		return err
	}
	parsed, files, err := study.LookupArgs(args, cmd.InOrStdin(), opts.in.Analysis, opts.format)
	if err != nil {
		return err
	}
	c := opts.in.Config(files, opts.now(), cmd.ErrOrStderr())
	var aspas []study.ASPAFile
	c.VRP.ASPAs = &aspas
	a, inputs, err := snapshot.OpenOrAnalyze(cmd.Context(), opts.snapshot, c, cmd.Flags().Changed, parsed)
	if err != nil {
		return err
	}
	if err := study.LookupASPA(cmd.Context(), c, aspas, parsed, opts.roles); err != nil {
		return err
	}
	partial := study.PartialInput(inputs, opts.in.Route.AllowPartial, cmd.ErrOrStderr())
	var origin *uint32
	if cmd.Flags().Changed("origin") {
		origin = &opts.origin
	}
	// One answer at a time: a batch of queries from standard input holds
	// one answer in memory, never the whole document.
	req := reports.LookupRequest{Analysis: a, Queries: parsed, Origin: origin, Top: opts.top, Wide: opts.wide}
	if err := reports.LookupFormats.Print(cmd.OutOrStdout(), opts.format, req); err != nil {
		return err
	}
	return partial
}
