package classify

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Impact is what becomes of an invalid route's traffic once ROV drops
// invalid routes. The values are decided in this order (first match wins).
type Impact uint8

const (
	ImpactNone Impact = iota // the route is not dropped
	// SamePrefix: the same prefix keeps a path that is not dropped (another
	// origin, or the same origin seen differently).
	SamePrefix
	// Covered: a strictly less-specific prefix that survives ROV covers it;
	// the most specific such prefix is reported.
	Covered
	// MoreSpecifics: surviving more-specific routes cover all of it.
	MoreSpecifics
	// Unreachable: none of the above; (part of) the space is lost.
	Unreachable
)

// Impacts lists the impacts in report order.
var Impacts = []Impact{SamePrefix, Covered, MoreSpecifics, Unreachable}

var impactNames = [...]string{"", "same_prefix", "covered", "more_specifics", "unreachable"}

func (i Impact) String() string {
	if int(i) < len(impactNames) {
		return impactNames[i]
	}
	return fmt.Sprintf("impact(%d)", i)
}

// MarshalText writes the stable snake_case name ("" for ImpactNone).
func (i Impact) MarshalText() ([]byte, error) {
	if int(i) >= len(impactNames) {
		return nil, fmt.Errorf("classify: cannot marshal unknown impact %d", uint8(i))
	}
	return []byte(i.String()), nil
}

// UnmarshalText reads a String name back (see ParseImpact).
func (i *Impact) UnmarshalText(b []byte) error {
	v, err := ParseImpact(string(b))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// ParseImpact parses a String name; "" is ImpactNone.
func ParseImpact(s string) (Impact, error) {
	for i, n := range impactNames {
		if s == n {
			return Impact(i), nil
		}
	}
	return ImpactNone, fmt.Errorf("classify: unknown impact %q (want same_prefix, covered, more_specifics or unreachable)", s)
}

// Severity orders impacts from harmless to worst (ImpactNone 0 <
// SamePrefix < Covered < MoreSpecifics < Unreachable): the order reports
// list dropped routes in, worst first.
func (i Impact) Severity() int { return int(i) }

// ASSetPolicy says what ROV does with a route whose origin is NONE because
// its AS_PATH ends in an AS_SET. Routers disagree, so the policy is explicit:
//   - ASSetInvalid (default): RFC 6811 §2 — NONE matches no VRP, so the route
//     is Invalid when covered and dropped; NotFound and kept when not covered
//     (also OpenBGPD).
//   - ASSetNotFound: treated as NotFound and kept (older GoBGP releases).
//   - ASSetWithdraw: RFC 9774 deprecates AS_SET; such UPDATEs are treated as
//     withdraw, so the route is dropped whether or not a VRP covers it.
type ASSetPolicy uint8

const (
	ASSetInvalid ASSetPolicy = iota
	ASSetNotFound
	ASSetWithdraw
)

var asSetPolicyNames = [...]string{"invalid", "notfound", "withdraw"}

func (p ASSetPolicy) String() string {
	if int(p) < len(asSetPolicyNames) {
		return asSetPolicyNames[p]
	}
	return fmt.Sprintf("as_set_policy(%d)", p)
}

// ParseASSetPolicy parses "invalid", "notfound" or "withdraw".
func ParseASSetPolicy(s string) (ASSetPolicy, error) {
	for i, n := range asSetPolicyNames {
		if s == n {
			return ASSetPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown AS_SET policy %q (want invalid, notfound or withdraw)", s)
}

// Dropped reports whether a router doing ROV under policy drops a route in
// state s with origin o.
func Dropped(s rov.State, o rov.Origin, policy ASSetPolicy) bool {
	if o.Kind == rov.OriginNone {
		switch policy {
		case ASSetNotFound:
			return false
		case ASSetWithdraw:
			return true
		}
	}
	return s == rov.Invalid
}

// Entry is one route as the impact analysis sees it.
type Entry struct {
	Prefix  netip.Prefix
	State   rov.State
	Dropped bool
}

// ImpactOptions tune what counts as still reachable.
type ImpactOptions struct {
	// CountDefault lets a default route (0.0.0.0/0, ::/0) count as a cover.
	// Off by default: almost everything is "covered" by a default route, which
	// says nothing about whether the destination is still reachable.
	CountDefault bool
}

// Coverage answers, for each dropped route, what still carries its traffic.
// It is built once over all entries and then read-only (safe for concurrent
// use). A view (a predicate over entry indexes) restricts the question to
// the routes one router would have, e.g. those from one peer.
//
// Per entry it keeps the index of its prefix (4 bytes) and whether it is
// dropped (1 byte), not the Entry itself (40 bytes, a pointer inside the
// netip.Prefix for the GC to scan): a full table's snapshot holds one
// Coverage for as long as watch serves it.
//
// The distinct prefixes, sorted (family, address, length), are kept as
// integer keys: an IPv4 prefix in 8 bytes (address << 32 | length, so
// that the keys sort as plain integers), an IPv6 one as a pfxkey.Key (24
// bytes). A netip.Prefix is 32 bytes with a pointer, and its comparison
// is what a Coverage does most (a binary search for every length above
// every dropped route).
type Coverage struct {
	at      []int32 // entry i's prefix is prefix(at[i])
	dropped []bool  // entry i is dropped
	opt     ImpactOptions
	v4      []uint64       // the IPv4 prefixes: prefix(i) for i < len(v4)
	v6      []pfxkey.Key   // then the IPv6 ones
	other   []netip.Prefix // instead of v4 and v6 when an entry's prefix is invalid (never in a table)
	start   []int32        // prefix(i)'s entries are members[start[i]:start[i+1]]
	members []int32        // entry indexes grouped by prefix
	lengths [2][]int       // distinct prefix lengths per family, longest first
}

// NewCoverage indexes entries by prefix. Entries already in prefix order
// (tables from live/, snapshot/ and from update files, whose routes are)
// are detected with one linear pass and not sorted; others are sorted by
// packed keys. Either way members end up in (prefix, entry index) order,
// so the entries at a prefix come out in the same order every time.
// Cost: that pass or sort, one pass counting the distinct prefixes and one
// filling exactly sized arrays.
func NewCoverage(entries []Entry, opt ImpactOptions) *Coverage {
	return newCoverage(len(entries), func(i int) netip.Prefix { return entries[i].Prefix },
		func(i int) bool { return entries[i].Dropped }, func(m []int32) { sortMembers(entries, m) }, opt)
}

// tableCoverage is NewCoverage of a table's routes, entry i being route
// i, dropped when dropped(i).
func tableCoverage(routes []table.Route, dropped func(i int) bool, opt ImpactOptions) *Coverage {
	return CoverageOf(len(routes), func(i int) netip.Prefix { return routes[i].Prefix }, dropped, opt)
}

// CoverageOf is NewCoverage of n entries given as functions: entry i has
// prefix(i) and is dropped when dropped(i). Entries in prefix order (a
// snapshot's table, the live table's routes walked in prefix order) need
// no Entry list, 40 bytes an entry, made and dropped at every build;
// others are sorted through one.
func CoverageOf(n int, prefix func(i int) netip.Prefix, dropped func(i int) bool, opt ImpactOptions) *Coverage {
	return newCoverage(n, prefix, dropped, func(m []int32) {
		entries := make([]Entry, n)
		for i := range entries {
			entries[i].Prefix = prefix(i)
		}
		sortMembers(entries, m)
	}, opt)
}

// newCoverage builds the Coverage of n entries, entry i having prefix(i)
// and being dropped when dropped(i); sortInto fills members when the
// entries are not in prefix order.
func newCoverage(n int, prefix func(i int) netip.Prefix, dropped func(i int) bool, sortInto func(members []int32), opt ImpactOptions) *Coverage {
	c := &Coverage{opt: opt, at: make([]int32, n), dropped: make([]bool, n)}
	c.members = make([]int32, n)
	if prefixOrdered(n, prefix) {
		for i := range c.members {
			c.members[i] = int32(i)
		}
	} else {
		sortInto(c.members)
	}
	return c.index(prefix, dropped)
}

// index fills c's prefixes, runs and lengths from its members.
func (c *Coverage) index(prefix func(i int) netip.Prefix, dropped func(i int) bool) *Coverage {
	n, n4, keyed := 0, 0, true
	for i, m := range c.members {
		if p := prefix(int(m)); i == 0 || p != prefix(int(c.members[i-1])) {
			n++
			if p.Addr().Is4() {
				n4++
			}
			keyed = keyed && p.IsValid()
		}
	}
	if keyed {
		c.v4, c.v6 = make([]uint64, 0, n4), make([]pfxkey.Key, 0, n-n4)
	} else {
		c.other = make([]netip.Prefix, 0, n)
	}
	c.start = make([]int32, 0, n+1)
	var seenLen [2][129]bool
	var last netip.Prefix
	for i, e := range c.members {
		p := prefix(int(e))
		c.dropped[e] = dropped(int(e))
		if i > 0 && last == p {
			c.at[e] = int32(len(c.start) - 1)
			continue
		}
		last = p
		c.at[e] = int32(len(c.start))
		switch {
		case !keyed:
			c.other = append(c.other, p)
		case p.Addr().Is4():
			c.v4 = append(c.v4, v4Key(p))
		default:
			c.v6 = append(c.v6, pfxkey.Of(p))
		}
		c.start = append(c.start, int32(i))
		if p.IsValid() { // a zero Prefix (never made by a table) has no length
			seenLen[family(p)][p.Bits()] = true
		}
	}
	c.start = append(c.start, int32(len(c.members)))
	for f := range seenLen {
		for l := 128; l >= 0; l-- {
			if seenLen[f][l] {
				c.lengths[f] = append(c.lengths[f], l)
			}
		}
	}
	return c
}

// prefixOrdered reports whether prefix(0..n-1) are in rov.ComparePrefix
// order.
func prefixOrdered(n int, prefix func(i int) netip.Prefix) bool {
	for i := 1; i < n; i++ {
		if rov.ComparePrefix(prefix(i-1), prefix(i)) > 0 {
			return false
		}
	}
	return true
}

// sortMembers fills members with the entry indexes in (prefix, index)
// order. Each entry becomes integer keys that compare as rov.ComparePrefix
// then the index do (family, address, length, index): an IPv4 entry one
// word (address, length, index), sorted as plain integers, an IPv6 entry
// three; IPv4 entries precede IPv6 ones. On a shuffled full table this is
// ~2x faster than comparing netip.Prefix values.
func sortMembers(entries []Entry, members []int32) {
	const v4IndexBits = 26
	if len(entries) >= 1<<v4IndexBits || slices.ContainsFunc(entries, func(e Entry) bool { return !e.Prefix.IsValid() }) {
		// Not packable (and never made by a table): compare the values.
		for i := range members {
			members[i] = int32(i)
		}
		slices.SortFunc(members, func(a, b int32) int {
			if c := rov.ComparePrefix(entries[a].Prefix, entries[b].Prefix); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		return
	}
	n4 := 0
	for _, e := range entries {
		if e.Prefix.Addr().Is4() {
			n4++
		}
	}
	v4 := make([]uint64, 0, n4)
	v6 := make([][3]uint64, 0, len(entries)-n4)
	for i, e := range entries {
		a := e.Prefix.Addr()
		if a.Is4() {
			a4 := a.As4()
			v4 = append(v4, uint64(binary.BigEndian.Uint32(a4[:]))<<32|uint64(e.Prefix.Bits())<<v4IndexBits|uint64(i))
			continue
		}
		a16 := a.As16()
		hi, lo := binary.BigEndian.Uint64(a16[:8]), binary.BigEndian.Uint64(a16[8:])
		v6 = append(v6, [3]uint64{hi, lo, uint64(e.Prefix.Bits())<<32 | uint64(i)})
	}
	slices.Sort(v4)
	slices.SortFunc(v6, func(a, b [3]uint64) int {
		for j := range a {
			if a[j] != b[j] {
				if a[j] < b[j] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	for i, k := range v4 {
		members[i] = int32(k & (1<<v4IndexBits - 1))
	}
	for i, k := range v6 {
		members[len(v4)+i] = int32(uint32(k[2]))
	}
}

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

// Assessment is the impact verdict for one dropped route.
type Assessment struct {
	Impact Impact
	// Cover is the prefix that still carries the traffic: the route's own
	// prefix for SamePrefix, the covering prefix for Covered; invalid
	// otherwise.
	Cover netip.Prefix
	// CoverEntries are the surviving entries at Cover (indexes into the
	// entries given to NewCoverage).
	CoverEntries []int32
	// CoveredShare is the share (0..1) of the prefix's address space covered
	// by surviving more-specific routes; exactly 1 for MoreSpecifics.
	CoveredShare float64
}

// Assess returns the impact for entry i within view (nil: every entry).
// Entries that are not dropped get ImpactNone.
func (c *Coverage) Assess(i int, view func(entry int) bool) Assessment {
	if !c.dropped[i] {
		return Assessment{}
	}
	pi := int(c.at[i])
	p := c.prefix(pi)
	if surv := c.survivorsAt(pi, view, nil); len(surv) > 0 {
		return Assessment{Impact: SamePrefix, Cover: p, CoverEntries: surv}
	}
	f := family(p)
	for _, l := range c.lengths[f] {
		if l >= p.Bits() || (l == 0 && !c.opt.CountDefault) {
			continue
		}
		sup := netip.PrefixFrom(p.Addr(), l).Masked()
		if surv := c.survivors(sup, view, nil); len(surv) > 0 {
			return Assessment{Impact: Covered, Cover: sup, CoverEntries: surv}
		}
	}
	full, share := c.moreSpecifics(pi, view)
	if full {
		return Assessment{Impact: MoreSpecifics, CoveredShare: 1}
	}
	return Assessment{Impact: Unreachable, CoveredShare: share}
}

// survivors appends to dst the entries at exactly p that are in view and
// not dropped.
func (c *Coverage) survivors(p netip.Prefix, view func(int) bool, dst []int32) []int32 {
	pi, ok := c.find(p)
	if !ok {
		return dst
	}
	return c.survivorsAt(pi, view, dst)
}

// survivorsAt is survivors of prefix(pi).
func (c *Coverage) survivorsAt(pi int, view func(int) bool, dst []int32) []int32 {
	for _, m := range c.members[c.start[pi]:c.start[pi+1]] {
		if !c.dropped[m] && (view == nil || view(int(m))) {
			dst = append(dst, m)
		}
	}
	return dst
}

// moreSpecifics reports whether surviving strict more-specifics of p =
// prefix(i) cover all of p, and the share of p they cover. Coverage is
// decided exactly by merging address ranges; the share is a float for
// display.
func (c *Coverage) moreSpecifics(i int, view func(int) bool) (full bool, share float64) {
	p := c.prefix(i)
	next := p.Addr() // first address not yet known to be covered
	contiguous, done := true, false
	var buf [8]int32
	for n := c.numPrefixes(); i < n; i++ {
		q := c.prefix(i)
		if !p.Contains(q.Addr()) {
			break
		}
		if q.Bits() <= p.Bits() || len(c.survivorsAt(i, view, buf[:0])) == 0 {
			continue
		}
		if done || q.Addr().Less(next) {
			continue // inside a range already counted
		}
		if q.Addr() != next {
			contiguous = false
		}
		share += math.Ldexp(1, p.Bits()-q.Bits())
		last := lastAddr(q)
		if last == lastAddr(p) {
			done = true
			continue
		}
		next = last.Next()
	}
	return contiguous && done, min(share, 1)
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for b := p.Bits(); b < len(a)*8; b++ {
		a[b/8] |= 0x80 >> (b % 8)
	}
	last, _ := netip.AddrFromSlice(a)
	return last
}

// find returns the index of p among the distinct prefixes (where it
// would be, in rov.ComparePrefix order, when absent).
func (c *Coverage) find(p netip.Prefix) (int, bool) {
	switch {
	case c.other != nil:
		return slices.BinarySearchFunc(c.other, p, rov.ComparePrefix)
	case !p.IsValid():
		return 0, false // an invalid prefix sorts first, and none is held
	case p.Addr().Is4():
		return slices.BinarySearch(c.v4, v4Key(p))
	}
	i, ok := slices.BinarySearchFunc(c.v6, pfxkey.Of(p), pfxkey.Key.Compare)
	return len(c.v4) + i, ok
}

// v4Key is the Coverage key of IPv4 prefix p: address << 32 | length.
func v4Key(p netip.Prefix) uint64 {
	a := p.Addr().As4()
	return uint64(binary.BigEndian.Uint32(a[:]))<<32 | uint64(p.Bits())
}

// prefix returns the i-th distinct prefix.
func (c *Coverage) prefix(i int) netip.Prefix {
	switch {
	case c.other != nil:
		return c.other[i]
	case i < len(c.v4):
		k := c.v4[i]
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(k>>32))
		return netip.PrefixFrom(netip.AddrFrom4(a), int(uint8(k)))
	}
	return c.v6[i-len(c.v4)].Prefix()
}

// numPrefixes is the number of distinct prefixes.
func (c *Coverage) numPrefixes() int { return len(c.start) - 1 }

// At returns the entries with exactly prefix p.
func (c *Coverage) At(p netip.Prefix) []int32 {
	i, ok := c.find(p)
	if !ok {
		return nil
	}
	return c.members[c.start[i]:c.start[i+1]]
}

// Supernets appends the entries whose prefix strictly contains p, most
// specific first.
func (c *Coverage) Supernets(p netip.Prefix, dst []int32) []int32 {
	for _, l := range c.lengths[family(p)] {
		if l >= p.Bits() {
			continue
		}
		dst = append(dst, c.At(netip.PrefixFrom(p.Addr(), l).Masked())...)
	}
	return dst
}

// Subnets appends the entries whose prefix is strictly inside p, in prefix
// order.
func (c *Coverage) Subnets(p netip.Prefix, dst []int32) []int32 {
	i, _ := c.find(p)
	for n := c.numPrefixes(); i < n; i++ {
		q := c.prefix(i)
		if !p.Contains(q.Addr()) {
			break
		}
		if q.Bits() > p.Bits() {
			dst = append(dst, c.members[c.start[i]:c.start[i+1]]...)
		}
	}
	return dst
}
