package reports

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// TestLookupWriterJSONIsEncoder: the streamed document is byte for byte
// what json.Encoder (SetIndent "", "  ") writes for all the answers at
// once, on every lookup golden (each query kind), and for no answers.
func TestLookupWriterJSONIsEncoder(t *testing.T) {
	files, err := filepath.Glob("../cmd/rovimpact/testdata/lookup/*.json.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no lookup goldens (%v)", err)
	}
	docs := map[string][]Answer{"none": {}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Answers []Answer }
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[filepath.Base(f)] = doc.Answers
	}
	for name, answers := range docs {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(struct {
				Answers []Answer `json:"answers"`
			}{answers}); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			lw, err := NewLookupWriter(&got, "json")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range answers {
				if err := lw.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			if err := lw.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("streamed:\n%s\nencoder:\n%s", got.String(), want.String())
			}
		})
	}
}

// TestLookupWriterUnknownFormat: a format the writer does not know is an
// error naming it, not an empty document.
func TestLookupWriterUnknownFormat(t *testing.T) {
	if _, err := NewLookupWriter(&bytes.Buffer{}, "yaml"); err == nil {
		t.Error("format yaml accepted")
	}
}

// TestWriteQueryIsLookup: streaming an answer's rows (WriteQuery) writes
// the bytes of rendering the whole answer (Lookup), in every format, on
// random tables and for every kind of query, 0.0.0.0/0 and ::/0 included.
func TestWriteQueryIsLookup(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 19))
	for round := range 12 {
		tb := table.New()
		var vrps []rov.VRP
		pfx := func() netip.Prefix {
			if rng.IntN(4) == 0 {
				a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(3))})
				return netip.PrefixFrom(a, 30+rng.IntN(10)).Masked()
			}
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(3)), byte(rng.IntN(256)), 0})
			return netip.PrefixFrom(a, rng.IntN(25)).Masked()
		}
		for range rng.IntN(8) {
			p := pfx()
			vrps = append(vrps, rov.VRP{Prefix: p, MaxLen: uint8(min(p.Bits()+rng.IntN(4), p.Addr().BitLen())), ASN: uint32(64500 + rng.IntN(3))})
		}
		for range rng.IntN(30) {
			o := rov.Origin{Kind: rov.OriginAS, ASN: uint32(64500 + rng.IntN(3))}
			if rng.IntN(8) == 0 {
				o = rov.Origin{Kind: rov.OriginNone}
			}
			tb.Add(pfx(), o, tb.Peer(route.PeerKey{AS: 65000}), nil)
		}
		a := classify.Analyze(tb, rov.NewIndex(vrps), classify.Options{})
		qs := []string{"0.0.0.0/0", "::/0", "10.0.0.0/8", "10.1.2.3", "2001:db8::1", "AS64500", "AS64501"}
		for _, r := range tb.Routes() {
			qs = append(qs, r.Prefix.String())
		}
		origin := uint32(64502)
		for _, format := range LookupFormats.Names() {
			var answers []Answer
			var streamed bytes.Buffer
			lw, err := NewLookupWriter(&streamed, format)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range qs {
				q, err := ParseQuery(s)
				if err != nil {
					t.Fatal(err)
				}
				var o *uint32
				if i%2 == 0 {
					o = &origin
				}
				answers = append(answers, Lookup(a, q, o))
				if err := lw.WriteQuery(a, q, o); err != nil {
					t.Fatal(err)
				}
			}
			if err := lw.Close(); err != nil {
				t.Fatal(err)
			}
			var whole bytes.Buffer
			if err := writeLookups(&whole, format, answers); err != nil {
				t.Fatal(err)
			}
			if streamed.String() != whole.String() {
				t.Fatalf("round %d, %s: streamed\n%s\nwhole\n%s", round, format, streamed.String(), whole.String())
			}
		}
	}
}
