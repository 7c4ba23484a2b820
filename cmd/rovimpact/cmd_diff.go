package main

import (
	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

func init() { register(newDiffCommand) }

type diffOptions struct {
	db           string
	format       string
	failOn       []string
	allowPartial bool
}

func newDiffCommand() *cobra.Command {
	var opts diffOptions
	cmd := &cobra.Command{
		Use:   "diff [--history FILE.db] A B",
		Short: "Compare two runs: new and resolved invalid routes, changed classes or impacts, count deltas",
		Long: `diff compares run A (before) with run B (after). Each of A and B is either an
analyze JSON report file (analyze --format json, or report.json from
--output-dir), or, with --history, a run of the history database: a run id, a
date (YYYY-MM-DD, UTC: that day's last run), "latest" or "previous".

An invalid route is identified by its prefix and origin (or prefix and
AS_SET): a route in B only is new, in A only is resolved, in both with
another class, impact, state or drop decision is changed.

A run whose route files ended early or were corrupt covers only part of the
table, so its invalids are not all there: each such input is reported on
stderr and the exit code is 4 (--allow-partial: 0). A run with no VRPs
(every route not_found) is warned about.

--format line prints only the one-line summary, for syslog or a mail subject.
--fail-on new-unreachable exits 3 when B has unreachable invalid routes that
were not unreachable in A (new ones, or ones whose impact turned unreachable).

` + exitcode.Help,
		Example: `  rovimpact diff --history history.db previous latest
  rovimpact diff --history history.db --format line --fail-on new-unreachable 2025-07-19 2025-07-20
  rovimpact diff monday/report.json tuesday/report.json --format csv`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.db, "history", "", "SQLite history `FILE.db` to take runs from")
	f.StringVar(&opts.format, "format", "table", "output `format`: line, table, json, csv or ndjson")
	f.StringArrayVar(&opts.failOn, "fail-on", nil, "exit 3 on this `condition`: new-unreachable (repeatable)")
	f.BoolVar(&opts.allowPartial, "allow-partial", false, "exit 0 when a run's route files ended early or were corrupt (still reported on stderr; default: exit 4)")
	return cmd
}

func runDiff(cmd *cobra.Command, opts diffOptions, args []string) error {
	if err := reports.DiffFormats.Check(opts.format); err != nil {
		return err
	}
	for _, c := range opts.failOn {
		if c != "new-unreachable" {
			return exitcode.Usagef("--fail-on %q: want new-unreachable", c)
		}
	}
	var st *history.Store
	if opts.db != "" {
		var err error
		if st, err = history.OpenExisting(cmd.Context(), opts.db); err != nil {
			return err
		}
		defer st.Close()
	}
	a, la, err := history.LoadRun(cmd.Context(), st, args[0])
	if err != nil {
		return err
	}
	b, lb, err := history.LoadRun(cmd.Context(), st, args[1])
	if err != nil {
		return err
	}
	partial := study.PartialRuns(cmd.ErrOrStderr(), opts.allowPartial, []reports.Report{a, b}, []string{la, lb})
	d := reports.DiffReports(a, b, la, lb)
	if err := reports.DiffFormats.Print(cmd.OutOrStdout(), opts.format, d); err != nil {
		return err
	}
	var threshold error
	if len(opts.failOn) > 0 && d.NewUnreachable > 0 {
		threshold = exitcode.Thresholdf("%d new unreachable invalid routes (--fail-on new-unreachable)", d.NewUnreachable)
	}
	return exitcode.Worst(cmd.ErrOrStderr(), partial, threshold)
}
