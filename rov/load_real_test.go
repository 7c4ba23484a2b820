package rov

import (
	"bytes"
	"compress/bzip2"
	"encoding/json"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// loadRealFile is the shared rpki-client export (see shared/data/SOURCES.md).
const loadRealFile = "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"

var (
	loadRealOnce sync.Once
	loadRealData []byte
	loadRealErr  error
)

// loadRealJSON returns the decompressed real export, decompressed once per
// test binary.
func loadRealJSON(tb testing.TB) []byte {
	tb.Helper()
	path := testutil.SharedData(tb, loadRealFile)
	loadRealOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			loadRealErr = err
			return
		}
		defer f.Close()
		loadRealData, loadRealErr = io.ReadAll(bzip2.NewReader(f))
	})
	if loadRealErr != nil {
		tb.Fatal(loadRealErr)
	}
	return loadRealData
}

// TestLoadVRPsRealFile pins the counts of the real rpki-client export.
// rpki-client's metadata says vrps 731888, uniquevrps 723524: the file
// already holds only unique (prefix, maxLength, ASN) entries, so dedup
// removes nothing and the per-family and per-TA counts of Read and Loaded
// are the same.
func TestLoadVRPsRealFile(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 75 MB; skipped with -short")
	}
	data := loadRealJSON(t)
	vrps, st, err := LoadVRPs(bytes.NewReader(data), "vrps.json", LoadOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	want := LoadStats{
		Format: FormatRPKIClientJSON, Read: 723524, Loaded: 723524, Duplicates: 0,
		Expired: 723524, DroppedExpired: 0, IPv4: 580367, IPv6: 143157,
		ByTA:      map[string]int{"ripe": 300988, "arin": 203996, "apnic": 153203, "lacnic": 39011, "afrinic": 26326},
		BuildTime: time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC),
	}
	gotJ, _ := json.Marshal(st)
	wantJ, _ := json.Marshal(want)
	if !bytes.Equal(gotJ, wantJ) {
		t.Errorf("stats:\n got %s\nwant %s", gotJ, wantJ)
	}
	if len(vrps) != st.Loaded {
		t.Errorf("len(vrps) = %d, want Loaded %d", len(vrps), st.Loaded)
	}
	if got, want := vrps[0].String(), "1.0.0.0/24 AS13335"; got != want || vrps[0].TA != "apnic" {
		t.Errorf("first VRP = %v %q, want %s apnic", vrps[0], vrps[0].TA, want)
	}

	_, st2, err := LoadVRPs(bytes.NewReader(data), "vrps.json", LoadOptions{Now: time.Now(), DropExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Loaded != 0 || st2.DroppedExpired != 723524 {
		t.Errorf("DropExpired: Loaded %d DroppedExpired %d, want 0 and 723524", st2.Loaded, st2.DroppedExpired)
	}
	// Before the export's earliest expiry nothing is expired.
	_, st3, err := LoadVRPs(bytes.NewReader(data), "vrps.json", LoadOptions{Now: time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if st3.Expired != 0 {
		t.Errorf("at build time: Expired %d, want 0", st3.Expired)
	}
}

// BenchmarkLoadVRPsReal measures the streaming loader on the real file
// against plain encoding/json decoding into structs, in the same run.
func BenchmarkLoadVRPsReal(b *testing.B) {
	data := loadRealJSON(b)
	b.Run("rovimpact", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := LoadVRPs(bytes.NewReader(data), "vrps.json", LoadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		type roa struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength uint8  `json:"maxLength"`
			TA        string `json:"ta"`
			Expires   int64  `json:"expires"`
		}
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var doc struct {
				Roas []roa `json:"roas"`
			}
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
