package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name string
		s    Sample
		rate float64
		want string
	}{
		{"the example in the brief", Sample{Done: 123_456_789, Total: 293_944_000, Items: 1_234_567}, 850_123,
			"rib.bz2 42% 123 MB 1.2M routes 850k routes/s"},
		{"unknown total (stdin): no percentage", Sample{Done: 5_000, Total: -1, Items: 999}, 12.4,
			"rib.bz2 5 kB 999 routes 12 routes/s"},
		{"Pos runs ahead of Size by a buffer: capped at 100%", Sample{Done: 110, Total: 100, Items: 0}, 0,
			"rib.bz2 100% 110 B 0 routes 0 routes/s"},
		{"gigabytes", Sample{Done: 2_345_000_000, Total: 4_690_000_000, Items: 35_000_000}, 1_500_000,
			"rib.bz2 50% 2.3 GB 35.0M routes 1.5M routes/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line("rib.bz2", "routes", tt.s, tt.rate); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReporterRateLimit drives the Reporter with a fake clock: lines come at
// most every Interval, the rate is measured since the previous line, and
// Finish blanks the line.
func TestReporterRateLimit(t *testing.T) {
	var out bytes.Buffer
	var s Sample
	r := New(&out, "f", "routes", func() Sample { return s })
	t0 := time.Unix(1_700_000_000, 0)

	r.Tick(t0) // first tick only starts the clock
	if out.Len() != 0 {
		t.Fatalf("first tick printed %q", out.String())
	}
	s = Sample{Done: 1000, Total: 4000, Items: 500_000}
	r.Tick(t0.Add(100 * time.Millisecond)) // too soon
	if out.Len() != 0 {
		t.Fatalf("tick within Interval printed %q", out.String())
	}
	r.Tick(t0.Add(500 * time.Millisecond))
	if got, want := out.String(), "\rf 25% 1 kB 500k routes 1.0M routes/s"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	out.Reset()
	s = Sample{Done: 4000, Total: 4000, Items: 600_000}
	r.Tick(t0.Add(1500 * time.Millisecond)) // 100k routes in 1 s
	if got, want := out.String(), "\rf 100% 4 kB 600k routes 100k routes/s"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	out.Reset()
	r.Finish()
	if got := out.String(); got != "\r"+strings.Repeat(" ", 37)+"\r" {
		t.Fatalf("Finish wrote %q", got)
	}
}

func TestShorterLineErasesTail(t *testing.T) {
	var out bytes.Buffer
	var s Sample
	r := New(&out, "f", "routes", func() Sample { return s })
	t0 := time.Unix(0, 0)
	r.Tick(t0)
	s.Items = 2_000_000
	r.Tick(t0.Add(time.Second)) // "f 0 B 2.0M routes 2.0M routes/s"
	out.Reset()
	r.Tick(t0.Add(2 * time.Second)) // "f 0 B 2.0M routes 0 routes/s": 3 shorter
	if got, want := out.String(), "\rf 0 B 2.0M routes 0 routes/s   "; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestStartDisabledIsSilent(t *testing.T) {
	var out bytes.Buffer
	stop := Start(&out, false, "f", "routes", func() Sample { return Sample{Items: 1} })
	time.Sleep(2 * Interval)
	stop()
	if out.Len() != 0 {
		t.Fatalf("disabled reporter wrote %q", out.String())
	}
}

func TestIsTerminal(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if IsTerminal(devnull) {
		t.Errorf("IsTerminal(%s) = true: cron output would get progress lines", os.DevNull)
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Errorf("IsTerminal(regular file) = true")
	}
}
