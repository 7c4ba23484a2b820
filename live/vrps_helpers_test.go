package live

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// canonical returns a sorted copy of vrps (masked prefixes) with one VRP
// per (prefix, maxLength, ASN), the first one's TA kept: the set the State
// holds after SetVRPs(vrps), for the test models.
func canonical(vrps []rov.VRP) []rov.VRP {
	out := slices.Clone(vrps)
	for i := range out {
		out[i].Prefix = out[i].Prefix.Masked()
	}
	return rov.Canonicalize(out)
}

// TestCoalesceOneDelta: Coalesce's shortcut for one ordered delta gives
// what the general fold gives, for deltas as rtr.Set reports them (sorted,
// a VRP sometimes withdrawn and announced again) and for deltas it must
// refuse (unsorted, host bits, repeats).
func TestCoalesceOneDelta(t *testing.T) {
	for seed := range uint64(200) {
		g := newGen(seed)
		var d rtr.Delta
		for range g.r.IntN(30) {
			v := g.vrp()
			v.Prefix = v.Prefix.Masked()
			d.Announced = append(d.Announced, v)
			if g.r.IntN(3) == 0 {
				d.Withdrawn = append(d.Withdrawn, v)
			}
		}
		for range g.r.IntN(10) {
			v := g.vrp()
			v.Prefix = v.Prefix.Masked()
			d.Withdrawn = append(d.Withdrawn, v)
		}
		if seed%4 != 0 {
			d.Announced = slices.CompactFunc(slices.SortedFunc(slices.Values(d.Announced), keyCompare), func(a, b rov.VRP) bool { return keyCompare(a, b) == 0 })
			d.Withdrawn = slices.CompactFunc(slices.SortedFunc(slices.Values(d.Withdrawn), keyCompare), func(a, b rov.VRP) bool { return keyCompare(a, b) == 0 })
		}
		if seed%8 == 1 && len(d.Announced) > 0 {
			d.Announced[0].Prefix = netip.PrefixFrom(d.Announced[0].Prefix.Addr().Next(), d.Announced[0].Prefix.Bits())
		}
		ga, gw := Coalesce(d)
		wa, ww := coalesceOps([]rtr.Delta{d})
		if !slices.Equal(ga, wa) || !slices.Equal(gw, ww) {
			t.Fatalf("seed %d: Coalesce +%v -%v, the general fold +%v -%v", seed, ga, gw, wa, ww)
		}
	}
}
