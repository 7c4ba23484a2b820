// Package progress prints a one-line, self-overwriting progress report for
// long reads (a full-table RIB takes tens of seconds) on a terminal, and
// nothing at all otherwise, so cron jobs and pipes get clean stderr.
//
// The Reporter is pure: it formats what a sample function returns at the
// times it is told, so tests drive it with a fake clock. Start wires it to a
// real ticker.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Interval is the minimum time between two printed lines: four updates a
// second look live without costing measurable time.
const Interval = 250 * time.Millisecond

// Sample is what the work has done so far.
type Sample struct {
	Done  int64 // input bytes consumed (compressed, when the input is)
	Total int64 // input size in bytes; <= 0 when unknown (pipes)
	Items int64 // items produced so far (routes)
}

// Reporter formats progress lines. It is not safe for concurrent use: one
// goroutine (Start's) calls Tick and Finish.
type Reporter struct {
	w      io.Writer
	label  string
	unit   string // "routes"
	sample func() Sample

	lastPrint time.Time
	lastItems int64
	lastLen   int // length of the previous line, to blank its tail
	started   bool
}

// New returns a Reporter writing to w. label names the work ("rib.bz2"),
// unit the items counted ("routes"). sample is called once per Tick and must
// be safe to call from the Reporter's goroutine (read atomics).
func New(w io.Writer, label, unit string, sample func() Sample) *Reporter {
	return &Reporter{w: w, label: label, unit: unit, sample: sample}
}

// Tick prints a line for the current sample unless the previous line is
// less than Interval old. The rate is items per second since that line.
func (r *Reporter) Tick(now time.Time) {
	if !r.started {
		r.started, r.lastPrint = true, now
		r.lastItems = r.sample().Items
		return
	}
	dt := now.Sub(r.lastPrint)
	if dt < Interval {
		return
	}
	s := r.sample()
	rate := float64(s.Items-r.lastItems) / dt.Seconds()
	r.print(Line(r.label, r.unit, s, rate))
	r.lastPrint, r.lastItems = now, s.Items
}

// Finish blanks the progress line so that later output starts on a clean
// line. It prints nothing if no line was printed.
func (r *Reporter) Finish() {
	if r.lastLen > 0 {
		fmt.Fprintf(r.w, "\r%s\r", strings.Repeat(" ", r.lastLen))
		r.lastLen = 0
	}
}

func (r *Reporter) print(line string) {
	pad := ""
	if n := r.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n) // erase the tail of a longer old line
	}
	fmt.Fprintf(r.w, "\r%s%s", line, pad)
	r.lastLen = len(line)
}

// Line formats one report: "rib.bz2 42% 123 MB 1.2M routes 850k routes/s".
// The percentage is omitted when the total is unknown.
func Line(label, unit string, s Sample, rate float64) string {
	var b strings.Builder
	b.WriteString(label)
	if s.Total > 0 {
		pct := s.Done * 100 / s.Total
		fmt.Fprintf(&b, " %d%%", min(pct, 100))
	}
	fmt.Fprintf(&b, " %s %s %s %s %s/s", Bytes(s.Done), Count(float64(s.Items)), unit, Count(rate), unit)
	return b.String()
}

// Bytes formats n in decimal units: "512 B", "123 MB", "1.5 GB".
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000_000:
		return fmt.Sprintf("%d kB", n/1000)
	case n < 1000_000_000:
		return fmt.Sprintf("%d MB", n/1000_000)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// Count formats a count or rate compactly: "950", "850k", "1.2M".
func Count(x float64) string {
	switch {
	case x < 1000:
		return fmt.Sprintf("%.0f", x)
	case x < 1e6:
		return fmt.Sprintf("%.0fk", x/1e3)
	}
	return fmt.Sprintf("%.1fM", x/1e6)
}

// Start reports progress on w every Interval until the returned stop
// function is called; stop blanks the line and waits for the reporter
// goroutine. When enabled is false (w is not a terminal) it does nothing.
func Start(w io.Writer, enabled bool, label, unit string, sample func() Sample) (stop func()) {
	if !enabled {
		return func() {}
	}
	r := New(w, label, unit, sample)
	t := time.NewTicker(Interval)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Tick(time.Now())
		for {
			select {
			case now := <-t.C:
				r.Tick(now)
			case <-done:
				r.Finish()
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.Stop()
			close(done)
			wg.Wait()
		})
	}
}
