package table

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// TestPathSetMatchesMap drives a pathSet and a Go map with the same random
// sets and deletes over a small key space (so probes collide, clusters
// wrap around the end of the table and deletes shift slots back) and
// checks after every step that both hold the same paths: a lost or
// duplicated path would be a silently wrong table.
//
// The second half uses 3,000 keys, so that the entries span several chunks
// and freed entries are reused.
func TestPathSetMatchesMap(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 14))
		var s pathSet
		model := map[replayKey]rov.Origin{}
		keys := make([]replayKey, 300+2700*int(seed/10))
		for i := range keys {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0})
			if i%3 == 0 {
				a = netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, byte(i >> 8), byte(i)})
			}
			keys[i] = replayKeyOf(netip.PrefixFrom(a, 24+i%9), uint32(i%4))
		}
		for step := range 20000 {
			k := keys[rng.IntN(len(keys))]
			old, slot, held := s.get(k)
			want, wantHeld := model[k]
			if held != wantHeld || (held && old != want) {
				t.Fatalf("seed %d step %d: get(%v) = %v, %v; want %v, %v", seed, step, k, old, held, want, wantHeld)
			}
			if held && rng.IntN(3) == 0 {
				s.del(slot)
				delete(model, k)
			} else {
				o := rov.Origin{Kind: rov.OriginAS, ASN: uint32(step)}
				s.set(k, o, slot, held)
				model[k] = o
			}
			if s.n != len(model) || s.entries-len(s.free) != s.n {
				t.Fatalf("seed %d step %d: n = %d, %d entries of which %d free; want n %d", seed, step, s.n, s.entries, len(s.free), len(model))
			}
			if step%997 == 0 {
				got := map[replayKey]rov.Origin{}
				for k, o := range s.all {
					if _, dup := got[k]; dup {
						t.Fatalf("seed %d step %d: %v held twice", seed, step, k)
					}
					got[k] = o
				}
				if len(got) != len(model) {
					t.Fatalf("seed %d step %d: all yields %d paths, want %d", seed, step, len(got), len(model))
				}
				for k, o := range model {
					if got[k] != o {
						t.Fatalf("seed %d step %d: all has %v for %v, want %v", seed, step, got[k], k, o)
					}
				}
			}
		}
	}
}
