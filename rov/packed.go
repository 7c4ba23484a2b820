package rov

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// PackedVRP is a VRP in 24 bytes with no pointer: the address as two
// big-endian words (an IPv4 address in the top 32 bits of Hi, as
// pfxkey.Key has it), the family, and the trust anchor as an index into a
// table of names its holder keeps (TATable). A VRP holds a netip.Prefix,
// whose zone pointer and the TA string make a set of them 56 bytes a VRP
// that the garbage collector scans at every cycle; sets kept for the life
// of a process (the live table's, the RTR caches') keep these instead and
// make VRP values only where one is reported (Index.VRP).
//
// Packing keeps everything a VRP holds: Unpack(PackVRP(v, t)) == v for
// every v whose TA t interned (host bits, an invalid prefix and
// IPv4-mapped IPv6 addresses included).
type PackedVRP struct {
	Hi, Lo uint64
	ASN    uint32
	Bits   uint8
	MaxLen uint8
	Fam    uint8 // pfxkey.FamInvalid, Fam4 or Fam6
	TA     uint8 // index into the holder's TATable; 0 is the empty TA
}

// PackAddr packs a VRP given as an address and length (as RTR carries
// it), with TA index 0. The address is kept as given: mask it first when
// host bits may be set. A length beyond the family's width (which
// netip.PrefixFrom would refuse) is kept too.
func PackAddr(a netip.Addr, bits, maxLen uint8, asn uint32) PackedVRP {
	p := PackedVRP{ASN: asn, Bits: bits, MaxLen: maxLen}
	switch {
	case a.Is4():
		b := a.As4()
		p.Hi, p.Fam = uint64(binary.BigEndian.Uint32(b[:]))<<32, pfxkey.Fam4
	case a.Is6():
		b := a.As16()
		p.Hi, p.Lo, p.Fam = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), pfxkey.Fam6
	}
	return p
}

// PackVRP packs v with the TA index ta (see TATable.Intern).
func PackVRP(v VRP, ta uint8) PackedVRP {
	if !v.Prefix.IsValid() {
		return PackedVRP{ASN: v.ASN, MaxLen: v.MaxLen, TA: ta}
	}
	p := PackAddr(v.Prefix.Addr(), uint8(v.Prefix.Bits()), v.MaxLen, v.ASN)
	p.TA = ta
	return p
}

// Key returns the key of the VRP's prefix (the zero key when invalid).
func (p PackedVRP) Key() pfxkey.Key {
	if p.Fam == pfxkey.FamInvalid {
		return pfxkey.Key{}
	}
	return pfxkey.Key{Hi: p.Hi, Lo: p.Lo, Bits: p.Bits, Fam: p.Fam}
}

// Prefix returns the VRP's prefix (the invalid prefix when invalid).
func (p PackedVRP) Prefix() netip.Prefix {
	switch p.Fam {
	case pfxkey.Fam4:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(p.Hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(b), int(p.Bits))
	case pfxkey.Fam6:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], p.Hi)
		binary.BigEndian.PutUint64(b[8:], p.Lo)
		return netip.PrefixFrom(netip.AddrFrom16(b), int(p.Bits))
	}
	return netip.Prefix{}
}

// Unpack returns the VRP p stands for, its TA named by tas (TATable.Names;
// nil when every index is 0).
func (p PackedVRP) Unpack(tas []string) VRP {
	v := VRP{Prefix: p.Prefix(), MaxLen: p.MaxLen, ASN: p.ASN}
	if int(p.TA) < len(tas) {
		v.TA = tas[p.TA]
	}
	return v
}

// Compare orders packed VRPs as CompareVRP orders the VRPs they stand for,
// the TA aside: family (IPv4 first), address, prefix length, maxLength,
// ASN. Two packed VRPs compare equal exactly when they are the same VRP
// for RFC 6811 (prefix, maxLength, ASN).
func (p PackedVRP) Compare(o PackedVRP) int {
	// The prefix as pfxkey orders it (family, address, length), built from
	// the fields as they are: Key would zero an invalid VRP's length.
	pk := pfxkey.Key{Hi: p.Hi, Lo: p.Lo, Bits: p.Bits, Fam: p.Fam}
	if c := pk.Compare(pfxkey.Key{Hi: o.Hi, Lo: o.Lo, Bits: o.Bits, Fam: o.Fam}); c != 0 {
		return c
	}
	if p.MaxLen != o.MaxLen {
		return cmp.Compare(p.MaxLen, o.MaxLen)
	}
	return cmp.Compare(p.ASN, o.ASN)
}

// maxTAs is how many names a TATable holds, the empty one included.
const maxTAs = 256

// TAOverflow is the name a TATable gives every TA past its 255th: a
// PackedVRP has one byte for its TA. Real exports name five to a dozen
// (one per RIR, a few test TAs, SLURM); past 255 the table says so in
// every report naming such a VRP's TA rather than name a wrong one.
const TAOverflow = "(more than 254 trust anchors)"

// TATable interns the trust anchor names of packed VRPs: index 0 is the
// empty name. It only grows, so indexes handed out stay valid, and the
// slice Names returned earlier stays correct for the indexes it covers:
// an Index built over packed VRPs keeps the Names of its time.
type TATable struct {
	names []string
	index map[string]uint8
}

// Intern returns the index of name, adding it when new. Past the 255th
// name every new one gets the index of TAOverflow.
func (t *TATable) Intern(name string) uint8 {
	if name == "" {
		return 0
	}
	if i, ok := t.index[name]; ok {
		return i
	}
	if t.index == nil {
		t.index = map[string]uint8{}
		t.names = []string{""}
	}
	if len(t.names) == maxTAs-1 {
		t.names = append(t.names, TAOverflow)
	}
	if len(t.names) == maxTAs {
		return maxTAs - 1
	}
	i := uint8(len(t.names))
	t.names = append(t.names, name)
	t.index[name] = i
	return i
}

// Names returns the names by index (nil before the first non-empty one).
// The slice is shared: do not modify it.
func (t *TATable) Names() []string { return t.names }

// PackedOrdered reports whether ps is strictly increasing in Compare
// order: sorted, with one VRP per (prefix, maxLength, ASN).
func PackedOrdered(ps []PackedVRP) bool {
	for i := 1; i < len(ps); i++ {
		if ps[i-1].Compare(ps[i]) >= 0 {
			return false
		}
	}
	return true
}
