package collector

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/mrt"
)

// TestPathSetModel drives pathSet and a plain map (the obvious model:
// NLRI -> stale) through the same seeded random adds, deletes, graceful
// restart marks, sweeps and drains, across the switch to bitmaps, and
// compares every answer: held before, counts per family, and the paths a
// sweep or drain hands out.
func TestPathSetModel(t *testing.T) {
	defer func(n int) { denseAfter = n }(denseAfter)
	for _, after := range []int{0, 8, 50, 1 << 30} {
		denseAfter = after
		rng := rand.New(rand.NewPCG(uint64(after), 7))
		var s pathSet
		model := map[mrt.NLRI]bool{}
		nlri := func() mrt.NLRI {
			var n mrt.NLRI
			if rng.IntN(8) == 0 {
				a := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(4))}
				n.Prefix = netip.PrefixFrom(netip.AddrFrom16(a), 32+rng.IntN(9)).Masked()
			} else {
				// Lengths 0-32 in a small space: /24 and shorter hit the
				// bitmaps (bits 0 and 24 at the edges), longer the map.
				bits := []int{0, 1, 8, 16, 22, 23, 24, 24, 24, 25, 32}[rng.IntN(11)]
				a := netip.AddrFrom4([4]byte{byte(rng.IntN(3) * 127), byte(rng.IntN(4)), byte(rng.IntN(16)), byte(rng.IntN(4) * 64)})
				n.Prefix = netip.PrefixFrom(a, bits).Masked()
			}
			if rng.IntN(10) == 0 {
				n.PathID = uint32(1 + rng.IntN(2))
			}
			return n
		}
		fam := func() mrt.Family { return mrt.Family(rng.IntN(int(mrt.NumFamilies))) }
		count := func(f mrt.Family) int {
			c := 0
			for n := range model {
				if mrt.FamilyOfPrefix(n.Prefix) == f {
					c++
				}
			}
			return c
		}
		sorted := func(ns []mrt.NLRI) []mrt.NLRI {
			slices.SortFunc(ns, func(a, b mrt.NLRI) int {
				if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
					return c
				}
				if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
					return c
				}
				return int(a.PathID) - int(b.PathID)
			})
			return ns
		}
		used := false
		for step := range 6000 {
			switch op := rng.IntN(100); {
			case op < 70:
				n := nlri()
				_, want := model[n]
				if got := s.add(n); got != want {
					t.Fatalf("after=%d step %d: add(%v) = %v, want %v", after, step, n, got, want)
				}
				model[n] = false
			case op < 90:
				n := nlri()
				_, want := model[n]
				if got := s.del(n); got != want {
					t.Fatalf("after=%d step %d: del(%v) = %v, want %v", after, step, n, got, want)
				}
				delete(model, n)
			case op < 95:
				f := fam()
				s.markStale(f)
				for n := range model {
					if mrt.FamilyOfPrefix(n.Prefix) == f {
						model[n] = true
					}
				}
			case op < 98:
				f := fam()
				var got, want []mrt.NLRI
				k := s.sweep(f, func(n mrt.NLRI) { got = append(got, n) })
				for n, stale := range model {
					if stale && mrt.FamilyOfPrefix(n.Prefix) == f {
						want = append(want, n)
						delete(model, n)
					}
				}
				if k != len(got) || !slices.Equal(sorted(got), sorted(want)) {
					t.Fatalf("after=%d step %d: sweep(%v) = %d %v, want %v", after, step, f, k, got, want)
				}
			default:
				f := fam()
				var got, want []mrt.NLRI
				s.drain(f, func(n mrt.NLRI) { got = append(got, n) })
				for n := range model {
					if mrt.FamilyOfPrefix(n.Prefix) == f {
						want = append(want, n)
						delete(model, n)
					}
				}
				if !slices.Equal(sorted(got), sorted(want)) {
					t.Fatalf("after=%d step %d: drain(%v) = %v, want %v", after, step, f, got, want)
				}
			}
			used = used || s.d != nil
			if step%16 != 0 {
				continue
			}
			for f := range mrt.NumFamilies {
				if got, want := s.count(mrt.Family(f)), count(mrt.Family(f)); got != want {
					t.Fatalf("after=%d step %d: count(%v) = %d, want %d", after, step, mrt.Family(f), got, want)
				}
			}
			if s.len() != len(model) {
				t.Fatalf("after=%d step %d: len %d, want %d", after, step, s.len(), len(model))
			}
		}
		if after <= 50 && !used {
			t.Errorf("after=%d: the bitmaps were never used", after)
		}
	}
}
