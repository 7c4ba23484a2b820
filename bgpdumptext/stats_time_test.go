package bgpdumptext

import (
	"strings"
	"testing"
	"time"
)

// TestStatsRecordTimes: Stats.First and Last are the earliest and latest
// record timestamps (bgpdump's TIME field), which reports show as the MRT
// time range; "prefix origin" text has none.
func TestStatsRecordTimes(t *testing.T) {
	t.Run("bgpdump text, out of order", func(t *testing.T) {
		in := "BGP4MP|1400824900|A|192.0.2.1|64500|192.0.2.0/24|64500 64501|IGP|192.0.2.1|0|0||NAG||\n" +
			"BGP4MP|1400824800|A|192.0.2.1|64500|198.51.100.0/24|64500 64502|IGP|192.0.2.1|0|0||NAG||\n" +
			"BGP4MP|1400825000|W|192.0.2.1|64500|192.0.2.0/24\n"
		r := NewReader(strings.NewReader(in), "t")
		for r.Next() {
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		st := r.Stats()
		if !st.First.Equal(time.Unix(1400824800, 0)) || !st.Last.Equal(time.Unix(1400825000, 0)) {
			t.Errorf("first %v, last %v; want 1400824800 and 1400825000", st.First.Unix(), st.Last.Unix())
		}
	})
	t.Run("prefix origin text", func(t *testing.T) {
		r := NewReader(strings.NewReader("192.0.2.0/24 64500\n"), "t")
		for r.Next() {
		}
		if st := r.Stats(); !st.First.IsZero() || !st.Last.IsZero() {
			t.Errorf("first %v, last %v; want none", st.First, st.Last)
		}
	})
}
