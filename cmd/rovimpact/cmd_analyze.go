package main

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/study"
)

func init() { register(newAnalyzeCommand) }

type analyzeOptions struct {
	wide              bool
	vrp               vrpOptions
	route             routeOptions
	analysis          analysisOptions
	perPeer           bool
	top               int
	format            string
	outputDir         string
	failOnUnreachable int
	failOnVRPDrop     float64
	history           string
	save              string
	aspa              bool
	roles             []string
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

` + exitCodesHelp,
		Example: `  rovimpact analyze --vrps testdata/sample/vrps.json testdata/sample/routes.mrt
  rovimpact analyze --vrps vrps.json --slurm local.slurm --format json rib.bz2 > report.json
  rovimpact analyze --vrps vrps.json --output-dir /var/lib/rovimpact/$(date +%F) --fail-on-unreachable 0 rib.bz2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	addVRPFlags(cmd, &opts.vrp)
	addVRPGuardFlags(cmd, &opts.vrp)
	addRouteFlags(cmd, &opts.route, "ROUTES in order", "analyse")
	addPartialFlag(cmd, &opts.route)
	f.BoolVar(&opts.perPeer, "per-peer", false, "add one row per peer: its dropped routes and unreachable prefixes in its own view")
	addAnalysisFlags(cmd, &opts.analysis)
	countVar(f, &opts.top, "top", 20, "rows shown in the table output's route and origin lists (0: all; JSON and CSV always list all)")
	f.BoolVar(&opts.wide, "wide", false, "table output: every column and deciding VRP in full, however wide (default: fits 120 columns)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (csv, ndjson: the invalid routes) or html (one self-contained file)")
	f.StringVar(&opts.outputDir, "output-dir", "", "also write every report to `DIR` (report.json, report.txt, report.html, invalids.csv, origins.csv, peers.csv)")
	f.StringVar(&opts.history, "history", "", "append this run to the SQLite history `FILE.db` (see rovimpact history, rovimpact diff)")
	f.StringVar(&opts.save, "save", "", "also write a snapshot `FILE` of this analysis for fast lookups (rovimpact lookup --snapshot FILE)")
	f.BoolVar(&opts.aspa, "aspa", false, "also verify every path against the --vrps files' ASPAs (as rovimpact aspa; a second replay of the routes): summary.aspa in JSON and the history, an ASPA section in HTML")
	f.StringArrayVar(&opts.roles, "peer-role", nil, "with --aspa: a peer's relationship, `AS|IP=ROLE` (as for aspa; repeatable)")
	f.IntVar(&opts.failOnUnreachable, "fail-on-unreachable", -1, "exit 3 when more than `N` routes would become unreachable (-1: never)")
	f.Float64Var(&opts.failOnVRPDrop, "fail-on-vrp-drop", -1, "with --history: exit 3 when the VRP set is more than `PCT` percent smaller than the previous run's (-1: never; a drop over 10% always warns)")
	return cmd
}

func runAnalyze(cmd *cobra.Command, opts analyzeOptions, args []string) error {
	if err := reports.AnalyzeFormats.Check(opts.format); err != nil {
		return err
	}
	if opts.failOnVRPDrop >= 0 && opts.history == "" {
		return usageError("--fail-on-vrp-drop needs --history FILE.db (the previous run's VRP count)")
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
	cfg := studyConfig(cmd, opts.vrp, opts.route, opts.analysis, args, opts.now)
	roles, err := study.ParseRoles(opts.roles, "")
	if err != nil {
		return err
	}
	if len(opts.roles) > 0 && !opts.aspa {
		return usageError("--peer-role goes with --aspa")
	}
	var aspaFiles []study.ASPAFile
	if opts.aspa {
		cfg.VRP.ASPAs = &aspaFiles
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
	a, meta := st.Analysis, st.Meta
	meta.PerPeer, meta.Generated = opts.perPeer, generation(opts.now())
	rep := reports.Build(a, meta)
	if opts.save != "" {
		h := snapshot.Header{Created: opts.now(), Sources: st.Sources, DropExpired: opts.vrp.dropExpired, Meta: meta}
		if err := snapshot.WriteFile(opts.save, h, a); err != nil {
			return err
		}
	}
	var aspaRep *reports.ASPAReport
	if opts.aspa {
		// After the report and snapshot: the ASPA replay needs the VRP
		// index only, so analyze's table is released first.
		ix := a.Index
		a, st.Analysis = nil, nil
		r, err := study.AnalyzeASPA(cmd.Context(), cfg, ix, meta.VRPs, roles)
		if err != nil {
			return err
		}
		aspaRep = &r
		rep.Summary.ASPA, rep.ASPAPaths = &aspaRep.Summary.ASPA, aspaRep.InvalidPaths
	}
	if hist != nil {
		// Every input by size and SHA-256, so a later reader can tell
		// whether two runs saw the same data.
		inputs, err := cfg.Inputs().Hash()
		if err != nil {
			return fmt.Errorf("--history: %w", err)
		}
		if _, err := hist.Append(cmd.Context(), opts.now(), rep, inputs); err != nil {
			return err
		}
	}
	// After the history, so that report.html shows the trend including
	// this run, as --format html does.
	doc := analyzeDoc(cmd.Context(), rep, opts, hist)
	doc.ASPA = aspaRep
	if opts.outputDir != "" {
		if err := reports.WriteReportDir(opts.outputDir, doc, opts.perPeer); err != nil {
			return err
		}
	}
	// --output-dir writes files only: a cron job redirecting stdout to a
	// log would otherwise get the whole report (HTML included) again.
	if opts.outputDir == "" {
		out := bufio.NewWriter(cmd.OutOrStdout())
		if err := reports.AnalyzeFormats.Write(out, opts.format, doc); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return worstExit(cmd.ErrOrStderr(), st.Partial, vrpDrop, failOn(rep, opts))
}

// failOn applies the --fail-on-* thresholds to a finished report.
func failOn(rep reports.Report, opts analyzeOptions) error {
	if n := rep.Summary.Impact.Unreachable; opts.failOnUnreachable >= 0 && n > opts.failOnUnreachable {
		return thresholdError("%d routes would become unreachable (--fail-on-unreachable %d)", n, opts.failOnUnreachable)
	}
	return nil
}

// analyzeDoc is the report with what its formats need: the table's row
// limits, the generation time and, from --history, the trend (read only
// by the html format).
func analyzeDoc(ctx context.Context, rep reports.Report, opts analyzeOptions, hist *history.Store) reports.AnalyzeDoc {
	doc := reports.AnalyzeDoc{Report: rep, Top: opts.top, Wide: opts.wide, Generated: opts.now()}
	if hist != nil {
		doc.Trend = func() ([]reports.TrendPoint, error) { return hist.Trend(ctx) }
	}
	return doc
}
