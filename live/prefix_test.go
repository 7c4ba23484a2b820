package live

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// TestPrefixSet interns random prefixes of both families (enough IPv6
// ones that their addresses pass a small page, so TestOracleMapped maps
// them) and checks the set against a model: every prefix found with its
// id, its key and prefix given back from the id (an IPv4 one from its
// 8-byte word, an IPv6 one through its address array), ids ordered as
// their keys order, inside and supernets answering as a scan of the model
// does, and a copy of the keys taken early still reading the same after
// later growths (as a snapshot's does without the lock).
func TestPrefixSet(t *testing.T) {
	for _, b := range []uint{26, 4} {
		t.Run(fmt.Sprint("idBits=", b), func(t *testing.T) {
			old := idBits
			idBits = b // 4: ids from 14 on are kept in the indexes' maps of big ids
			defer func() { idBits = old }()
			testPrefixSet(t)
		})
	}
}

func testPrefixSet(t *testing.T) {
	o := &owner{}
	defer runtime.KeepAlive(o)
	mem := newMapped(o)
	ps := newPrefixSet(mem)
	r := rand.New(rand.NewPCG(3, 4))
	var model []pfxkey.Key
	rnd := func() netip.Prefix {
		if r.IntN(3) == 0 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for i := 2; i < 8; i++ {
				b[i] = byte(r.IntN(4))
			}
			b[15] = byte(r.IntN(2)) // a /128 now and then
			return netip.PrefixFrom(netip.AddrFrom16(b), []int{0, 16, 32, 48, 64, 127, 128}[r.IntN(7)]).Masked()
		}
		b := [4]byte{byte(r.IntN(256)), byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(2) << 7)}
		return netip.PrefixFrom(netip.AddrFrom4(b), r.IntN(33)).Masked()
	}
	var early prefixKeys
	var earlyModel []pfxkey.Key
	for i := range 4000 {
		p := rnd()
		k := pfxkey.Of(p)
		id, ok := ps.lookup(p)
		// A key's ID (VRP code's keys carry one) is not part of it.
		withID := k
		withID.ID = uint32(i) + 1
		if id2, ok2 := ps.find(withID); id2 != id || ok2 != ok {
			t.Fatalf("step %d: find(%v with ID %d) = %d, %v; lookup %d, %v", i, p, withID.ID, id2, ok2, id, ok)
		}
		if j := slices.IndexFunc(model, func(m pfxkey.Key) bool { return m.Compare(k) == 0 }); ok != (j >= 0) || ok && int(id) != j {
			t.Fatalf("step %d: lookup(%v) = %d, %v; model index %d", i, p, id, ok, j)
		}
		if !ok {
			if got := ps.add(p); int(got) != len(model) {
				t.Fatalf("step %d: add(%v) = %d, want %d", i, p, got, len(model))
			}
			model = append(model, k)
		}
		if i == 1000 {
			early, earlyModel = ps.keys, slices.Clone(model)
		}
	}
	if ps.keys.len() != len(model) {
		t.Fatalf("%d ids, model %d", ps.keys.len(), len(model))
	}
	var v6 int
	for id, k := range model {
		if got := ps.keys.key(uint32(id)); got != k {
			t.Fatalf("key(%d) = %+v, want %+v", id, got, k)
		}
		if got := ps.keys.prefix(uint32(id)); got != k.Prefix() {
			t.Fatalf("prefix(%d) = %v, want %v", id, got, k.Prefix())
		}
		if k.Is6() {
			v6++
		}
	}
	if v6*16 < 2*4096 || v6 == len(model) {
		t.Fatalf("%d IPv6 prefixes of %d: too few to map their addresses, or no IPv4", v6, len(model))
	}
	if mapMin <= 4096 && refuse == nil && stableHere() {
		for _, base := range []any{baseOf(ps.keys.w), baseOf(ps.keys.v6)} {
			if _, ok := mem.stableOf(base.(unsafe.Pointer)); !ok {
				t.Fatal("with mapMin 4096, the key words or IPv6 addresses are not in a reservation")
			}
		}
	}
	for id, k := range earlyModel {
		if got := early.key(uint32(id)); got != k {
			t.Fatalf("early copy: key(%d) = %+v, want %+v", id, got, k)
		}
	}
	for range 2000 {
		a, b := uint32(r.IntN(len(model))), uint32(r.IntN(len(model)))
		if got, want := ps.keys.compare(a, b), model[a].Compare(model[b]); got != want {
			t.Fatalf("compare(%v, %v) = %d, want %d", model[a].Prefix(), model[b].Prefix(), got, want)
		}
	}
	ps.merge()
	if !slices.IsSortedFunc(ps.sorted, func(a, b uint32) int { return model[a].Compare(model[b]) }) || len(ps.sorted) != len(model) {
		t.Fatal("sorted view out of order or short")
	}
	for range 200 {
		q := pfxkey.Of(rnd())
		var got, want []uint32
		ps.inside(q, func(id uint32) { got = append(got, id) })
		ps.supernets(q, func(id uint32) { got = append(got, id) })
		for id, k := range model {
			if q.Contains(k) || k.Contains(q) && k.Bits < q.Bits {
				want = append(want, uint32(id))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("inside+supernets(%v) = %v, want %v", q.Prefix(), got, want)
		}
	}
}
