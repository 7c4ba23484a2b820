package history

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
)

// Runs lists the stored runs at or after since (zero: all), oldest first,
// with their inputs and summaries.
func (s *Store) Runs(ctx context.Context, since time.Time) ([]RunInfo, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, run_at, summary FROM runs WHERE run_at >= ? ORDER BY run_at, id", sinceUnix(since))
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", s.path, err)
	}
	var out []RunInfo
	for rows.Next() {
		var ri RunInfo
		var at int64
		var sum string
		if err := rows.Scan(&ri.ID, &at, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		ri.At = time.Unix(at, 0).UTC()
		if err := json.Unmarshal([]byte(sum), &ri.Summary); err != nil {
			rows.Close()
			return nil, fmt.Errorf("history %s: run %d: summary: %w", s.path, ri.ID, err)
		}
		out = append(out, ri)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Inputs, err = s.inputs(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sinceUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Day is one day's counts. A day with several runs shows its last run's
// counts (the state the day ended in) and how many runs it had. It is the
// report's own type: the history's days are what its documents render.
type Day = reports.HistoryDay

// ReportDays converts days to the report's (never nil: the JSON says
// "days": []).
func ReportDays(days []Day) []reports.HistoryDay {
	return append([]reports.HistoryDay{}, days...)
}

// Trend is the trend of every day in the store, for analyze --history's
// html report.
func (s *Store) Trend(ctx context.Context) ([]reports.TrendPoint, error) {
	days, err := s.Days(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	return reports.TrendOf(ReportDays(days)), nil
}

// Days returns the counts per day by state, class and impact, oldest first.
func (s *Store) Days(ctx context.Context, since time.Time) ([]Day, error) {
	runs, err := s.Runs(ctx, since)
	if err != nil {
		return nil, err
	}
	var days []Day
	for _, r := range runs {
		date := r.At.Format(time.DateOnly)
		n := 1
		if len(days) > 0 && days[len(days)-1].Date == date {
			n = days[len(days)-1].Runs + 1
			days = days[:len(days)-1]
		}
		m := r.Summary
		day := Day{Date: date, Runs: n, RunID: r.ID, Routes: m.Routes, Valid: m.Valid, Invalid: m.Invalid,
			NotFound: m.NotFound, Dropped: m.Dropped, Classes: m.Classes, Impact: m.Impact, VRPsLoaded: m.VRPs.Loaded,
			Unreachable: m.Impact.Unreachable}
		if x := m.ASPA; x != nil {
			day.ASPA = &reports.HistoryASPA{Valid: x.Valid, Unknown: x.Unknown, Invalid: x.Invalid, Unverified: x.Unverified, RoutesDropped: x.RoutesDroppedASPA}
		}
		days = append(days, day)
	}
	return days, nil
}

// Lifetime is how long one invalid route (identified by prefix and origin,
// or prefix and AS_SET) has been seen. It is the report's own type: the
// history's lifetimes are what its documents render.
type Lifetime = reports.LifetimeRow

// Lifetimes returns every invalid route seen in runs at or after since,
// sorted by prefix then origin (AS_SET last).
func (s *Store) Lifetimes(ctx context.Context, since time.Time) ([]Lifetime, error) {
	var latest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(id) FROM runs").Scan(&latest); err != nil {
		return nil, fmt.Errorf("history %s: %w", s.path, err)
	}
	// Rows come oldest first, so the last row of a key is its latest
	// appearance: its class and impact win.
	rows, err := s.db.QueryContext(ctx, `SELECT i.prefix, i.origin, i.class, i.impact, r.id, r.run_at
		FROM invalids i JOIN runs r ON r.id = i.run_id WHERE r.run_at >= ? ORDER BY r.run_at, r.id`, sinceUnix(since))
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", s.path, err)
	}
	defer rows.Close()
	type key struct {
		p netip.Prefix
		o int64
	}
	byKey := map[key]*Lifetime{}
	lastRun := map[key]int64{}
	for rows.Next() {
		var ps, class, impact string
		var origin sql.NullInt64
		var id, at int64
		if err := rows.Scan(&ps, &origin, &class, &impact, &id, &at); err != nil {
			return nil, err
		}
		p, err := netip.ParsePrefix(ps)
		if err != nil {
			return nil, fmt.Errorf("history %s: run %d: prefix %q: %w", s.path, id, ps, err)
		}
		k := key{p, 1 << 32}
		if origin.Valid {
			k.o = origin.Int64
		}
		l := byKey[k]
		if l == nil {
			l = &Lifetime{Prefix: p, FirstSeen: time.Unix(at, 0).UTC()}
			if origin.Valid {
				o := uint32(origin.Int64)
				l.Origin = &o
			}
			byKey[k] = l
		}
		if lastRun[k] != id {
			l.Runs++
			lastRun[k] = id
		}
		l.LastSeen, l.Class, l.Impact = time.Unix(at, 0).UTC(), class, impact
		l.Current = latest.Valid && id == latest.Int64
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Lifetime, 0, len(byKey))
	for _, l := range byKey {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Lifetime) int {
		if c := rov.ComparePrefix(a.Prefix, b.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(a.Origin), originKey(b.Origin))
	})
	return out, nil
}

func originKey(o *uint32) int64 {
	if o == nil {
		return 1 << 32
	}
	return int64(*o)
}
