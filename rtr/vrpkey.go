package rtr

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// vkey is a VRP as RTR carries it: a rov.PackedVRP, 24 bytes with no
// pointer, so that sets of them cost the garbage collector nothing to
// scan, compare as integers (Compare), and sort in the order
// rov.CompareVRP gives the VRPs they stand for. RTR carries no trust
// anchor: the TA index is always 0. The live table keeps its set in the
// same form, so it can share the union's slice (Set.Packed).
type vkey = rov.PackedVRP

func keyOfPDU(p *PDU) vkey {
	a := p.Prefix.Addr()
	if p.Type == TypeIPv6Prefix && a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	return rov.PackAddr(a, uint8(p.Prefix.Bits()), p.MaxLen, p.ASN)
}

func keyOf(v rov.VRP) vkey { return rov.PackVRP(v, 0) }

func vrpOf(k vkey) rov.VRP { return k.Unpack(nil) }

// sortedKeysOf returns the keys of a key set, sorted (nil when empty).
func sortedKeysOf(m map[vkey]struct{}) []vkey {
	if len(m) == 0 {
		return nil
	}
	out := make([]vkey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, vkey.Compare)
	return out
}

// vrpsOf converts sorted keys to VRPs, in the same (rov.CompareVRP) order; nil
// when empty.
func vrpsOf(keys []vkey) []rov.VRP {
	if len(keys) == 0 {
		return nil
	}
	out := make([]rov.VRP, len(keys))
	for i, k := range keys {
		out[i] = vrpOf(k)
	}
	return out
}
