package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
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
	f.StringArrayVar(&opts.route.updates, "updates", nil, "update `FILE` replayed after the ROUTES in order (repeatable)")
	f.StringArrayVar(&opts.route.peers, "peer", nil, "analyse only routes from this peer, `AS|IP` (repeatable)")
	addPartialFlag(cmd, &opts.route)
	f.BoolVar(&opts.perPeer, "per-peer", false, "add one row per peer: its dropped routes and unreachable prefixes in its own view")
	addAnalysisFlags(cmd, &opts.analysis)
	countVar(f, &opts.top, "top", 20, "rows shown in the table output's route and origin lists (0: all; JSON and CSV always list all)")
	f.BoolVar(&opts.wide, "wide", false, "table output: every column and deciding VRP in full, however wide (default: fits 120 columns)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (csv, ndjson: the invalid routes) or html (one self-contained file)")
	f.StringVar(&opts.outputDir, "output-dir", "", "also write every report to `DIR` (report.json, report.txt, report.html, invalids.csv, origins.csv, peers.csv)")
	f.StringVar(&opts.history, "history", "", "append this run to the SQLite history `FILE.db` (see rovimpact history, rovimpact diff)")
	f.StringVar(&opts.save, "save", "", "also write a snapshot `FILE` of this analysis for fast lookups (rovimpact lookup --snapshot FILE)")
	f.IntVar(&opts.failOnUnreachable, "fail-on-unreachable", -1, "exit 3 when more than `N` routes would become unreachable (-1: never)")
	f.Float64Var(&opts.failOnVRPDrop, "fail-on-vrp-drop", -1, "with --history: exit 3 when the VRP set is more than `PCT` percent smaller than the previous run's (-1: never; a drop over 10% always warns)")
	return cmd
}

// addVRPGuardFlags adds the VRP sanity guards of checkVRPs.
func addVRPGuardFlags(cmd *cobra.Command, o *vrpOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.allowEmpty, "allow-empty-vrps", false, "accept a VRP set left empty after expiry and SLURM (default: exit 1, since every route would be not_found)")
	f.DurationVar(&o.maxAge, "max-vrp-age", 0, "exit 1 when the VRP set was built longer ago than `DURATION` (e.g. 36h; build time from the exporter's metadata, else the file's modification time; 0: no limit)")
}

// addPartialFlag adds --allow-partial (see partialInput).
func addPartialFlag(cmd *cobra.Command, o *routeOptions) {
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false, "exit 0 when a route file ended early or was corrupt (the loss is still reported on stderr and in every report; default: exit 4)")
}

func addVRPFlags(cmd *cobra.Command, o *vrpOptions) {
	f := cmd.Flags()
	f.StringArrayVar(&o.files, "vrps", nil, "VRP `FILE`: rpki-client, Routinator (json, jsonext) or stayrtr JSON, or CSV (rpki-client, Routinator csv, csvcompat, csvext, RIPE NCC archive roas.csv); format from content (repeatable; merged)")
	f.StringArrayVar(&o.slurm, "slurm", nil, "SLURM (RFC 8416) `FILE` of local exceptions applied to the VRPs (repeatable)")
	f.BoolVar(&o.dropExpired, "drop-expired", false, "drop VRPs whose expires time has passed (default: keep them and warn)")
}

func addAnalysisFlags(cmd *cobra.Command, o *analysisOptions) {
	f := cmd.Flags()
	f.StringVar(&o.asSet, "as-set", "invalid", "ROV `policy` for routes whose AS_PATH ends in an AS_SET: invalid (RFC 6811), notfound, or withdraw (RFC 9774)")
	f.Var((*asnValue)(&o.localAS), "local-as", "your `AS`: the origin of routes with an empty AS_PATH or a final confederation segment")
	f.BoolVar(&o.countDefault, "count-default", false, "let a default route (0.0.0.0/0, ::/0) count as a covering route")
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
	st, err := runStudy(cmd.Context(), opts.vrp, opts.route, opts.analysis, args, opts.now(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	var vrpDrop error
	if hist != nil {
		if vrpDrop, err = checkVRPDrop(cmd.Context(), hist, st.meta.VRPs.Loaded, opts.failOnVRPDrop, cmd.ErrOrStderr()); err != nil {
			return err
		}
	}
	a, meta := st.analysis, st.meta
	meta.PerPeer, meta.Generated = opts.perPeer, generation(opts.now())
	rep := reports.Build(a, meta)
	if opts.save != "" {
		h := snapshot.Header{Created: opts.now(), Sources: st.sources, DropExpired: opts.vrp.dropExpired, Meta: meta}
		if err := writeSnapshot(opts.save, h, a); err != nil {
			return err
		}
	}
	if hist != nil {
		if err := appendHistory(cmd.Context(), hist, opts, args, rep); err != nil {
			return err
		}
	}
	// After the history, so that report.html shows the trend including
	// this run, as --format html does.
	doc := analyzeDoc(cmd.Context(), rep, opts, hist)
	if opts.outputDir != "" {
		if err := writeReportDir(opts.outputDir, doc, opts.perPeer); err != nil {
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
	return worstExit(cmd.ErrOrStderr(), st.partial, vrpDrop, failOn(rep, opts))
}

// failOn applies the --fail-on-* thresholds to a finished report.
func failOn(rep reports.Report, opts analyzeOptions) error {
	if n := rep.Summary.Impact.Unreachable; opts.failOnUnreachable >= 0 && n > opts.failOnUnreachable {
		return thresholdError("%d routes would become unreachable (--fail-on-unreachable %d)", n, opts.failOnUnreachable)
	}
	return nil
}

// worstExit returns the error whose exit code wins (partial input, 4,
// over a crossed threshold, 3) and writes the others on stderr so that
// none goes unsaid.
func worstExit(stderr io.Writer, errs ...error) error {
	var worst error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if worst == nil {
			worst = err
			continue
		}
		if codeOf(err) > codeOf(worst) {
			worst, err = err, worst
		}
		fmt.Fprintln(stderr, "rovimpact:", err)
	}
	return worst
}

// vrpDropWarn is the shrink since the previous run that always warns.
const vrpDropWarn = 10.0

// checkVRPDrop compares the VRP count with the history's previous run: a
// set that shrank sharply is more often a failed fetch or a broken
// validator than the Internet withdrawing ROAs, and analysing it calls
// invalids resolved. It warns above vrpDropWarn percent and returns the
// exit-3 error above failPct (negative: never).
func checkVRPDrop(ctx context.Context, hist *history.Store, loaded int, failPct float64, warn io.Writer) (threshold, err error) {
	prev, err := hist.Latest(ctx)
	if errors.Is(err, history.ErrNoRun) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	before := prev.Summary.VRPs.Loaded
	if before == 0 || loaded >= before {
		return nil, nil
	}
	drop := 100 * float64(before-loaded) / float64(before)
	crossed := failPct >= 0 && drop > failPct
	if drop <= vrpDropWarn && !crossed {
		return nil, nil
	}
	msg := fmt.Sprintf("VRPs: %d loaded, %d in the previous run (%d, %s): %.1f%% fewer",
		loaded, before, prev.ID, prev.At.Format(time.RFC3339), drop)
	if !crossed {
		fmt.Fprintf(warn, "rovimpact: warning: %s\n", msg)
		return nil, nil
	}
	return thresholdError("%s (--fail-on-vrp-drop %g)", msg, failPct), nil
}

// analyzeDoc is the report with what its formats need: the table's row
// limits, the generation time and, from --history, the trend (read only
// by the html format).
func analyzeDoc(ctx context.Context, rep reports.Report, opts analyzeOptions, hist *history.Store) reports.AnalyzeDoc {
	doc := reports.AnalyzeDoc{Report: rep, Top: opts.top, Wide: opts.wide, Generated: opts.now()}
	if hist != nil {
		doc.Trend = func() ([]reports.TrendPoint, error) {
			days, err := hist.Days(ctx, time.Time{})
			if err != nil {
				return nil, err
			}
			return reports.TrendOf(historyDays(days)), nil
		}
	}
	return doc
}

// writeReportDir writes every report as a file, for cron jobs that keep
// each night's results. Files are written to a temporary name and renamed,
// so a reader never sees half a report.
func writeReportDir(dir string, doc reports.AnalyzeDoc, perPeer bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range reports.ReportFiles(doc, perPeer) {
		if err := writeFileAtomic(filepath.Join(dir, f.Name), f.Write); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes path through a temporary file and a rename, with
// the permissions an ordinary tool gives (0666 less the umask).
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}
