package rov

import "github.com/rovimpact/rovimpact/internal/pfxkey"

// The IPv6 half of the index keeps its prefixes in 24-byte entries: the
// address, the length beside the parent pointer, the start of the entry's
// VRPs; an entry with a whole pfxkey.Key takes 32 (its ID and family are
// padding here). That is 1 MB less for the 129k IPv6 prefixes of a full
// export, and fewer cache lines a covering lookup reads. A family with
// more prefixes than the entries can number (maxEnts6) is indexed in the
// wide entries instead (Index.w6). The differential tests hold both to the
// same oracles.

// entry6 is one IPv6 prefix of the array: pb = (parent+1)<<8 | bits.
type entry6 struct {
	hi, lo uint64
	pb     uint32
	start  uint32 // the entry's VRPs are members[start:next entry's start]
}

// maxEnts6 is how many IPv6 prefixes the 24-byte entries can number
// (parent+1 in 24 bits). A variable so that a test can lower it.
var maxEnts6 = 1<<24 - 1

func (e *entry6) key() pfxkey.Key {
	return pfxkey.Key{Hi: e.hi, Lo: e.lo, Bits: uint8(e.pb), Fam: pfxkey.Fam6}
}

// parent is the nearest strictly covering entry, or -1.
func (e *entry6) parent() int32 { return int32(e.pb>>8) - 1 }

// sortedPrefixes6 is sortedPrefixes for IPv6 (see there).
type sortedPrefixes6 struct {
	ents []entry6
	n    int
	members
	jump  []uint32
	jbits uint8
}

// build6 makes the IPv6 array from idx, whose VRPs walk visits in
// prefixOrder; it is whole only when the walk ends with walkDone.
// distinct bounds the number of distinct prefixes (it sizes the array) and
// is at most maxEnts6.
func build6(idx []uint32, distinct int, walk prefixWalk) (sortedPrefixes6, walkResult) {
	s := sortedPrefixes6{ents: make([]entry6, 0, distinct+1)}
	var stack []int32
	r := walk(func(k pfxkey.Key, j int) {
		if len(s.ents) > 0 && k == s.ents[len(s.ents)-1].key() {
			return
		}
		e := int32(len(s.ents))
		for len(stack) > 0 && !s.ents[stack[len(stack)-1]].key().Contains(k) {
			stack = stack[:len(stack)-1]
		}
		p := int32(-1)
		if len(stack) > 0 {
			p = stack[len(stack)-1]
		}
		s.ents = append(s.ents, entry6{hi: k.Hi, lo: k.Lo, pb: uint32(p+1)<<8 | uint32(k.Bits), start: uint32(j)})
		stack = append(stack, e)
	})
	if r != walkDone {
		return s, r
	}
	s.n = len(s.ents)
	s.ents = append(s.ents, entry6{start: uint32(len(idx))})
	s.members = membersOf(idx)
	if s.n >= minJump {
		s.jbits = jumpBits(s.n)
		s.jump = fillJump(s.n, s.jbits, true, func(j int) uint64 { return s.ents[j].hi })
	}
	return s, walkDone
}

// covering is sortedPrefixes.covering for IPv6.
func (s *sortedPrefixes6) covering(k pfxkey.Key, dst []uint32) []uint32 {
	ents := s.ents
	lo, hi := 0, s.n
	if b, ok := bucketOf(k, true, s.jbits); ok && s.jump != nil {
		lo, hi = int(s.jump[b]), int(s.jump[b+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ents[m].key().Compare(k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := int32(lo - 1)
	for i >= 0 && !ents[i].key().Contains(k) {
		i = ents[i].parent()
	}
	for i >= 0 {
		dst = s.appendVRPs(dst, ents[i].start, ents[i+1].start)
		i = ents[i].parent()
	}
	return dst
}

// inside is sortedPrefixes.inside for IPv6.
func (s *sortedPrefixes6) inside(k pfxkey.Key, dst []uint32) []uint32 {
	first := k
	first.Bits++
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ents[m].key().Compare(first) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < s.n && k.Contains(s.ents[i].key()); i++ {
		dst = s.appendVRPs(dst, s.ents[i].start, s.ents[i+1].start)
	}
	return dst
}
