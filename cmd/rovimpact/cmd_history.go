package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/history"
	"github.com/rovimpact/rovimpact/reports"
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

` + exitCodesHelp,
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
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv (the lifetimes) or html")
	countVar(f, &opts.top, "top", 0, "rows shown in the table output's lifetime list (0: all)")
	return cmd
}

// historyDoc is the JSON document of the history command.
type historyDoc struct {
	Days      []history.Day      `json:"days"`
	Lifetimes []history.Lifetime `json:"invalids"`
}

func runHistory(cmd *cobra.Command, opts historyOptions) error {
	if err := checkFormat(opts.format, "table", "json", "csv", "html"); err != nil {
		return err
	}
	var since time.Time
	if opts.since != "" {
		t, err := time.Parse(time.DateOnly, opts.since)
		if err != nil {
			return usageError("--since %q: want a date YYYY-MM-DD", opts.since)
		}
		since = t
	}
	st, err := history.OpenExisting(cmd.Context(), opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := cmd.Context()
	doc := historyDoc{}
	if doc.Days, err = st.Days(ctx, since); err != nil {
		return err
	}
	if doc.Lifetimes, err = st.Lifetimes(ctx, since); err != nil {
		return err
	}
	if doc.Days == nil {
		doc.Days = []history.Day{}
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	switch opts.format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(doc)
	case "csv":
		err = writeLifetimesCSV(out, doc.Lifetimes)
	case "html":
		err = writeHistoryHTML(ctx, out, st, doc)
	default:
		err = writeHistoryTable(out, doc, opts.top)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

func writeHistoryTable(w io.Writer, doc historyDoc, top int) error {
	fmt.Fprintf(w, "Runs per day (UTC; a day with several runs shows its last): %d days\n\n", len(doc.Days))
	t := newHistTable(w, "Date", "Runs", "Routes", "Valid", "Invalid", "Not found", "Dropped",
		"too_specific", "wrong_origin", "both", "too_short", "as_set", "same_prefix", "covered", "more_specifics", "unreachable")
	for _, d := range doc.Days {
		c, im := d.Classes, d.Impact
		t.Append(d.Date, d.Runs, d.Routes, d.Valid, d.Invalid, d.NotFound, d.Dropped,
			c.TooSpecific, c.WrongOrigin, c.Both, c.TooShort, c.ASSet, im.SamePrefix, im.Covered, im.MoreSpecifics, im.Unreachable)
	}
	if err := t.Render(); err != nil {
		return err
	}
	current := 0
	for _, l := range doc.Lifetimes {
		if l.Current {
			current++
		}
	}
	fmt.Fprintf(w, "\nInvalid routes seen: %d (%d still there)\n\n", len(doc.Lifetimes), current)
	t = newHistTable(w, "Prefix", "Origin", "First seen", "Last seen", "Runs", "Still there", "Class", "Impact")
	for i, l := range doc.Lifetimes {
		if top > 0 && i == top {
			break
		}
		t.Append(l.Prefix.String(), reports.OriginLabel(l.Origin, nil), l.FirstSeen.Format(time.RFC3339), l.LastSeen.Format(time.RFC3339),
			l.Runs, l.Current, l.Class, l.Impact)
	}
	if err := t.Render(); err != nil {
		return err
	}
	if top > 0 && len(doc.Lifetimes) > top {
		fmt.Fprintf(w, "(%d more; --top 0 shows all)\n", len(doc.Lifetimes)-top)
	}
	return nil
}

func writeLifetimesCSV(w io.Writer, ls []history.Lifetime) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"prefix", "origin", "first_seen", "last_seen", "runs", "current", "class", "impact"})
	for _, l := range ls {
		origin := ""
		if l.Origin != nil {
			origin = strconv.FormatUint(uint64(*l.Origin), 10)
		}
		cw.Write([]string{l.Prefix.String(), origin, l.FirstSeen.Format(time.RFC3339), l.LastSeen.Format(time.RFC3339),
			strconv.Itoa(l.Runs), strconv.FormatBool(l.Current), l.Class, l.Impact})
	}
	cw.Flush()
	return cw.Error()
}

// writeHistoryHTML renders the latest run with the trend and lifetimes.
func writeHistoryHTML(ctx context.Context, w io.Writer, st *history.Store, doc historyDoc) error {
	hd := reports.HTMLDoc{Title: "rovimpact history", Trend: trendOf(doc.Days), Lifetimes: []reports.LifetimeRow{}}
	for _, l := range doc.Lifetimes {
		hd.Lifetimes = append(hd.Lifetimes, reports.LifetimeRow(l))
	}
	if len(doc.Days) > 0 {
		rep, info, err := st.Report(ctx, doc.Days[len(doc.Days)-1].RunID)
		if err != nil {
			return err
		}
		hd.Report, hd.Generated = rep, info.At
		hd.Title = fmt.Sprintf("rovimpact history: latest run %d", info.ID)
	}
	return reports.WriteHTML(w, hd)
}

func trendOf(days []history.Day) []reports.TrendPoint {
	pts := make([]reports.TrendPoint, len(days))
	for i, d := range days {
		pts[i] = reports.TrendPoint{Date: d.Date, Invalid: d.Invalid, Dropped: d.Dropped, Unreachable: d.Unreachable}
	}
	return pts
}

// writeAnalyzeOutput writes analyze's report in its format; html includes
// the trend from --history when given, and its generation time.
func writeAnalyzeOutput(ctx context.Context, w io.Writer, rep reports.Report, opts analyzeOptions, st *history.Store) error {
	if opts.format != "html" {
		return writeReport(w, rep, opts.format, opts.top, opts.wide)
	}
	doc := reports.HTMLDoc{Report: rep, Generated: opts.now()}
	if st != nil {
		days, err := st.Days(ctx, time.Time{})
		if err != nil {
			return err
		}
		doc.Trend = trendOf(days)
	}
	return reports.WriteHTML(w, doc)
}

func newHistTable(w io.Writer, header ...any) *tablewriter.Table {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignLeft))
	t.Header(header...)
	return t
}
