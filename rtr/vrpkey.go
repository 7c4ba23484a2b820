package rtr

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// vkey is a VRP as RTR carries it, packed into 28 bytes with no pointer, so
// that a 700k-entry map of them is half the size of one keyed by rov.VRP
// and costs the garbage collector nothing to scan. RTR carries no trust
// anchor, so none is kept.
type vkey struct {
	addr   [16]byte
	asn    uint32
	bits   uint8
	maxLen uint8
	v6     bool
}

func keyOfPDU(p *PDU) vkey {
	k := vkey{asn: p.ASN, bits: uint8(p.Prefix.Bits()), maxLen: p.MaxLen, v6: p.Type == TypeIPv6Prefix}
	if k.v6 {
		k.addr = p.Prefix.Addr().As16()
	} else {
		a := p.Prefix.Addr().As4()
		copy(k.addr[:], a[:])
	}
	return k
}

func keyOf(v rov.VRP) vkey {
	k := vkey{asn: v.ASN, bits: uint8(v.Prefix.Bits()), maxLen: v.MaxLen, v6: v.Prefix.Addr().Is6()}
	if k.v6 {
		k.addr = v.Prefix.Addr().As16()
	} else {
		a := v.Prefix.Addr().As4()
		copy(k.addr[:], a[:])
	}
	return k
}

func (k vkey) vrp() rov.VRP {
	var a netip.Addr
	if k.v6 {
		a = netip.AddrFrom16(k.addr)
	} else {
		a = netip.AddrFrom4([4]byte(k.addr[:4]))
	}
	return rov.VRP{Prefix: netip.PrefixFrom(a, int(k.bits)), MaxLen: k.maxLen, ASN: k.asn}
}

// CompareVRP orders VRPs IPv4 first, then by address, prefix length,
// max length, ASN and TA: the order of every VRP slice this package returns,
// so that results are reproducible and can be merged or diffed linearly.
func CompareVRP(a, b rov.VRP) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c // netip orders IPv4 before IPv6
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MaxLen, b.MaxLen); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ASN, b.ASN); c != 0 {
		return c
	}
	return cmp.Compare(a.TA, b.TA)
}

// sortedVRPs converts a key set to a sorted VRP slice (nil when empty).
func sortedVRPs[V any](m map[vkey]V) []rov.VRP {
	if len(m) == 0 {
		return nil
	}
	out := make([]rov.VRP, 0, len(m))
	for k := range m {
		out = append(out, k.vrp())
	}
	slices.SortFunc(out, CompareVRP)
	return out
}
