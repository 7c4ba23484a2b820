package rov

import (
	"cmp"
	"net/netip"
	"slices"
)

// vrpCompare orders VRPs canonically: address family (IPv4 first), then
// prefix address ascending, then longer prefix first, larger MaxLen first,
// then ASN ascending. TA is not part of the order.
//
// This is the order rpki-client writes its JSON export in, so the common
// input is already sorted and dedup costs one linear pass instead of a sort
// of 700k entries.
func vrpCompare(a, b VRP) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(b.MaxLen, a.MaxLen); c != 0 {
		return c
	}
	return cmp.Compare(a.ASN, b.ASN)
}

// vrpSameKey reports whether a and b are the same VRP for validation
// purposes (Prefix, MaxLen, ASN); TA does not matter to RFC 6811.
func vrpSameKey(a, b VRP) bool {
	return a.Prefix == b.Prefix && a.MaxLen == b.MaxLen && a.ASN == b.ASN
}

// dedupVRPs sorts vrps in place into the canonical order (stably, so of
// several equal VRPs the first one's TA survives) and removes duplicates.
// It returns the shortened slice and the number of duplicates removed.
// Already sorted input (rpki-client exports) costs one linear pass.
func dedupVRPs(vrps []VRP) ([]VRP, int) {
	if !slices.IsSortedFunc(vrps, vrpCompare) {
		slices.SortStableFunc(vrps, vrpCompare)
	}
	if len(vrps) == 0 {
		return vrps, 0
	}
	// Up to the first duplicate every VRP stays where it is: skip the
	// copies (each one a write barrier on the TA string while the GC runs).
	w := 1
	for w < len(vrps) && !vrpSameKey(vrps[w], vrps[w-1]) {
		w++
	}
	for i := w + 1; i < len(vrps); i++ {
		if vrpSameKey(vrps[i], vrps[w-1]) {
			continue
		}
		vrps[w] = vrps[i]
		w++
	}
	n := len(vrps) - w
	clear(vrps[w:]) // drop TA string references beyond the new length
	return vrps[:w], n
}

// CanonicalOrder is the canonical VRP order (see vrpCompare) for packages
// that keep VRP sets sorted and merge them linearly, as the live table does.
func CanonicalOrder(a, b VRP) int { return vrpCompare(a, b) }

// ComparePrefix is the one prefix order: IPv4 before IPv6, then by
// address, then shorter first, so that a prefix's more-specifics follow it
// contiguously. Reports, the impact cover search (classify) and history
// sort prefixes by it.
func ComparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c // netip orders IPv4 before IPv6
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// CompareVRP is the reading order of VRPs: ComparePrefix (a covering VRP
// before those inside it), then MaxLen, ASN and TA, all ascending. Reports
// list VRPs in it, and the RTR client and cache union return their sets in
// it. It differs from CanonicalOrder, which puts longer prefixes and
// larger MaxLens first because rpki-client exports in that order and
// deduplicating its output then costs one pass instead of a sort; the
// output of the reports is pinned in this order, so both are kept, here,
// side by side.
func CompareVRP(a, b VRP) int {
	if c := ComparePrefix(a.Prefix, b.Prefix); c != 0 {
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

// Canonicalize sorts vrps in place into the canonical order and removes
// duplicates (same Prefix, MaxLen and ASN; the first one's TA is kept),
// returning the shortened slice: what MergeVRPs does, without a copy.
func Canonicalize(vrps []VRP) []VRP {
	out, _ := dedupVRPs(vrps)
	return out
}

// MergeVRPs returns the union of sets with duplicates (same Prefix, MaxLen
// and ASN) removed, keeping the TA of the first occurrence in argument
// order. The result is a new slice in the canonical order (address
// ascending, longer prefix first, larger MaxLen first, ASN ascending), so
// the same inputs always give the same output. The inputs are not modified.
// Cost: O(n log n) for n total VRPs.
func MergeVRPs(sets ...[]VRP) []VRP {
	n := 0
	for _, s := range sets {
		n += len(s)
	}
	out := make([]VRP, 0, n)
	for _, s := range sets {
		out = append(out, s...)
	}
	out, _ = dedupVRPs(out)
	return out
}
