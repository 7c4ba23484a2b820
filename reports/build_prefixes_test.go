package reports

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// TestDistinctPrefixes holds the neighbour count to the set on routes in
// prefix order (the Ingester's), shuffled, and with one prefix repeated
// far from its first appearance, which only the set counts right.
func TestDistinctPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var routes []table.Route
	for range 2000 {
		var p netip.Prefix
		if rng.IntN(4) == 0 {
			var a [16]byte
			a[0], a[1], a[2] = 0x20, 0x01, byte(rng.IntN(8))
			p = netip.PrefixFrom(netip.AddrFrom16(a), 24+rng.IntN(3)*8).Masked()
		} else {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(16)), 0}), 16+rng.IntN(9)).Masked()
		}
		for range 1 + rng.IntN(3) { // several origins per prefix
			routes = append(routes, table.Route{Prefix: p, Origin: rov.Origin{Kind: rov.OriginAS, ASN: rng.Uint32N(5)}})
		}
	}
	want := distinctPrefixesSet(routes)
	if want < 100 {
		t.Fatalf("only %d distinct prefixes: the test data is too small", want)
	}
	sorted := slices.Clone(routes)
	slices.SortStableFunc(sorted, func(a, b table.Route) int { return rov.ComparePrefix(a.Prefix, b.Prefix) })
	if got := distinctPrefixes(sorted); got != want {
		t.Errorf("prefix order: %d prefixes, want %d", got, want)
	}
	if got := distinctPrefixes(routes); got != want {
		t.Errorf("random order: %d prefixes, want %d", got, want)
	}
	// In order but for one late repeat: neighbours alone would count it twice.
	late := append(slices.Clone(sorted), sorted[0])
	if got := distinctPrefixes(late); got != want {
		t.Errorf("late repeat: %d prefixes, want %d", got, want)
	}
	if got := distinctPrefixes(nil); got != 0 {
		t.Errorf("no routes: %d prefixes", got)
	}
}
