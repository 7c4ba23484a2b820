package reports

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// encoderJSON is the reference: what WriteJSON wrote before it streamed.
func encoderJSON(t testing.TB, rep Report) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWriteJSONStreamMatchesEncoder: the streamed report is byte for byte
// encoding/json's, on the sample report (every class, impact and cover
// kind), with per-peer rows, with empty and nil lists, with strings that
// need escaping, and on random reports.
func TestWriteJSONStreamMatchesEncoder(t *testing.T) {
	if n := reflect.TypeFor[Report]().NumField(); n != 5 {
		t.Fatalf("Report has %d fields; writeJSONStream writes 5: teach it the new one", n)
	}
	base := sampleReport(t)
	withPeers := base
	withPeers.Peers = []PeerRow{{AS: 7018, IP: netip.MustParseAddr("12.0.1.63"), Routes: 10, Dropped: 2, Unreachable: 1},
		{AS: 3130, IP: netip.MustParseAddr("2001:418:3807::1"), Routes: 3}}
	escaped := base
	escaped.Invalids = append([]Invalid(nil), base.Invalids...)
	escaped.Invalids[0].Explanation = "<script>&\"\u2028\x01é"
	empty := Report{Invalids: []Invalid{}, Origins: []OriginRow{}, Peers: []PeerRow{}}
	withASPA, peersASPA := base, withPeers
	withASPA.Summary.ASPA = &ASPASummary{Draft: ASPADraft, Invalid: 2, InvalidBy: map[string]int64{"as_set": 1, "not_provider": 1}}
	withASPA.ASPAPaths = sampleASPAReport(12).InvalidPaths
	peersASPA.ASPAPaths = withASPA.ASPAPaths[:1]
	reps := map[string]Report{"sample": base, "per-peer": withPeers, "escaping": escaped, "empty lists": empty, "nil lists": {},
		"aspa": withASPA, "per-peer aspa": peersASPA}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		rep := base
		rep.Invalids = nil
		for range r.IntN(5) {
			inv := base.Invalids[r.IntN(len(base.Invalids))]
			inv.CoveredShare = r.Float64()
			inv.Paths = r.Uint32()
			rep.Invalids = append(rep.Invalids, inv)
		}
		rep.Origins = base.Origins[:r.IntN(len(base.Origins)+1)]
		if r.IntN(2) == 0 {
			rep.Peers = withPeers.Peers[:r.IntN(3)]
		}
		reps["random"+string(rune('a'+i))] = rep
	}
	for name, rep := range reps {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			if err := WriteJSON(&got, rep); err != nil {
				t.Fatal(err)
			}
			if want := encoderJSON(t, rep); !bytes.Equal(got.Bytes(), want) {
				t.Errorf("streamed JSON differs from encoding/json:\n got %s\nwant %s", got.Bytes(), want)
			}
		})
	}
}

// BenchmarkWriteJSON compares the streamed writer with encoding/json's
// Encoder on a large report (the sample's invalids repeated to 200k rows):
// B/op is the memory each holds beyond the report itself.
func BenchmarkWriteJSON(b *testing.B) {
	base := sampleReport(&testing.T{})
	rep := base
	rep.Invalids = nil
	for len(rep.Invalids) < 200_000 {
		rep.Invalids = append(rep.Invalids, base.Invalids...)
	}
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			enc := json.NewEncoder(discard{})
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := WriteJSON(discard{}, rep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
