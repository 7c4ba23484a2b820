package live

import (
	"maps"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestPeerPathsModel drives a peerPaths and a plain map with the same
// random operations (prefix ids learnt as a feed learns them, path ids 0
// and ADD-PATH ones, replacements, withdrawals) past the point where the
// peer's path id 0 paths move to the array, and compares every answer and
// the whole content (all, len) along the way.
func TestPeerPathsModel(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 11))
		o := &owner{}                                                 // the mappings' owner: they are freed once it is unreachable
		pp, model := newPeerPaths(newMapped(o)), map[uint64]pathVal{} // mapped when TestOracleMapped lowers mapMin
		defer runtime.KeepAlive(o)
		prefixes := 0
		check := func(step int) {
			t.Helper()
			if pp.len() != len(model) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, pp.len(), len(model))
			}
			got := map[uint64]pathVal{}
			pp.all(func(k uint64, v pathVal) {
				if _, dup := got[k]; dup {
					t.Fatalf("seed %d step %d: all yields %x twice", seed, step, k)
				}
				got[k] = v
			})
			if !maps.Equal(got, model) {
				t.Fatalf("seed %d step %d: all yields %d paths, model holds %d", seed, step, len(got), len(model))
			}
		}
		for step := range 60000 {
			// New prefix ids appear as a table grows; most keys name a
			// known one, some path ids are ADD-PATH ones.
			if prefixes < 20000 && rng.IntN(3) > 0 {
				prefixes++
			}
			pid := uint64(rng.IntN(prefixes + 1))
			id := uint64(0)
			if rng.IntN(10) == 0 {
				id = uint64(1 + rng.IntN(3))
			}
			k := pid<<32 | id
			switch op := rng.IntN(10); {
			case op < 6:
				v := pathVal{route: uint32(step), path: uint32(rng.IntN(5)), nh: uint32(rng.IntN(2)), time: uint32(step)}
				pp.set(k, v, prefixes+1)
				model[k] = v
			case op < 9:
				if _, ok := model[k]; ok {
					pp.del(k)
					delete(model, k)
				}
			default:
				if rng.IntN(100) == 0 {
					// update during all, as the attribute compaction does
					pp.all(func(k uint64, v pathVal) {
						v.path++
						pp.update(k, v)
						model[k] = v
					})
				}
			}
			got, ok := pp.get(k)
			want, wok := model[k]
			if ok != wok || got != want {
				t.Fatalf("seed %d step %d: get(%x) = %v %v, want %v %v", seed, step, k, got, ok, want, wok)
			}
			if step%5000 == 0 {
				check(step)
			}
		}
		check(-1)
		if pp.dense == nil {
			t.Fatalf("seed %d: the paths never moved to the array (%d held of %d prefixes)", seed, pp.len(), prefixes)
		}
	}
}
