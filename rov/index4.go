package rov

import "github.com/rovimpact/rovimpact/internal/pfxkey"

// The IPv4 half of the index keeps its prefixes in 12-byte entries (a
// 32-bit address, the length beside the parent pointer, the start of the
// entry's VRPs) instead of the 32 bytes of an entry with a 128-bit
// pfxkey.Key: the 512k IPv4 prefixes of a full export take 6 MB instead
// of 16 MB, which is memory every run fills (and faults in), and fewer
// cache lines a covering lookup reads. It is sortedPrefixes with the key
// narrowed; the differential tests hold both to the same oracles.

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

// entry4 is one IPv4 prefix of the array in 12 bytes: the length shares
// a word with the parent pointer (pb = (parent+1)<<6 | bits), which
// bounds a family to maxEnts4 distinct prefixes; a larger one is indexed
// in the wide entries of sortedPrefixes instead (newIndex decides).
type entry4 struct {
	addr  uint32
	pb    uint32
	start uint32 // the entry's VRPs are members[start:next entry's start]
}

// maxEnts4 is how many IPv4 prefixes the 12-byte entries can number
// (parent+1 in 26 bits). A variable so that a test can lower it.
var maxEnts4 = 1<<26 - 1

func (e *entry4) key() key4 { return key4{addr: e.addr, bits: uint8(e.pb & 63)} }

// parent is the nearest strictly covering entry, or -1.
func (e *entry4) parent() int32 { return int32(e.pb>>6) - 1 }

// contains reports whether e's prefix contains or equals k.
func (e *entry4) contains(k key4) bool {
	b := uint8(e.pb & 63)
	return b <= k.bits && (k.addr^e.addr)&mask4(b) == 0
}

// sortedPrefixes4 is sortedPrefixes for IPv4 (see there).
type sortedPrefixes4 struct {
	ents []entry4
	n    int
	members
	jump  []uint32
	jbits uint8
}

// build4 makes the IPv4 array from idx, whose VRPs walk visits in
// prefixOrder with their keys; it is whole only when the walk ends with
// walkDone. distinct bounds the number of distinct prefixes (it sizes the
// array) and is at most maxEnts4.
func build4(idx []uint32, distinct int, walk prefixWalk) (sortedPrefixes4, walkResult) {
	s := sortedPrefixes4{ents: make([]entry4, 0, distinct+1)}
	var stack []int32
	r := walk(func(k pfxkey.Key, j int) {
		kk := key4Of(k)
		if len(s.ents) > 0 && kk == s.ents[len(s.ents)-1].key() {
			return
		}
		e := int32(len(s.ents))
		for len(stack) > 0 && !s.ents[stack[len(stack)-1]].contains(kk) {
			stack = stack[:len(stack)-1]
		}
		p := int32(-1)
		if len(stack) > 0 {
			p = stack[len(stack)-1]
		}
		s.ents = append(s.ents, entry4{addr: kk.addr, pb: uint32(p+1)<<6 | uint32(kk.bits), start: uint32(j)})
		stack = append(stack, e)
	})
	if r != walkDone {
		return s, r
	}
	s.n = len(s.ents)
	s.ents = append(s.ents, entry4{start: uint32(len(idx))})
	s.members = membersOf(idx)
	if s.n < minJump {
		return s, walkDone
	}
	s.jbits = jumpBits(s.n)
	s.jump = fillJump(s.n, s.jbits, false, func(j int) uint64 { return uint64(s.ents[j].addr) << 32 })
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
		if !k.less(ents[m].key()) { // ents[m] <= k
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := int32(lo - 1)
	for i >= 0 && !ents[i].contains(k) {
		i = ents[i].parent()
	}
	for i >= 0 {
		dst = s.appendVRPs(dst, ents[i].start, ents[i+1].start)
		i = ents[i].parent()
	}
	return dst
}

// inside is sortedPrefixes.inside for IPv4.
func (s *sortedPrefixes4) inside(k key4, dst []uint32) []uint32 {
	first := key4{addr: k.addr, bits: k.bits + 1}
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ents[m].key().less(first) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < s.n && k.contains(s.ents[i].key()); i++ {
		dst = s.appendVRPs(dst, s.ents[i].start, s.ents[i+1].start)
	}
	return dst
}
