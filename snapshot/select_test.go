package snapshot

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// randomAnalysis is a table and VRP set drawn from a few addresses, so
// that prefixes nest deeply: routes covering, inside and beside each other
// in both families, every origin kind, VRPs with and without a prefix, a
// default route; verdicts by classify.Analyze under opt.
func randomAnalysis(tb testing.TB, rng *rand.Rand, opt classify.Options) (Header, *classify.Analysis) {
	tb.Helper()
	pfx := func() netip.Prefix {
		if rng.IntN(3) > 0 {
			var b [4]byte
			b[0], b[1], b[2] = byte(10+rng.IntN(2)), byte(rng.IntN(3)), byte(rng.IntN(3)*64)
			return netip.PrefixFrom(netip.AddrFrom4(b), rng.IntN(25)).Masked()
		}
		var b [16]byte
		b[0], b[1], b[3], b[5] = 0x20, 0x01, byte(rng.IntN(3)), byte(rng.IntN(2)*128)
		return netip.PrefixFrom(netip.AddrFrom16(b), rng.IntN(49)).Masked()
	}
	asn := func() uint32 { return 64500 + uint32(rng.IntN(6)) }
	var vrps []rov.VRP
	for range 60 + rng.IntN(60) {
		p := pfx()
		width := p.Addr().BitLen()
		v := rov.VRP{Prefix: p, MaxLen: uint8(p.Bits() + rng.IntN(width-p.Bits()+1)), ASN: asn(), TA: []string{"ripe", "arin"}[rng.IntN(2)]}
		if rng.IntN(10) == 0 {
			v.ASN = 0
		}
		vrps = append(vrps, v)
	}
	vrps = append(vrps, vrps[0]) // a duplicate: equal VRPs keep their order
	vrps[len(vrps)-1].TA = "apnic"
	vrps = rov.MergeVRPs(vrps)
	t := table.New()
	peers := []int{
		t.Peer(route.PeerKey{AS: 64510, IP: netip.MustParseAddr("10.255.0.1")}),
		t.Peer(route.PeerKey{AS: 64511, IP: netip.MustParseAddr("2001:db8::1")}),
	}
	for i := range 150 + rng.IntN(150) {
		p := pfx()
		if i == 0 {
			p = netip.MustParsePrefix("0.0.0.0/0")
		}
		o := rov.Origin{Kind: rov.OriginAS, ASN: asn()}
		var set []uint32
		switch rng.IntN(20) {
		case 0:
			o = rov.Origin{Kind: rov.OriginNone}
			set = []uint32{asn(), asn()}
		case 1:
			o = rov.Origin{Kind: rov.OriginLocal}
		}
		t.Add(p, o, peers[rng.IntN(2)], set)
	}
	a := classify.Analyze(t, rov.NewIndex(vrps), opt)
	return Header{Meta: reports.Meta{Policy: reports.Policy{ASSet: opt.ASSet.String(), CountDefault: opt.Impact.CountDefault, LocalAS: opt.LocalAS}}}, a
}

// queriesOf is a mix of lookups an analysis can be asked: every route's
// prefix and a covering and an inside one, an address in it, its origin;
// VRP prefixes and ASes; the default routes; addresses and ASes nobody
// has.
func queriesOf(rng *rand.Rand, a *classify.Analysis) []string {
	qs := []string{"0.0.0.0/0", "::/0", "192.0.2.1", "AS4200000000", "2001:db8:ffff::1", "10.0.0.0/8"}
	routes := a.Table.Routes()
	for id, r := range routes {
		if rng.IntN(max(1, len(routes)/6)) > 0 {
			continue
		}
		p := r.Prefix
		qs = append(qs, p.String(), netip.PrefixFrom(p.Addr(), rng.IntN(p.Bits()+1)).Masked().String(),
			netip.PrefixFrom(p.Addr(), min(p.Addr().BitLen(), p.Bits()+rng.IntN(9))).Masked().String(), p.Addr().String())
		if o := a.Outcomes[id].Origin; o.Kind == rov.OriginAS {
			qs = append(qs, fmt.Sprintf("AS%d", o.ASN))
		}
	}
	for _, v := range a.Index.VRPs() {
		if rng.IntN(max(1, a.Index.Len()/6)) == 0 {
			qs = append(qs, v.Prefix.String(), fmt.Sprintf("AS%d", v.ASN))
		}
	}
	return qs
}

// render is the output of queries in formats.
func render(t *testing.T, a *classify.Analysis, qs []reports.Query, origin *uint32, formats ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, format := range formats {
		req := reports.LookupRequest{Analysis: a, Queries: qs, Origin: origin, Top: 0, Wide: format == "table"}
		if err := reports.LookupFormats.Print(&b, format, req); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
	}
	return b.Bytes()
}

// TestDecodeForAnswersAsWhole holds the selection to the whole analysis as
// its oracle: the analysis DecodeFor makes for a set of queries answers
// each of them byte for byte as the whole analysis does (in JSON, which
// has every field, one query at a time, with and without --origin; in
// every format for all of them at once), on the shipped sample and on
// random nested tables under every option that changes verdicts or
// impacts.
func TestDecodeForAnswersAsWhole(t *testing.T) {
	opts := []classify.Options{
		{},
		{ASSet: classify.ASSetNotFound},
		{ASSet: classify.ASSetWithdraw, Impact: classify.ImpactOptions{CountDefault: true}},
		{LocalAS: 64503},
	}
	type input struct {
		name string
		h    Header
		a    *classify.Analysis
	}
	var inputs []input
	for i, opt := range opts {
		a, h := sampleAnalysis(t, opt)
		inputs = append(inputs, input{fmt.Sprintf("sample-%d", i), h, a})
		for seed := range 2 {
			h, a := randomAnalysis(t, rand.New(rand.NewPCG(uint64(seed), uint64(i))), opt)
			inputs = append(inputs, input{fmt.Sprintf("random-%d-%d", i, seed), h, a})
		}
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			enc, err := Encode(in.h, in.a)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := Decode(enc, in.name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, uint64(len(enc))))
			var all []reports.Query
			for _, s := range queriesOf(rng, whole.Analysis) {
				q, err := reports.ParseQuery(s)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, q)
				part, err := DecodeFor(enc, in.name, []reports.Query{q})
				if err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				if part.Analysis.Table.Len() > whole.Analysis.Table.Len() || part.Analysis.Index.Len() > whole.Analysis.Index.Len() {
					t.Fatalf("%s: the part is larger than the whole", s)
				}
				var origin *uint32
				if q.Prefix.IsValid() && rng.IntN(2) == 0 {
					o := 64500 + uint32(rng.IntN(6))
					origin = &o
				}
				if got, want := render(t, part.Analysis, []reports.Query{q}, origin, "json"), render(t, whole.Analysis, []reports.Query{q}, origin, "json"); !bytes.Equal(got, want) {
					t.Fatalf("lookup %s (origin %v) from the selection differs from the whole:\n got %s\nwant %s", s, origin, got, want)
				}
			}
			every := []string{"table", "json", "csv", "ndjson"}
			batch, err := DecodeFor(enc, in.name, all)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := render(t, batch.Analysis, all, nil, every...), render(t, whole.Analysis, all, nil, every...); !bytes.Equal(got, want) {
				t.Fatal("the batch of every query answers otherwise from its selection than from the whole")
			}
			// A batch past maxSelected is answered from the whole.
			many := make([]reports.Query, 0, maxSelected+1)
			for len(many) <= maxSelected {
				many = append(many, all...)
			}
			big, err := DecodeFor(enc, in.name, many)
			if err != nil || big.Analysis.Table.Len() != whole.Analysis.Table.Len() || big.Analysis.Index.Len() != whole.Analysis.Index.Len() {
				t.Fatalf("%d queries: %v, not the whole analysis", len(many), err)
			}
			none, err := DecodeFor(enc, in.name, []reports.Query{})
			if err != nil || none.Analysis.Table.Len() != 0 || none.Analysis.Index.Len() != 0 {
				t.Fatalf("no queries: %v, %d routes, want none", err, none.Analysis.Table.Len())
			}
		})
	}
}

// TestSortByASN holds the counting sort of large sets to the stable sort
// of small ones: the same order, equal ASes in their order before.
func TestSortByASN(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vrps := make([]rov.VRP, 20000)
	for i := range vrps {
		vrps[i].ASN = uint32(rng.IntN(50)) << uint(rng.IntN(3)*12) // digits in both halves
	}
	ids := make([]uint32, 0, len(vrps))
	for _, i := range rng.Perm(len(vrps)) {
		ids = append(ids, uint32(i))
	}
	want := slices.Clone(ids)
	slices.SortStableFunc(want, func(x, y uint32) int { return cmpU(vrps[x].ASN, vrps[y].ASN) })
	if got := sortByASN(vrps, slices.Clone(ids)); !slices.Equal(got, want) {
		t.Error("the counting sort differs from the stable sort")
	}
}
