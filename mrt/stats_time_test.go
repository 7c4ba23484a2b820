package mrt

import (
	"os"
	"testing"
	"time"
)

// TestStatsRecordTimes: Stats.First and Last are the earliest and latest
// record timestamps (RFC 6396 §2 header; bgpdump's TIME field), which
// reports show as the MRT time range; "prefix origin" text has none.
func TestStatsRecordTimes(t *testing.T) {
	t.Run("mrt", func(t *testing.T) {
		f, err := os.Open("../testdata/sample/routes-v4.mrt")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := NewReader(f, Options{})
		for r.Next() {
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		want := time.Date(2014, 5, 23, 6, 0, 0, 0, time.UTC)
		if st := r.Stats(); !st.First.Equal(want) || !st.Last.Equal(want) {
			t.Errorf("first %v, last %v; want %v (the RIB dump's time)", st.First, st.Last, want)
		}
	})
}
