package mrt

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The -update flag is shared with the text reader's golden tests
// (text_test.go registers it too); whichever file is present registers it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestGolden renders every event, the stats and the error of each
// testdata/*.mrt file and compares them with testdata/golden/NAME.txt.
// TestBgpdumpDifferential checks the same files against bgpdump, so the
// golden files pin the fields bgpdump cannot (time, origin, RPKI state,
// kind, peer index, counters) against regressions.
func TestGolden(t *testing.T) {
	for _, f := range localFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".mrt")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := renderGolden(data, filepath.Base(f))
			golden := filepath.Join("testdata", "golden", name+".txt")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("%s line %d:\n got %s\nwant %s", golden, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s: got %d lines, want %d", golden, len(gl), len(wl))
			}
		})
	}
}

const goldenEvents = 150

func renderGolden(data []byte, name string) []byte {
	var b bytes.Buffer
	h := sha256.New()
	n := 0
	rd := NewReader(bytes.NewReader(data), Options{Name: name})
	for rd.Next() {
		r := rd.Route()
		// The first goldenEvents events are spelled out; the rest are
		// pinned by a hash to keep the golden files small.
		w := io.Writer(h)
		if n++; n <= goldenEvents {
			w = io.MultiWriter(h, &b)
		}
		fmt.Fprintf(w, "%s|%s|peer%d|%s|origin=%d/%d|rpki=%d|upd=%v\n",
			r.Time.Format("2006-01-02T15:04:05.999999Z"), eventLine(r), r.Peer.Index, r.Peer.BGPID,
			r.Origin.Kind, r.Origin.ASN, r.RPKIState, r.FromUpdate)
	}
	fmt.Fprintf(&b, "# sha256 of all %d events: %x\n", n, h.Sum(nil))
	st := rd.Stats()
	fmt.Fprintf(&b, "# err=%v bytes=%d records=%d routes=%d\n", rd.Err(), st.Bytes, st.Records, st.Routes)
	keys := make([]string, 0, len(st.Skipped))
	for k := range st.Skipped {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "# skipped %s=%d\n", k, st.Skipped[k])
	}
	for _, p := range st.Problems {
		fmt.Fprintf(&b, "# problem record %d offset %d: %s\n", p.Record, p.Offset, p.Err)
	}
	fmt.Fprintf(&b, "# peers %d\n", len(rd.Peers()))
	return b.Bytes()
}
