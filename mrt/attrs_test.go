package mrt

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// TestAttrs pins what RIB and the live table rely on: equal paths and next
// hops get one number, a path decodes to what was interned, a path moves
// between Attrs by its encoding (live compaction), and a copied Attrs
// stays a valid view while the original goes on interning (live dumps).
func TestAttrs(t *testing.T) {
	seq := func(asns ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSequence, ASNs: asns} }
	set := func(asns ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSet, ASNs: asns} }
	paths := [][]rov.Segment{
		{seq(64500, 64501)},
		{seq(64500), seq(64501)}, // same ASNs, other segmentation: another path
		{seq(64500, 64501), set(64502, 4200000000)},
		{},
	}
	a := NewAttrs()
	ids := make([]uint32, len(paths))
	for i, p := range paths {
		ids[i] = a.InternPath(p)
		if again := a.InternPath(p); again != ids[i] {
			t.Fatalf("path %v interned twice: %d then %d", p, ids[i], again)
		}
	}
	for i := range ids {
		for j := range i {
			if ids[i] == ids[j] {
				t.Fatalf("paths %v and %v share number %d", paths[i], paths[j], ids[i])
			}
		}
	}
	if n, _ := a.Paths(); n != len(paths) {
		t.Fatalf("Paths() = %d, want %d", n, len(paths))
	}
	view := a // a read-only view of what is interned so far
	for range 1000 {
		a.InternPath([]rov.Segment{seq(uint32(a.NextHops()), 1, 2, 3)})
		a.InternNextHop(netip.AddrFrom4([4]byte{10, 0, byte(a.NextHops() >> 8), byte(a.NextHops())}))
	}
	fresh := NewAttrs()
	var dst []rov.Segment
	for i, p := range paths {
		for _, at := range []*Attrs{&a, &view} {
			dst = at.DecodePath(dst, ids[i])
			if len(p) == 0 && len(dst) == 0 {
				continue
			}
			if !reflect.DeepEqual(dst, p) {
				t.Fatalf("DecodePath(%d) = %v, want %v", ids[i], dst, p)
			}
		}
		id := fresh.InternEncoded(a.PathBytes(ids[i]))
		if dst = fresh.DecodePath(dst, id); len(p) > 0 && !reflect.DeepEqual(dst, p) {
			t.Fatalf("moved path %v decodes to %v", p, dst)
		}
	}
	nh := netip.MustParseAddr("2001:db8::1")
	if id := a.InternNextHop(netip.Addr{}); id != 0 || a.NextHop(0).IsValid() {
		t.Fatalf("no next hop: number %d, addr %v; want 0, invalid", id, a.NextHop(0))
	}
	id := a.InternNextHop(nh)
	if a.InternNextHop(nh) != id || a.NextHop(id) != nh {
		t.Fatalf("next hop %v: number %d decodes to %v", nh, id, a.NextHop(id))
	}
}
