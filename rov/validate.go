package rov

import (
	"fmt"
	"net/netip"
)

// State is the outcome of Route Origin Validation (RFC 6811 §2). The zero
// value is NotFound.
type State uint8

const (
	// NotFound: no VRP covers the route.
	NotFound State = iota
	// Valid: a covering VRP has the route's origin AS and a maxLength at
	// least the route's length.
	Valid
	// Invalid: VRPs cover the route, but none matches it.
	Invalid
)

var stateNames = [...]string{"not_found", "valid", "invalid"}

// String returns the stable snake_case name used in every output format.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText writes the String name, so JSON carries "invalid", not 2.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("rov: cannot marshal unknown state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a String name back.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if string(b) == n {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("rov: unknown state %q (want not_found, valid or invalid)", b)
}

// Result is a validation outcome together with the VRPs that decided it.
type Result struct {
	State State
	// VRPs are indexes into Index.VRPs(): for Valid the matching VRPs, for
	// Invalid every covering VRP, for NotFound none. The slice aliases the
	// buffer given to Validate and is overwritten by the next call using
	// it.
	VRPs []uint32
}

// Validate decides the RFC 6811 §2 state of route p originated by o:
//
//	"Covered: A Route Prefix is said to be Covered by a VRP when the VRP
//	prefix length is less than or equal to the Route prefix length, and the
//	address space covered by the VRP prefix includes all the addresses
//	covered by the Route prefix."
//	"Matched: A Route Prefix is said to be Matched by a VRP when the Route
//	prefix is Covered by that VRP, the Route prefix length is less than or
//	equal to the VRP maximum length, and the Route Origin ASN is equal to
//	the VRP ASN."
//	NotFound: no VRP covers the route; Valid: at least one VRP matches it;
//	Invalid: at least one VRP covers it and none matches.
//
// An origin of kind OriginNone (the AS_PATH ends in an AS_SET) matches no
// VRP ("NONE ... cannot be matched by any VRP"), so a covered such route is
// Invalid. A VRP with ASN 0 matches no route (RFC 6483 §4, RFC 7607), even
// one whose origin is AS 0.
//
// OriginLocal must be resolved by the caller (Origin.WithLocalAS) first; an
// origin still OriginLocal is unknown and Validate treats it like NONE, which
// is only a guess: callers must report such routes separately as not
// validated rather than trust the state.
//
// buf is the scratch space for the result (its contents are discarded);
// Validate does not allocate when buf has room for every covering VRP.
func (ix *Index) Validate(p netip.Prefix, o Origin, buf []uint32) Result {
	c := ix.Covering(p, buf[:0])
	if len(c) == 0 {
		return Result{State: NotFound, VRPs: c}
	}
	if o.Kind != OriginAS || o.ASN == 0 {
		return Result{State: Invalid, VRPs: c}
	}
	bits := uint8(p.Bits())
	// The representation is chosen once, outside the loops (see table).
	var n int
	if ps := ix.t.packed; ps != nil {
		n = matching(c, func(i uint32) bool { v := &ps[i]; return v.ASN == o.ASN && bits <= v.MaxLen })
	} else {
		vrps := ix.t.vrps
		n = matching(c, func(i uint32) bool { v := &vrps[i]; return v.ASN == o.ASN && bits <= v.MaxLen })
	}
	if n == 0 {
		return Result{State: Invalid, VRPs: c}
	}
	return Result{State: Valid, VRPs: c[:n]}
}

// matching moves the VRPs of c that match to the front of c, keeping
// their order, and returns how many there are; c is left as it was when
// none does (a write only ever goes to a position already read). It is
// small enough to be inlined with its argument, so match costs no call.
func matching(c []uint32, match func(uint32) bool) int {
	n := 0
	for _, i := range c {
		if match(i) {
			c[n] = i
			n++
		}
	}
	return n
}
