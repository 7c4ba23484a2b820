package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
)

func init() { register(newAnalyzeCommand) }

type analyzeOptions struct {
	vrp               vrpOptions
	route             routeOptions
	analysis          analysisOptions
	perPeer           bool
	top               int
	format            string
	outputDir         string
	failOnUnreachable int
	history           string
	save              string
	now               func() time.Time
}

func newAnalyzeCommand() *cobra.Command {
	opts := analyzeOptions{now: time.Now}
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
Update files are replayed: the table is the one left at their end.

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
	f.StringArrayVar(&opts.route.updates, "updates", nil, "update `FILE` replayed after the ROUTES in order (repeatable)")
	f.StringArrayVar(&opts.route.peers, "peer", nil, "analyse only routes from this peer, `AS|IP` (repeatable)")
	f.BoolVar(&opts.perPeer, "per-peer", false, "add one row per peer: its dropped routes and unreachable prefixes in its own view")
	addAnalysisFlags(cmd, &opts.analysis)
	countVar(f, &opts.top, "top", 20, "rows shown in the table output's route and origin lists (0: all; JSON and CSV always list all)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv (csv: the invalid routes) or html (one self-contained file)")
	f.StringVar(&opts.outputDir, "output-dir", "", "also write every report to `DIR` (report.json, report.txt, report.html, invalids.csv, origins.csv, peers.csv)")
	f.StringVar(&opts.history, "history", "", "append this run to the SQLite history `FILE.db` (see rovimpact history, rovimpact diff)")
	f.StringVar(&opts.save, "save", "", "also write a snapshot `FILE` of this analysis for fast lookups (rovimpact lookup --snapshot FILE)")
	f.IntVar(&opts.failOnUnreachable, "fail-on-unreachable", -1, "exit 3 when more than `N` routes would become unreachable (-1: never)")
	return cmd
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
	if err := checkFormat(opts.format, "table", "json", "csv", "html"); err != nil {
		return err
	}
	st, err := runStudy(cmd.Context(), opts.vrp, opts.route, opts.analysis, args, opts.now(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	a, meta := st.analysis, st.meta
	meta.PerPeer = opts.perPeer
	rep := reports.Build(a, meta)
	if opts.save != "" {
		h := snapshot.Header{Created: opts.now(), Sources: st.sources, DropExpired: opts.vrp.dropExpired, Meta: meta}
		if err := writeSnapshot(opts.save, h, a); err != nil {
			return err
		}
	}
	if opts.history != "" {
		if err := appendHistory(cmd.Context(), opts, args, rep); err != nil {
			return err
		}
	}
	// After the history, so that report.html shows the trend including
	// this run, as --format html does.
	if opts.outputDir != "" {
		if err := writeReportDir(cmd.Context(), opts.outputDir, rep, opts); err != nil {
			return err
		}
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	if err := writeAnalyzeOutput(cmd.Context(), out, rep, opts); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if n := rep.Summary.Impact.Unreachable; opts.failOnUnreachable >= 0 && n > opts.failOnUnreachable {
		return thresholdError("%d routes would become unreachable (--fail-on-unreachable %d)", n, opts.failOnUnreachable)
	}
	return nil
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usageError("--format %q: want one of %v", format, allowed)
}

func writeReport(w io.Writer, rep reports.Report, format string, top int) error {
	switch format {
	case "json":
		return reports.WriteJSON(w, rep)
	case "csv":
		return reports.WriteInvalidsCSV(w, rep.Invalids)
	default:
		return reports.WriteTable(w, rep, top)
	}
}

// writeReportDir writes every report as a file, for cron jobs that keep
// each night's results. Files are written to a temporary name and renamed,
// so a reader never sees half a report.
func writeReportDir(ctx context.Context, dir string, rep reports.Report, opts analyzeOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.json", func(w io.Writer) error { return reports.WriteJSON(w, rep) }},
		{"report.txt", func(w io.Writer) error { return reports.WriteTable(w, rep, 0) }},
		{"report.html", func(w io.Writer) error {
			html := opts
			html.format = "html"
			return writeAnalyzeOutput(ctx, w, rep, html)
		}},
		{"invalids.csv", func(w io.Writer) error { return reports.WriteInvalidsCSV(w, rep.Invalids) }},
		{"origins.csv", func(w io.Writer) error { return reports.WriteOriginsCSV(w, rep.Origins) }},
		{"peers.csv", func(w io.Writer) error { return reports.WritePeersCSV(w, rep.Peers) }},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
