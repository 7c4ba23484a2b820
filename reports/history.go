package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// HistoryDay is one day of the history (history.Day is this type): a day
// with several runs shows its last run's counts.
type HistoryDay struct {
	Date        string       `json:"date"` // YYYY-MM-DD, UTC
	Runs        int          `json:"runs"`
	RunID       int64        `json:"run_id"` // the run whose counts are shown
	Routes      int          `json:"routes"`
	Valid       int          `json:"valid"`
	Invalid     int          `json:"invalid"`
	NotFound    int          `json:"not_found"`
	Dropped     int          `json:"dropped"`
	Classes     ClassCounts  `json:"classes"`
	Impact      ImpactCounts `json:"impact"`
	VRPsLoaded  int          `json:"vrps_loaded"`
	Unreachable int          `json:"unreachable"`
	// ASPA are the day's ASPA path counts (its last run's), when that run
	// was made with analyze --aspa; absent otherwise.
	ASPA *HistoryASPA `json:"aspa,omitempty"`
}

// HistoryASPA is one day's ASPA path counts.
type HistoryASPA struct {
	Valid         int64 `json:"valid"`
	Unknown       int64 `json:"unknown"`
	Invalid       int64 `json:"invalid"`
	Unverified    int64 `json:"unverified"`
	RoutesDropped int   `json:"routes_dropped_aspa_only"`
}

// HistoryRun is one run of the history with its report.
type HistoryRun struct {
	ID     int64
	At     time.Time
	Report Report
}

// HistoryDoc is the history command's document: `{"days":[...],
// "invalids":[...]}` in JSON.
type HistoryDoc struct {
	Days      []HistoryDay  `json:"days"`
	Lifetimes []LifetimeRow `json:"invalids"`
	// Top cuts the table format's lifetime list (0: all).
	Top int `json:"-"`
	// Latest fetches the latest day's run, which the html format shows with
	// the trend; only the html writer calls it.
	Latest func(runID int64) (HistoryRun, error) `json:"-"`
}

// HistoryFormats is the history document's format table.
var HistoryFormats = newFormats("history",
	Format[HistoryDoc]{"table", WriteHistoryTable},
	Format[HistoryDoc]{"json", func(w io.Writer, d HistoryDoc) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}},
	Format[HistoryDoc]{"csv", func(w io.Writer, d HistoryDoc) error { return WriteLifetimesCSV(w, d.Lifetimes) }},
	Format[HistoryDoc]{"html", writeHistoryHTML},
	Format[HistoryDoc]{"ndjson", func(w io.Writer, d HistoryDoc) error { return WriteLifetimesNDJSON(w, d.Lifetimes) }},
)

// WriteHistoryTable writes the counts per day and the lifetimes.
func WriteHistoryTable(w io.Writer, doc HistoryDoc) error {
	top := doc.Top
	fmt.Fprintf(w, "Runs per day (UTC; a day with several runs shows its last): %d days\n\n", len(doc.Days))
	t := newTable(w, "Date", "Runs", "Routes", "Valid", "Invalid", "Not found", "Dropped",
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
	t = newTable(w, "Prefix", "Origin", "First seen", "Last seen", "Runs", "Still there", "Class", "Impact")
	for i, l := range doc.Lifetimes {
		if top > 0 && i == top {
			break
		}
		t.Append(l.Prefix.String(), OriginLabel(l.Origin, nil), l.FirstSeen.Format(time.RFC3339), l.LastSeen.Format(time.RFC3339),
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

// WriteLifetimesCSV writes one row per invalid route lifetime.
func WriteLifetimesCSV(w io.Writer, ls []LifetimeRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"prefix", "origin", "first_seen", "last_seen", "runs", "current", "class", "impact"})
	for _, l := range ls {
		cw.Write([]string{l.Prefix.String(), originString(l.Origin, ""), l.FirstSeen.Format(time.RFC3339), l.LastSeen.Format(time.RFC3339),
			strconv.Itoa(l.Runs), strconv.FormatBool(l.Current), l.Class, l.Impact})
	}
	cw.Flush()
	return cw.Error()
}

// writeHistoryHTML renders the latest run with the trend and lifetimes.
func writeHistoryHTML(w io.Writer, doc HistoryDoc) error {
	hd := HTMLDoc{Title: "rovimpact history", Trend: TrendOf(doc.Days), Lifetimes: []LifetimeRow{}}
	hd.Lifetimes = append(hd.Lifetimes, doc.Lifetimes...)
	if len(doc.Days) > 0 && doc.Latest != nil {
		run, err := doc.Latest(doc.Days[len(doc.Days)-1].RunID)
		if err != nil {
			return err
		}
		hd.Report, hd.Generated = run.Report, run.At
		hd.Title = fmt.Sprintf("rovimpact history: latest run %d", run.ID)
	}
	return WriteHTML(w, hd)
}

// TrendOf is the trend chart's points of days.
func TrendOf(days []HistoryDay) []TrendPoint {
	pts := make([]TrendPoint, len(days))
	for i, d := range days {
		pts[i] = TrendPoint{Date: d.Date, Invalid: d.Invalid, Dropped: d.Dropped, Unreachable: d.Unreachable}
	}
	return pts
}
