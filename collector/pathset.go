package collector

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/rovimpact/rovimpact/mrt"
)

// pathSet is the set of paths (prefix, path ID; RFC 7911 §3) held from one
// peer, by family, each with a stale mark for graceful restart. Keys are
// packed so that a full table costs a few bytes a path.
//
// A peer starts with maps. Once it holds more than denseAfter IPv4 paths
// (a full table), its IPv4 prefixes of length 0 to 24 without a path ID
// move to bitmaps, one per length, indexed by the prefix's leading bits
// (2^25 bits, 4 MiB, for every length together, allocated per length as
// used): one bit a path instead of a map slot (~25 bytes), and a bit test
// instead of a hash probe into a map of the whole table, which costs a
// cache miss per path. Longer prefixes, path IDs and IPv6 stay in the maps.
// Each path is in one place: the bitmaps or a map.
type pathSet struct {
	v4 map[v4Key]bool
	v6 map[v6Key]bool
	d  *denseV4 // nil until the peer holds denseAfter IPv4 paths
}

// denseAfter is the IPv4 path count past which a peer's short prefixes
// move to bitmaps: 4 MiB of bitmaps is then less than its map.
var denseAfter = 1 << 17 // tests lower it

// denseMaxBits is the longest prefix the bitmaps hold (2^24 bits for /24).
const denseMaxBits = 24

// denseV4 holds IPv4 prefixes of length 0..denseMaxBits, path ID 0: bit i
// of held[l] says prefix i<<(32-l)/l is held, of stale[l] that it is also
// stale (stale is nil while nothing is).
type denseV4 struct {
	held  [denseMaxBits + 1][]uint64
	stale [denseMaxBits + 1][]uint64
	n     int
}

type v4Key struct {
	addr, id uint32
	bits     uint8
}

type v6Key struct {
	hi, lo uint64
	id     uint32
	bits   uint8
}

func keyV4(n mrt.NLRI) v4Key {
	a := n.Prefix.Addr().As4()
	return v4Key{addr: binary.BigEndian.Uint32(a[:]), id: n.PathID, bits: uint8(n.Prefix.Bits())}
}

func keyV6(n mrt.NLRI) v6Key {
	a := n.Prefix.Addr().As16()
	return v6Key{hi: binary.BigEndian.Uint64(a[:8]), lo: binary.BigEndian.Uint64(a[8:]), id: n.PathID, bits: uint8(n.Prefix.Bits())}
}

func (k v4Key) nlri() mrt.NLRI {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], k.addr)
	return mrt.NLRI{Prefix: netip.PrefixFrom(netip.AddrFrom4(a), int(k.bits)), PathID: k.id}
}

func (k v6Key) nlri() mrt.NLRI {
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], k.hi)
	binary.BigEndian.PutUint64(a[8:], k.lo)
	return mrt.NLRI{Prefix: netip.PrefixFrom(netip.AddrFrom16(a), int(k.bits)), PathID: k.id}
}

// dense reports whether k belongs in the bitmaps (when there are any), and
// its bit there.
func (k v4Key) dense() (l uint8, i uint32, ok bool) {
	if k.id != 0 || k.bits > denseMaxBits {
		return 0, 0, false
	}
	if k.bits == 0 {
		return 0, 0, true
	}
	return k.bits, k.addr >> (32 - k.bits), true
}

// set marks bit i of length l held and fresh; it reports whether it was
// held already.
func (d *denseV4) set(l uint8, i uint32) bool {
	if d.held[l] == nil {
		d.held[l] = make([]uint64, (1<<l+63)/64)
	}
	w, b := &d.held[l][i/64], uint64(1)<<(i%64)
	if st := d.stale[l]; st != nil {
		st[i/64] &^= b
	}
	if *w&b != 0 {
		return true
	}
	*w |= b
	d.n++
	return false
}

// clear forgets bit i of length l; it reports whether it was held.
func (d *denseV4) clear(l uint8, i uint32) bool {
	h := d.held[l]
	if h == nil {
		return false
	}
	w, b := &h[i/64], uint64(1)<<(i%64)
	if *w&b == 0 {
		return false
	}
	*w &^= b
	if st := d.stale[l]; st != nil {
		st[i/64] &^= b
	}
	d.n--
	return true
}

// each calls fn with the key of every bit set in bm[l], for every l.
func (d *denseV4) each(bm *[denseMaxBits + 1][]uint64, fn func(l uint8, i uint32, k v4Key)) {
	for l := range bm {
		for wi, w := range bm[l] {
			for w != 0 {
				i := uint32(wi*64 + bits.TrailingZeros64(w))
				w &= w - 1
				k := v4Key{bits: uint8(l)}
				if l > 0 {
					k.addr = i << (32 - l)
				}
				fn(uint8(l), i, k)
			}
		}
	}
}

// densify moves the map's IPv4 keys that belong in bitmaps there.
func (s *pathSet) densify() {
	s.d = &denseV4{}
	for k, st := range s.v4 {
		l, i, ok := k.dense()
		if !ok {
			continue
		}
		s.d.set(l, i)
		if st {
			if s.d.stale[l] == nil {
				s.d.stale[l] = make([]uint64, len(s.d.held[l]))
			}
			s.d.stale[l][i/64] |= 1 << (i % 64)
		}
		delete(s.v4, k)
	}
	// The map kept its size: let a fresh one hold what is left.
	m := make(map[v4Key]bool, len(s.v4))
	for k, v := range s.v4 {
		m[k] = v
	}
	s.v4 = m
}

// add marks n held and fresh; it reports whether n was held already.
func (s *pathSet) add(n mrt.NLRI) bool {
	if n.Prefix.Addr().Is4() {
		k := keyV4(n)
		if s.d != nil {
			if l, i, ok := k.dense(); ok {
				return s.d.set(l, i)
			}
		}
		if s.v4 == nil {
			s.v4 = map[v4Key]bool{}
		}
		_, ok := s.v4[k]
		s.v4[k] = false
		if !ok && s.d == nil && len(s.v4) > denseAfter {
			s.densify()
		}
		return ok
	}
	if s.v6 == nil {
		s.v6 = map[v6Key]bool{}
	}
	k := keyV6(n)
	_, ok := s.v6[k]
	s.v6[k] = false
	return ok
}

// del forgets n; it reports whether n was held.
func (s *pathSet) del(n mrt.NLRI) bool {
	if n.Prefix.Addr().Is4() {
		k := keyV4(n)
		if s.d != nil {
			if l, i, ok := k.dense(); ok {
				return s.d.clear(l, i)
			}
		}
		_, ok := s.v4[k]
		delete(s.v4, k)
		return ok
	}
	k := keyV6(n)
	_, ok := s.v6[k]
	delete(s.v6, k)
	return ok
}

func (s *pathSet) count(f mrt.Family) int {
	if f == mrt.IPv4Unicast {
		n := len(s.v4)
		if s.d != nil {
			n += s.d.n
		}
		return n
	}
	return len(s.v6)
}

func (s *pathSet) len() int { return s.count(mrt.IPv4Unicast) + len(s.v6) }

func (s *pathSet) clear() { s.v4, s.v6, s.d = nil, nil, nil }

func (s *pathSet) markStale(f mrt.Family) {
	if f == mrt.IPv4Unicast {
		for k := range s.v4 {
			s.v4[k] = true
		}
		if s.d != nil {
			for l, h := range s.d.held {
				if h != nil {
					s.d.stale[l] = append(s.d.stale[l][:0], h...)
				}
			}
		}
		return
	}
	for k := range s.v6 {
		s.v6[k] = true
	}
}

// sweep removes the stale paths of f, calling fn for each; it returns how
// many went.
func (s *pathSet) sweep(f mrt.Family, fn func(mrt.NLRI)) int {
	n := 0
	if f == mrt.IPv4Unicast {
		for k, stale := range s.v4 {
			if stale {
				delete(s.v4, k)
				fn(k.nlri())
				n++
			}
		}
		if d := s.d; d != nil {
			d.each(&d.stale, func(l uint8, i uint32, k v4Key) {
				d.held[l][i/64] &^= 1 << (i % 64)
				d.n--
				fn(k.nlri())
				n++
			})
			d.stale = [denseMaxBits + 1][]uint64{}
		}
		return n
	}
	for k, stale := range s.v6 {
		if stale {
			delete(s.v6, k)
			fn(k.nlri())
			n++
		}
	}
	return n
}

// drain removes every path of f, calling fn for each.
func (s *pathSet) drain(f mrt.Family, fn func(mrt.NLRI)) {
	if f == mrt.IPv4Unicast {
		for k := range s.v4 {
			fn(k.nlri())
		}
		if d := s.d; d != nil {
			d.each(&d.held, func(_ uint8, _ uint32, k v4Key) { fn(k.nlri()) })
		}
		s.v4, s.d = nil, nil
		return
	}
	for k := range s.v6 {
		fn(k.nlri())
	}
	s.v6 = nil
}
