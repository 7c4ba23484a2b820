package rov

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// TestNewIndexOrdered: an index rebuilt from another index's orders answers
// every query exactly as the original, on random VRPs with duplicates and
// both families (the snapshot round trip depends on it).
func TestNewIndexOrdered(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 20 {
		vrps := randVRPs(r, 1+r.IntN(400))
		// Duplicates of earlier VRPs, kept under their own indexes.
		for range r.IntN(20) {
			vrps = append(vrps, vrps[r.IntN(len(vrps))])
		}
		// An invalid prefix: addressable by ASN, inside nothing.
		if round%3 == 0 {
			vrps = append(vrps, VRP{ASN: 3})
		}
		ix := NewIndex(vrps)
		v4, v6, byASN := ix.Orders()
		got, err := NewIndexOrdered(ix.VRPs(), slices.Clone(v4), slices.Clone(v6), slices.Clone(byASN))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		g4, g6, gASN := got.Orders()
		if !slices.Equal(g4, v4) || !slices.Equal(g6, v6) || !slices.Equal(gASN, byASN) {
			t.Fatalf("round %d: orders differ", round)
		}
		for range 300 {
			p, o := randPrefix(r, r.IntN(2) == 1), randOrigin(r)
			if a, b := ix.Covering(p, nil), got.Covering(p, nil); !slices.Equal(a, b) {
				t.Fatalf("Covering(%s) = %v, want %v", p, b, a)
			}
			if a, b := ix.Inside(p, nil), got.Inside(p, nil); !slices.Equal(a, b) {
				t.Fatalf("Inside(%s) = %v, want %v", p, b, a)
			}
			if a, b := ix.InsideByASN(p, o.ASN, nil), got.InsideByASN(p, o.ASN, nil); !slices.Equal(a, b) {
				t.Fatalf("InsideByASN(%s, %d) = %v, want %v", p, o.ASN, b, a)
			}
			if a, b := ix.ByASN(o.ASN), got.ByASN(o.ASN); !slices.Equal(a, b) {
				t.Fatalf("ByASN(%d) = %v, want %v", o.ASN, b, a)
			}
			checkAgainstOracle(t, got, vrps, p, o)
		}
	}
}

// TestNewIndexOrderedRejects: each way a stored order can be wrong is
// refused with an OrderError naming the order and position, never an index
// that would answer wrongly.
func TestNewIndexOrderedRejects(t *testing.T) {
	vrps := []VRP{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500},
		{Prefix: netip.MustParsePrefix("192.0.2.0/25"), MaxLen: 25, ASN: 64501},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLen: 48, ASN: 64500},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLen: 24, ASN: 0},
	}
	ix := NewIndex(vrps)
	v4, v6, byASN := ix.Orders()
	swap := func(s []uint32, i, j int) []uint32 { s = slices.Clone(s); s[i], s[j] = s[j], s[i]; return s }
	cases := []struct {
		name       string
		vrps       []VRP
		v4, v6, as []uint32
		order      string
		pos        int
	}{
		{"ipv4 order missing an entry", vrps, v4[:2], v6, byASN, "ipv4", 2},
		{"ipv4 entry out of range", vrps, append(slices.Clone(v4[:2]), 9), v6, byASN, "ipv4", 2},
		{"IPv6 VRP in the IPv4 order", vrps, []uint32{0, 1, 2}, v6, byASN, "ipv4", 2},
		{"ipv4 order not sorted", vrps, swap(v4, 0, 1), v6, byASN, "ipv4", 1},
		{"ipv4 entry repeated", vrps, []uint32{v4[0], v4[0], v4[1]}, v6, byASN, "ipv4", 1},
		{"ipv6 order empty", vrps, v4, nil, byASN, "ipv6", 0},
		{"asn order not sorted", vrps, v4, v6, swap(byASN, 0, 3), "asn", 1},
		{"asn order too long", vrps, v4, v6, append(slices.Clone(byASN), 0), "asn", 5},
		{"host bits in a VRP", []VRP{{Prefix: netip.MustParsePrefix("192.0.2.1/24"), MaxLen: 24}}, []uint32{0}, nil, []uint32{0}, "vrps", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := NewIndexOrdered(tc.vrps, tc.v4, tc.v6, tc.as)
			var oe *OrderError
			if !errors.As(err, &oe) {
				t.Fatalf("got index %v, error %v; want an *OrderError", ix, err)
			}
			if oe.Order != tc.order || oe.Pos != tc.pos {
				t.Errorf("got %q position %d (%v), want %q position %d", oe.Order, oe.Pos, err, tc.order, tc.pos)
			}
		})
	}
}

// TestBucketTable holds the bucket-table path (families with at least
// minJump distinct prefixes; real VRP sets) to the oracle when the real set
// is not at hand, and checks small families go without the table.
func TestBucketTable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 0x5eed))
	if small := NewIndex(randVRPs(r, 100)); small.s4.jump != nil || small.s6.jump != nil {
		t.Error("100 VRPs got a bucket table")
	}
	var vrps []VRP
	for range 2 * minJump {
		a4 := netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), 0})
		l4 := 8 + r.IntN(17)
		vrps = append(vrps, VRP{Prefix: netip.PrefixFrom(a4, l4).Masked(), MaxLen: uint8(l4 + r.IntN(25-l4)), ASN: uint32(r.IntN(4))})
		var b [16]byte
		b[0], b[1], b[2], b[3], b[4] = 0x20|byte(r.IntN(2)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))
		l6 := 16 + r.IntN(33)
		vrps = append(vrps, VRP{Prefix: netip.PrefixFrom(netip.AddrFrom16(b), l6).Masked(), MaxLen: uint8(l6), ASN: uint32(r.IntN(4))})
	}
	vrps = append(vrps, VRP{Prefix: netip.MustParsePrefix("0.0.0.0/0"), MaxLen: 8}, VRP{Prefix: netip.MustParsePrefix("2000::/3"), MaxLen: 3})
	// IPv6 outside 2000::/3, below and above it: no bucket of their own.
	for _, p := range []string{"::/0", "::/8", "fc00::/7", "1fff:ffff::/32", "4000::/2", "3fff:ffff:ffff::/48", "ff00::/8"} {
		vrps = append(vrps, VRP{Prefix: netip.MustParsePrefix(p), MaxLen: 64})
	}
	ix := NewIndex(vrps)
	if ix.s4.jump == nil || ix.s6.jump == nil {
		t.Fatalf("%d and %d distinct prefixes got no bucket table", ix.s4.n, ix.s6.n)
	}
	// Every bucket starts at the first entry not below the bucket's first
	// address, whichever way the index was built (this slice is unordered;
	// the canonical copy takes the one-pass build).
	for _, ix := range []*Index{ix, NewIndex(Canonicalize(slices.Clone(vrps)))} {
		jb := ix.s4.jbits
		for b, got := range ix.s4.jump {
			start := uint64(b) << (32 - jb)
			want := sort.Search(ix.s4.n, func(j int) bool { return uint64(ix.s4.ents[j].addr) >= start })
			if int(got) != want {
				t.Fatalf("IPv4 bucket %d of 2^%d starts at %d, want %d", b, jb, got, want)
			}
		}
		jb = ix.s6.jbits
		for b, got := range ix.s6.jump {
			start := pfxkey.Key{Hi: 1<<61 + uint64(b)<<(61-jb), Fam: pfxkey.Fam6} // b = 2^jb: 4000::
			want := sort.Search(ix.s6.n, func(j int) bool { return ix.s6.ents[j].key().Compare(start) >= 0 })
			if int(got) != want {
				t.Fatalf("IPv6 bucket %d of 2^%d starts at %d, want %d", b, jb, got, want)
			}
		}
	}
	for range 3000 {
		v := vrps[r.IntN(len(vrps))].Prefix
		// Around the VRPs: the prefix itself, one inside, one outside.
		bits := min(v.Addr().BitLen(), v.Bits()+r.IntN(9))
		p := netip.PrefixFrom(v.Addr(), bits)
		if r.IntN(3) == 0 {
			p = randPrefixAnywhere(r)
		}
		if got, want := sortedCopy(ix.Covering(p, nil)), oracleCovering(vrps, p); !slices.Equal(got, want) {
			t.Fatalf("Covering(%s) = %v, want %v", p, got, want)
		}
	}
}

// TestCoveringTreeLazy: the patricia trees are built on the first
// CoveringTree call, once, even when goroutines race to it (run with
// -race), and then answer as the oracle does.
func TestCoveringTreeLazy(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	vrps := randVRPs(r, 300)
	ix := NewIndex(vrps)
	if ix.trees.v4 != nil || ix.trees.v6 != nil {
		t.Fatal("NewIndex built the patricia trees")
	}
	ps := make([]netip.Prefix, 200)
	for i := range ps {
		ps[i] = randPrefix(r, r.IntN(2) == 1)
	}
	errs := make(chan string, len(ps))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(ps); i += 4 {
				if got, want := sortedCopy(ix.CoveringTree(ps[i], nil)), oracleCovering(vrps, ps[i]); !slices.Equal(got, want) {
					errs <- fmt.Sprintf("CoveringTree(%s) = %v, want %v", ps[i], got, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestASNOrderDense holds the counting sort of the ASN half to the radix
// sort it replaces (same byASN, same spans) where it applies (tables no
// larger than the radix sort's arrays), checks that it declines
// elsewhere, and that NewIndex's ASN order is asnCmp's either way.
func TestASNOrderDense(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var sawDense, sawDeclined bool
	for round := range 24 {
		n := 1 + r.IntN(3000)
		if round%3 != 0 {
			n = 30000 + r.IntN(60000)
		}
		vrps := randVRPs(r, n)
		highs := 1 + r.IntN(3*n>>16+3)
		for i := range vrps {
			vrps[i].ASN = uint32(r.IntN(highs))*0x10001*uint32(1+round%3) + uint32(r.IntN(40))
		}
		if round%2 == 0 {
			vrps = Canonicalize(vrps)
		}
		ix := NewIndex(vrps)
		i4, i6, _ := ix.Orders()
		var inv []uint32
		for i := range vrps {
			if !vrps[i].Prefix.IsValid() {
				inv = append(inv, uint32(i))
			}
		}
		tab := &table{vrps: vrps}
		want, asns := asnOrderOf(tab, inv, i4, i6)
		ref := &Index{t: *tab, byASN: want}
		ref.buildASN(asns)
		dense := &Index{t: *tab}
		ok := dense.asnOrderDense(inv, i4, i6)
		distinct := map[uint32]bool{}
		for _, v := range vrps {
			distinct[v.ASN>>16] = true
		}
		if ok != (len(distinct) <= maxDenseHighs && len(distinct)<<16 <= 3*len(vrps)) {
			t.Fatalf("round %d: %d upper halves, dense %v", round, len(distinct), ok)
		}
		if ok && (!slices.Equal(dense.byASN, want) || !sameASNRuns(dense, ref)) {
			t.Fatalf("round %d: counting sort differs from the radix sort", round)
		}
		if ok {
			sawDense = true
		} else if len(vrps) > 1<<16/3 {
			sawDeclined = true
		}
		if !slices.Equal(ix.byASN, want) || !sameASNRuns(ix, ref) {
			t.Fatalf("round %d: NewIndex's ASN half differs from the radix sort", round)
		}
		keys := tab.keys()
		if !slices.IsSortedFunc(ix.byASN, func(a, b uint32) int { return asnCmp(tab, keys[a], keys[b], a, b) }) {
			t.Fatalf("round %d: byASN not in asnCmp order", round)
		}
	}
	if !sawDense || !sawDeclined {
		t.Errorf("counting sort used %v, declined on a large set %v: want both", sawDense, sawDeclined)
	}
}

// sameASNRuns reports whether a and b find the same runs for every ASN.
func sameASNRuns(a, b *Index) bool {
	return slices.Equal(a.asns, b.asns) && slices.Equal(a.asnStart, b.asnStart) && len(a.asnStart) == len(a.asns)+1
}
