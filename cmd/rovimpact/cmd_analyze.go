package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newAnalyzeCommand) }

type analyzeOptions struct {
	wide              bool
	in                studyflags.Study // --vrps, --peer, --as-set, ...
	perPeer           bool
	top               int
	format            string
	outputDir         string
	failOnUnreachable int
	failOnVRPDrop     float64
	history           string
	save              string
	aspa              study.AnalyzeASPAStep
	now               func() time.Time
}

func newAnalyzeCommand() *cobra.Command {
	opts := analyzeOptions{now: clock}
	cmd := &cobra.Command{
		Use:   "analyze --vrps FILE [flags] ROUTES...",
		Short: "Study what ROV would drop from a routing table, why, and what becomes unreachable",
		Long: `analyze validates every route (unique prefix and origin) in ROUTES against the
VRPs per RFC 6811, classifies each invalid route (too_specific, wrong_origin,
both, too_short, as_set), and tells what carries its traffic once ROV drops
invalid routes: same_prefix, covered, more_specifics, or unreachable.

ROUTES are MRT files (TABLE_DUMP, TABLE_DUMP_V2 incl. ADD-PATH, BGP4MP and
BGP4MP_ET updates; gzip, bzip2, xz, zstd or raw, detected from content) or
text files of "bgpdump -m" lines or "prefix origin-AS" lines; "-" reads stdin.
ROUTES (then --updates) are replayed in the order given, RIBs and update
files alike: a RIB sets the table of each peer it lists as of its time,
updates apply on top, and the table is the one left at their end.

A route file that ends early or is corrupt is reported on stderr and in
every report (what was lost, where, how much was read) and makes the exit
code 4 (--allow-partial: 0). An empty VRP set (after expiry and SLURM) is
an error unless --allow-empty-vrps; every report states the VRP set's age
(exporter metadata, else file time), and --max-vrp-age makes an older set
an error. With --history, a VRP set more than 10% smaller than the previous
run's is a warning, and --fail-on-vrp-drop PCT exits 3 above PCT percent.

` + exitcode.Help,
		Example: `  rovimpact analyze --vrps testdata/sample/vrps.json testdata/sample/routes.mrt
  rovimpact analyze --vrps vrps.json --slurm local.slurm --format json rib.bz2 > report.json
  rovimpact analyze --vrps vrps.json --output-dir /var/lib/rovimpact/$(date +%F) --fail-on-unreachable 0 rib.bz2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	studyflags.VRP(cmd.Flags(), &opts.in.VRP)
	studyflags.VRPGuards(cmd.Flags(), &opts.in.VRP)
	studyflags.Routes(cmd.Flags(), &opts.in.Route, "ROUTES in order", "analyse")
	studyflags.Partial(cmd.Flags(), &opts.in.Route)
	f.BoolVar(&opts.perPeer, "per-peer", false, "add one row per peer: its dropped routes and unreachable prefixes in its own view")
	studyflags.Analysis(cmd.Flags(), &opts.in.Analysis)
	studyflags.CountVar(f, &opts.top, "top", 20, "rows shown in the table output's route and origin lists (0: all; JSON and CSV always list all)")
	f.BoolVar(&opts.wide, "wide", false, "table output: every column and deciding VRP in full, however wide (default: fits 120 columns)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (csv, ndjson: the invalid routes) or html (one self-contained file)")
	f.StringVar(&opts.outputDir, "output-dir", "", "also write every report to `DIR` (report.json, report.txt, report.html, invalids.csv, origins.csv, peers.csv)")
	f.StringVar(&opts.history, "history", "", "append this run to the SQLite history `FILE.db` (see rovimpact history, rovimpact diff)")
	f.StringVar(&opts.save, "save", "", "also write a snapshot `FILE` of this analysis for fast lookups (rovimpact lookup --snapshot FILE)")
	f.BoolVar(&opts.aspa.On, "aspa", false, "also verify every path against the --vrps files' ASPAs (as rovimpact aspa; a second replay of the routes): summary.aspa in JSON and the history, an ASPA section in HTML")
	f.StringArrayVar(&opts.aspa.Roles, "peer-role", nil, "with --aspa: a peer's relationship, `AS|IP=ROLE` (as for aspa; repeatable)")
	f.IntVar(&opts.failOnUnreachable, "fail-on-unreachable", -1, "exit 3 when more than `N` routes would become unreachable (-1: never)")
	f.Float64Var(&opts.failOnVRPDrop, "fail-on-vrp-drop", -1, "with --history: exit 3 when the VRP set is more than `PCT` percent smaller than the previous run's (-1: never; a drop over 10% always warns)")
	return bigHeap(cmd)
}

func runAnalyze(cmd *cobra.Command, opts analyzeOptions, args []string) error {
	if err := reports.AnalyzeFormats.Check(opts.format); err != nil {
		return err
	}
	if opts.failOnVRPDrop >= 0 && opts.history == "" {
		return exitcode.Usagef("--fail-on-vrp-drop needs --history FILE.db (the previous run's VRP count)")
	}
	var hist *history.Store
	if opts.history != "" {
		// Opened (and checked) first: a damaged history stops the run
		// before the analysis, not after it.
		var err error
		if hist, err = history.Open(cmd.Context(), opts.history); err != nil {
			return err
		}
		defer hist.Close()
	}
	cfg := opts.in.Config(args, opts.now(), cmd.ErrOrStderr())
	if err := opts.aspa.Prepare(&cfg); err != nil {
		return err
	}
	st, err := study.Run(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	var vrpDrop error
	if hist != nil {
		if vrpDrop, err = hist.CheckVRPDrop(cmd.Context(), st.Meta.VRPs.Loaded, opts.failOnVRPDrop, cmd.ErrOrStderr()); err != nil {
			return err
		}
	}
	st.Meta.PerPeer, st.Meta.Generated = opts.perPeer, generation(opts.now())
	rep := reports.Build(st.Analysis, st.Meta)
	if opts.save != "" {
		if err := snapshot.Save(opts.save, st, opts.in.VRP.DropExpired, opts.now()); err != nil {
			return err
		}
	}
	aspaRep, err := opts.aspa.Attach(cmd.Context(), cfg, &st, &rep)
	if err != nil {
		return err
	}
	if hist != nil {
		if err := hist.AppendStudy(cmd.Context(), opts.now(), rep, cfg); err != nil {
			return err
		}
	}
	// After the history, so that report.html shows the trend including
	// this run, as --format html does (the trend is read only by html).
	doc := reports.AnalyzeDoc{Report: rep, Top: opts.top, Wide: opts.wide, Generated: opts.now(), Trend: history.TrendOf(cmd.Context(), hist), ASPA: aspaRep}
	// --output-dir writes files only: a cron job redirecting stdout to a
	// log would otherwise get the whole report (HTML included) again.
	if opts.outputDir != "" {
		err = reports.WriteReportDir(opts.outputDir, doc, opts.perPeer)
	} else {
		err = reports.AnalyzeFormats.Print(cmd.OutOrStdout(), opts.format, doc)
	}
	if err != nil {
		return err
	}
	return exitcode.Worst(cmd.ErrOrStderr(), st.Partial, vrpDrop, study.FailOnUnreachable(rep, opts.failOnUnreachable))
}
