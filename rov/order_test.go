package rov

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// TestOrders pins the prefix order and the two VRP orders against each
// other on the cases where they differ.
func TestOrders(t *testing.T) {
	v := func(p string, maxLen uint8, asn uint32) VRP {
		return VRP{Prefix: netip.MustParsePrefix(p), MaxLen: maxLen, ASN: asn}
	}
	cases := []struct {
		name       string
		a, b       VRP
		reading    int // CompareVRP(a, b)
		canonical  int // CanonicalOrder(a, b)
		prefixOnly int // ComparePrefix(a.Prefix, b.Prefix)
	}{
		{"IPv4 before IPv6 in every order", v("255.0.0.0/8", 8, 1), v("::/0", 0, 1), -1, -1, -1},
		{"lower address first", v("10.0.0.0/8", 8, 1), v("11.0.0.0/8", 8, 1), -1, -1, -1},
		{"covering prefix first when reading, last in rpki-client's order", v("10.0.0.0/8", 24, 1), v("10.0.0.0/16", 24, 1), -1, 1, -1},
		{"smaller MaxLen first when reading, last in rpki-client's order", v("10.0.0.0/8", 16, 1), v("10.0.0.0/8", 24, 1), -1, 1, 0},
		{"ASN ascending in both", v("10.0.0.0/8", 8, 1), v("10.0.0.0/8", 8, 2), -1, -1, 0},
		{"TA breaks ties when reading only", VRP{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 8, ASN: 1, TA: "a"}, VRP{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 8, ASN: 1, TA: "b"}, -1, 0, 0},
	}
	for _, c := range cases {
		if got := CompareVRP(c.a, c.b); got != c.reading || CompareVRP(c.b, c.a) != -c.reading {
			t.Errorf("%s: CompareVRP = %d, want %d", c.name, got, c.reading)
		}
		if got := CanonicalOrder(c.a, c.b); got != c.canonical || CanonicalOrder(c.b, c.a) != -c.canonical {
			t.Errorf("%s: CanonicalOrder = %d, want %d", c.name, got, c.canonical)
		}
		if got := ComparePrefix(c.a.Prefix, c.b.Prefix); got != c.prefixOnly {
			t.Errorf("%s: ComparePrefix = %d, want %d", c.name, got, c.prefixOnly)
		}
	}
}

// TestNewIndexOrdersMatchSort: NewIndex's shortcuts (run-wise prefix sort
// of address-ordered input, radix sort by ASN) give exactly the orders a
// plain comparison sort gives, for canonical input (as loaders return
// it), shuffled input, duplicates, invalid prefixes, one address under
// many lengths and MaxLens, and ASNs on both sides of 2^16.
func TestNewIndexOrdersMatchSort(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for round := range 60 {
		vrps := randVRPs(r, 1+r.IntN(600))
		for i := range vrps {
			switch r.IntN(4) {
			case 0:
				vrps[i].ASN = r.Uint32()
			case 1:
				vrps[i].ASN = 65536*uint32(r.IntN(3)) + uint32(r.IntN(3))
			}
		}
		for range r.IntN(30) {
			v := vrps[r.IntN(len(vrps))]
			p := netip.PrefixFrom(v.Prefix.Addr(), v.Prefix.Bits()+r.IntN(v.Prefix.Addr().BitLen()-v.Prefix.Bits()+1)).Masked()
			vrps = append(vrps, v, VRP{Prefix: p, MaxLen: uint8(p.Addr().BitLen()), ASN: v.ASN + uint32(r.IntN(2))})
		}
		if round%4 == 0 {
			vrps = append(vrps, VRP{ASN: 3}, VRP{ASN: 70000, MaxLen: 1}, VRP{ASN: 3})
		}
		switch round % 3 {
		case 0:
			slices.SortStableFunc(vrps, CanonicalOrder)
		case 1:
			r.Shuffle(len(vrps), func(i, j int) { vrps[i], vrps[j] = vrps[j], vrps[i] })
		}
		ix := NewIndex(vrps)
		v4, v6, byASN := ix.Orders()
		tab := &table{vrps: vrps}
		keys := tab.keys()
		var w4, w6 []uint32
		all := make([]uint32, len(vrps))
		for i := range vrps {
			all[i] = uint32(i)
			switch keys[i].Fam {
			case pfxkey.Fam4:
				w4 = append(w4, uint32(i))
			case pfxkey.Fam6:
				w6 = append(w6, uint32(i))
			}
		}
		byPrefix := func(a, b uint32) int { return prefixCmp(tab, keys[a], keys[b], a, b) }
		slices.SortFunc(w4, byPrefix)
		slices.SortFunc(w6, byPrefix)
		slices.SortFunc(all, func(a, b uint32) int { return asnCmp(tab, keys[a], keys[b], a, b) })
		if !slices.Equal(v4, w4) || !slices.Equal(v6, w6) || !slices.Equal(byASN, all) {
			t.Fatalf("round %d (%d VRPs): orders differ from a comparison sort", round, len(vrps))
		}
	}
}
