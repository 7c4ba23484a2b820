// Package pfxkey is the one fixed-size prefix key of the project: a
// netip.Prefix as a 128-bit big-endian address, a length and a family,
// with no pointer (netip.Addr holds a zone pointer), so that maps and
// slices of keys cost the garbage collector nothing to scan, and keys
// compare as integers. The route tables (mrt.RIB, table.Ingester,
// live.State), the VRP index (rov.Index) and the RTR VRP sets (rtr) all
// key prefixes with it.
package pfxkey

import (
	"cmp"
	"encoding/binary"
	"net/netip"
)

// Families, in Key.Fam. The zero Key (FamInvalid) stands for the invalid
// prefix and sorts before every real one.
const (
	FamInvalid uint8 = iota
	Fam4
	Fam6
)

// Key is a prefix: Hi and Lo are its address big-endian (an IPv4 address
// in the top 32 bits of Hi, the rest zero), Bits its length and Fam its
// family. ID is the holder's own number, kept in what would otherwise be
// padding (table's replay puts the RFC 7911 path id there): 24 bytes in
// all. Keys order like the prefixes they stand for: by family (IPv4
// first), address, length (shorter first); every prefix inside p follows p
// directly, in one run.
type Key struct {
	Hi, Lo uint64
	ID     uint32
	Bits   uint8
	Fam    uint8
}

// Of returns the key of p (the address as given: mask p first when host
// bits may be set). The invalid prefix has the zero key.
func Of(p netip.Prefix) Key {
	a := p.Addr()
	switch {
	case a.Is4():
		b := a.As4()
		return Key{Hi: uint64(binary.BigEndian.Uint32(b[:])) << 32, Bits: uint8(p.Bits()), Fam: Fam4}
	case a.Is6():
		b := a.As16()
		return Key{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:]), Bits: uint8(p.Bits()), Fam: Fam6}
	}
	return Key{}
}

// Prefix returns the prefix k stands for (the invalid prefix for the zero
// key).
func (k Key) Prefix() netip.Prefix {
	switch k.Fam {
	case Fam4:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.Hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(b), int(k.Bits))
	case Fam6:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.Hi)
		binary.BigEndian.PutUint64(b[8:], k.Lo)
		return netip.PrefixFrom(netip.AddrFrom16(b), int(k.Bits))
	}
	return netip.Prefix{}
}

// Is6 reports whether k is an IPv6 prefix.
func (k Key) Is6() bool { return k.Fam == Fam6 }

// Compare orders keys by family, address, then length. ID is not part of
// the order: keys that differ only in ID compare equal.
func (k Key) Compare(o Key) int {
	if k.Fam != o.Fam {
		return cmp.Compare(k.Fam, o.Fam)
	}
	if k.Hi != o.Hi {
		return cmp.Compare(k.Hi, o.Hi)
	}
	if k.Lo != o.Lo {
		return cmp.Compare(k.Lo, o.Lo)
	}
	return cmp.Compare(k.Bits, o.Bits)
}

// Contains reports whether prefix k contains or equals prefix o (same
// family; k masked, as Of of a masked prefix is; ID is not looked at).
// Only the words the mask covers are compared: the covering lookups of
// rov.Index call it at every step.
func (k Key) Contains(o Key) bool {
	if k.Fam != o.Fam || k.Bits > o.Bits {
		return false
	}
	switch {
	case k.Bits == 0:
		return true
	case k.Bits <= 64:
		return o.Hi&(^uint64(0)<<(64-k.Bits)) == k.Hi
	default:
		return o.Hi == k.Hi && o.Lo&(^uint64(0)<<(128-uint(k.Bits))) == k.Lo
	}
}

// Supernet returns k shortened to bits (bits <= k.Bits), with k's ID.
func (k Key) Supernet(bits uint8) Key {
	hi, lo := Mask(bits)
	return Key{Hi: k.Hi & hi, Lo: k.Lo & lo, ID: k.ID, Bits: bits, Fam: k.Fam}
}

// Mask returns the network mask of a bits-long prefix as two words (an
// IPv4 mask sits in the top of hi).
func Mask(bits uint8) (hi, lo uint64) {
	switch {
	case bits == 0:
		return 0, 0
	case bits <= 64:
		return ^uint64(0) << (64 - bits), 0
	default:
		return ^uint64(0), ^uint64(0) << (128 - uint(bits))
	}
}
