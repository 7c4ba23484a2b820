package history

import (
	"context"
	"fmt"
	"time"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// ParseSince parses the history command's --since DATE (YYYY-MM-DD, UTC);
// "" is the zero time (every run). A bad date is a *study.UsageError.
func ParseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, study.Usagef("--since %q: want a date YYYY-MM-DD", s)
	}
	return t, nil
}

// Doc is the history document of the runs on or after since (zero: all):
// the counts per day and the invalid routes' lifetimes, with the latest
// run fetched from s only when the html format asks for it (so s must stay
// open until the document is written). top cuts the table format's
// lifetime list (0: all).
func (s *Store) Doc(ctx context.Context, since time.Time, top int) (reports.HistoryDoc, error) {
	days, err := s.Days(ctx, since)
	if err != nil {
		return reports.HistoryDoc{}, err
	}
	lifetimes, err := s.Lifetimes(ctx, since)
	if err != nil {
		return reports.HistoryDoc{}, err
	}
	return reports.HistoryDoc{Days: ReportDays(days), Lifetimes: lifetimes, Top: top, Latest: func(id int64) (reports.HistoryRun, error) {
		rep, info, err := s.Report(ctx, id)
		return reports.HistoryRun{ID: info.ID, At: info.At, Report: rep}, err
	}}, nil
}

// AppendStudy appends an analyze run to the history: its report, and every
// input of c by size and SHA-256, so that a later reader can tell whether
// two runs saw the same data.
func (s *Store) AppendStudy(ctx context.Context, at time.Time, rep reports.Report, c study.Config) error {
	inputs, err := c.Inputs().Hash()
	if err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	_, err = s.Append(ctx, at, rep, inputs)
	return err
}

// TrendOf is s.Trend as the html report asks for it (nil for no store),
// read only when an html format is written.
func TrendOf(ctx context.Context, s *Store) func() ([]reports.TrendPoint, error) {
	if s == nil {
		return nil
	}
	return func() ([]reports.TrendPoint, error) { return s.Trend(ctx) }
}
