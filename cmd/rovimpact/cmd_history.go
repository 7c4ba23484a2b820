package main

import (
	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newHistoryCommand) }

type historyOptions struct {
	db     string
	since  string
	format string
	top    int
}

func newHistoryCommand() *cobra.Command {
	var opts historyOptions
	cmd := &cobra.Command{
		Use:   "history --history FILE.db [--since DATE]",
		Short: "Show the nightly runs kept by analyze --history: counts per day and how long each invalid lasted",
		Long: `history reads the SQLite database that "analyze --history FILE.db" appends to and
shows, per day (UTC), the counts by state, class and impact (a day with several
runs shows its last run), and for each invalid route (prefix and origin, or
prefix and AS_SET) when it was first and last seen, in how many runs, and
whether the latest run still has it. Long-lived invalids are usually
misconfigurations; short-lived ones may be hijacks or leaks.

--format html writes one self-contained file: the latest run's report with
the trend over time and the lifetimes table.

` + exitcode.Help,
		Example: `  rovimpact history --history /var/lib/rovimpact/history.db --since 2025-07-01
  rovimpact history --history history.db --format html > history.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.db, "history", "", "SQLite history `FILE.db` written by analyze --history (required)")
	f.StringVar(&opts.since, "since", "", "only runs on or after `DATE` (YYYY-MM-DD, UTC)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (the lifetimes), or html")
	studyflags.CountVar(f, &opts.top, "top", 0, "rows shown in the table output's lifetime list (0: all)")
	return cmd
}

func runHistory(cmd *cobra.Command, opts historyOptions) error {
	if err := reports.HistoryFormats.Check(opts.format); err != nil {
		return err
	}
	since, err := history.ParseSince(opts.since)
	if err != nil {
		return err
	}
	st, err := history.OpenExisting(cmd.Context(), opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	doc, err := st.Doc(cmd.Context(), since, opts.top)
	if err != nil {
		return err
	}
	return reports.HistoryFormats.Print(cmd.OutOrStdout(), opts.format, doc)
}
