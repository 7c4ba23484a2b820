package rov

import (
	"math/bits"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// The IPv4 half of the index keeps its prefixes in 16-byte entries (a
// 32-bit address and a length) instead of the 32 bytes of an entry with a
// 128-bit pfxkey.Key: the 512k IPv4 prefixes of a full export take 8 MB
// instead of 16 MB, which is memory every run fills (and faults in), and
// half the cache lines a covering lookup reads. It is sortedPrefixes with
// the key narrowed; the differential tests hold both to the same oracles.

// key4 is an IPv4 prefix: its address (masked) and length.
type key4 struct {
	addr uint32
	bits uint8
}

func key4Of(k pfxkey.Key) key4 { return key4{addr: uint32(k.Hi >> 32), bits: k.Bits} }

// mask4 is the network mask of a bits-long IPv4 prefix.
func mask4(bits uint8) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// contains reports whether k contains or equals o.
func (k key4) contains(o key4) bool {
	return k.bits <= o.bits && (o.addr^k.addr)&mask4(k.bits) == 0
}

// less orders keys by address, then length (shorter first), as
// pfxkey.Key.Compare orders IPv4 keys.
func (k key4) less(o key4) bool {
	return k.addr < o.addr || k.addr == o.addr && k.bits < o.bits
}

type entry4 struct {
	k      key4
	parent int32  // nearest strictly covering entry, or -1
	start  uint32 // the entry's VRPs are members[start:next entry's start]
}

// sortedPrefixes4 is sortedPrefixes for IPv4 (see there).
type sortedPrefixes4 struct {
	ents    []entry4
	n       int
	members []uint32
	jump    []uint32
	jbits   uint8
}

func (s *sortedPrefixes4) vrpsOf(i int32) []uint32 {
	return s.members[s.ents[i].start:s.ents[i+1].start]
}

// build4 makes the IPv4 array from idx, whose VRPs walk visits in
// prefixOrder with their keys; it is whole only when the walk ends with
// walkDone.
func build4(idx []uint32, walk prefixWalk) (sortedPrefixes4, walkResult) {
	s := sortedPrefixes4{members: idx, ents: make([]entry4, 0, len(idx)+1)}
	var stack []int32
	r := walk(func(k pfxkey.Key, j int) {
		kk := key4Of(k)
		if len(s.ents) > 0 && kk == s.ents[len(s.ents)-1].k {
			return
		}
		e := int32(len(s.ents))
		for len(stack) > 0 && !s.ents[stack[len(stack)-1]].k.contains(kk) {
			stack = stack[:len(stack)-1]
		}
		p := int32(-1)
		if len(stack) > 0 {
			p = stack[len(stack)-1]
		}
		s.ents = append(s.ents, entry4{k: kk, parent: p, start: uint32(j)})
		stack = append(stack, e)
	})
	if r != walkDone {
		return s, r
	}
	s.n = len(s.ents)
	s.ents = append(s.ents, entry4{parent: -1, start: uint32(len(idx))})
	if s.n < minJump {
		return s, walkDone
	}
	// As sortedPrefixes.finish: jump[b] is the first entry whose address
	// is in bucket b or later.
	s.jbits = uint8(min(bits.Len(uint(s.n)), maxJumpBits))
	nb := 1 << s.jbits
	s.jump = make([]uint32, nb+1)
	b := 0
	for j := 0; j < s.n; j++ {
		for last := int(s.ents[j].k.addr >> (32 - s.jbits)); b <= last; b++ {
			s.jump[b] = uint32(j)
		}
	}
	for ; b <= nb; b++ {
		s.jump[b] = uint32(s.n)
	}
	return s, walkDone
}

// covering is sortedPrefixes.covering for IPv4.
func (s *sortedPrefixes4) covering(k key4, dst []uint32) []uint32 {
	ents := s.ents
	lo, hi := 0, s.n
	if s.jump != nil {
		b := k.addr >> (32 - s.jbits)
		lo, hi = int(s.jump[b]), int(s.jump[b+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !k.less(ents[m].k) { // ents[m] <= k
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := int32(lo - 1)
	for i >= 0 && !ents[i].k.contains(k) {
		i = ents[i].parent
	}
	for i >= 0 {
		dst = append(dst, s.vrpsOf(i)...)
		i = ents[i].parent
	}
	return dst
}

// inside is sortedPrefixes.inside for IPv4.
func (s *sortedPrefixes4) inside(k key4, dst []uint32) []uint32 {
	first := key4{addr: k.addr, bits: k.bits + 1}
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ents[m].k.less(first) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < s.n && k.contains(s.ents[i].k); i++ {
		dst = append(dst, s.vrpsOf(int32(i))...)
	}
	return dst
}
