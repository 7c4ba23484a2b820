package rtr

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// vkey is a VRP as RTR carries it, packed into 24 bytes with no pointer:
// the address as two big-endian words (an IPv4 address in the top 32 bits
// of hi), so that sets of them cost the garbage collector nothing to scan,
// compare as integers, and sort in the order rov.CompareVRP gives the VRPs
// they stand for (see compare). RTR carries no trust anchor, so none is
// kept.
type vkey struct {
	hi, lo uint64
	asn    uint32
	bits   uint8
	maxLen uint8
	v6     bool
}

func keyOfAddr(a netip.Addr, bits int, maxLen uint8, asn uint32) vkey {
	k := vkey{asn: asn, bits: uint8(bits), maxLen: maxLen}
	if a.Is4() {
		b := a.As4()
		k.hi = uint64(binary.BigEndian.Uint32(b[:])) << 32
		return k
	}
	b := a.As16()
	k.hi, k.lo, k.v6 = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), true
	return k
}

func keyOfPDU(p *PDU) vkey {
	a := p.Prefix.Addr()
	if p.Type == TypeIPv6Prefix && a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	return keyOfAddr(a, p.Prefix.Bits(), p.MaxLen, p.ASN)
}

func keyOf(v rov.VRP) vkey {
	return keyOfAddr(v.Prefix.Addr(), v.Prefix.Bits(), v.MaxLen, v.ASN)
}

func (k vkey) vrp() rov.VRP {
	var a netip.Addr
	if k.v6 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		a = netip.AddrFrom16(b)
	} else {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.hi>>32))
		a = netip.AddrFrom4(b)
	}
	return rov.VRP{Prefix: netip.PrefixFrom(a, int(k.bits)), MaxLen: k.maxLen, ASN: k.asn}
}

// compare orders keys as rov.CompareVRP orders their VRPs: IPv4 first, then
// address, prefix length, max length and ASN.
func (k vkey) compare(o vkey) int {
	if k.v6 != o.v6 {
		if !k.v6 {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(k.hi, o.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(k.lo, o.lo); c != 0 {
		return c
	}
	if c := cmp.Compare(k.bits, o.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(k.maxLen, o.maxLen); c != 0 {
		return c
	}
	return cmp.Compare(k.asn, o.asn)
}

// sortedKeysOf returns the keys of a key set, sorted (nil when empty).
func sortedKeysOf(m map[vkey]struct{}) []vkey {
	if len(m) == 0 {
		return nil
	}
	out := make([]vkey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, vkey.compare)
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
		out[i] = k.vrp()
	}
	return out
}
