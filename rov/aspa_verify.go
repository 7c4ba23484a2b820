package rov

// ASPA-based AS_PATH verification, as draft-ietf-sidrops-aspa-verification
// defines it. Citations are to revision 27 (20 July 2026), the text read
// for this file; section numbers are that revision's (revision 28 moves the
// prerequisite checks into a §5.1 of their own and shifts the rest by one,
// without changing the procedure). Each branch below quotes the sentence
// that decides it.

import (
	"fmt"
	"slices"
)

// ASPAState is the outcome of ASPA-based AS_PATH verification. The zero
// value, ASPAUnverified, means the procedure was not applied (see
// ASPAReasonConfed); it is never a verdict of the draft.
type ASPAState uint8

const (
	// ASPAUnverified: not verified (a path the draft's procedures do not
	// cover); reported apart, never dropped.
	ASPAUnverified ASPAState = iota
	// ASPAValid: "the combined length of the up-ramp and down-ramp ... is
	// equal to or greater than N" even with every unattested hop taken as
	// not a provider hop (§5.1, §5.3).
	ASPAValid
	// ASPAUnknown: the ramps meet only if unattested hops are provider
	// hops: "enough information is not available to perform full AS_PATH
	// verification" (§5.3). §5.6: "treated at the same preference level as
	// a route evaluated as Valid".
	ASPAUnknown
	// ASPAInvalid: a structural check failed (empty path, first AS not the
	// neighbour, AS_SET) or the ramps cannot meet (§5.4, §5.5). §5.6: the
	// route "SHOULD be considered ineligible for route selection".
	ASPAInvalid
)

var aspaStateNames = [...]string{"unverified", "valid", "unknown", "invalid"}

// String returns the stable snake_case name.
func (s ASPAState) String() string {
	if int(s) < len(aspaStateNames) {
		return aspaStateNames[s]
	}
	return fmt.Sprintf("aspa_state(%d)", uint8(s))
}

// MarshalText writes the String name.
func (s ASPAState) MarshalText() ([]byte, error) {
	if int(s) >= len(aspaStateNames) {
		return nil, fmt.Errorf("rov: cannot marshal unknown ASPA state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a String name back.
func (s *ASPAState) UnmarshalText(b []byte) error {
	for i, n := range aspaStateNames {
		if string(b) == n {
			*s = ASPAState(i)
			return nil
		}
	}
	return fmt.Errorf("rov: unknown ASPA state %q (want valid, unknown, invalid or unverified)", b)
}

// ASPAReason says which step of the procedure decided an Invalid or
// Unverified outcome (ASPAReasonNone for Valid and Unknown).
type ASPAReason uint8

const (
	ASPAReasonNone ASPAReason = iota
	// ASPAReasonEmpty: step 1, "If the AS_PATH is empty".
	ASPAReasonEmpty
	// ASPAReasonFirstAS: step 2, the most recently added AS is not the
	// neighbour AS.
	ASPAReasonFirstAS
	// ASPAReasonASSet: step 3, "If the AS_PATH has an AS_SET".
	ASPAReasonASSet
	// ASPAReasonRamps: steps 4, the ramps cannot meet: some hop is "Not
	// Provider+" (Result.Up, and Result.Down for downstream paths).
	ASPAReasonRamps
	// ASPAReasonConfed: the path holds an AS_CONFED_SEQUENCE segment: it
	// was received inside a confederation, where the procedures are "NOT
	// RECOMMENDED" (§6.2) and ASPAs name the confederation's global ASN
	// (§4), not its members. Unverified, not guessed.
	ASPAReasonConfed
	// ASPAReasonLocal: an empty AS_PATH on an iBGP session (RoleIBGP): the
	// network's own route, which no ingress router verified. Unverified.
	ASPAReasonLocal
)

var aspaReasonNames = [...]string{"", "empty_path", "first_as", "as_set", "not_provider", "confed", "local_route"}

// String returns the stable snake_case name ("" for none).
func (r ASPAReason) String() string {
	if int(r) < len(aspaReasonNames) {
		return aspaReasonNames[r]
	}
	return fmt.Sprintf("aspa_reason(%d)", uint8(r))
}

// MarshalText writes the String name.
func (r ASPAReason) MarshalText() ([]byte, error) {
	if int(r) >= len(aspaReasonNames) {
		return nil, fmt.Errorf("rov: cannot marshal unknown ASPA reason %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a String name back ("" is none), so that stored
// reports (history, diff of report files) read their ASPA paths back.
func (r *ASPAReason) UnmarshalText(b []byte) error {
	for i, n := range aspaReasonNames {
		if string(b) == n {
			*r = ASPAReason(i)
			return nil
		}
	}
	return fmt.Errorf("rov: unknown ASPA reason %q", b)
}

// HopAuth is the provider authorization function's answer for a pair
// (AS x, AS y): is y an attested provider of x (§5.2, Figure 1)?
type HopAuth uint8

const (
	// NoAttestation: "there is no entry in U-SPAS table for CAS = AS x".
	NoAttestation HopAuth = iota
	// ProviderPlus: "the U-SPAS entry for CAS = AS x includes AS y".
	ProviderPlus
	// NotProviderPlus: x has an entry that does not include y.
	NotProviderPlus
)

var hopAuthNames = [...]string{"no_attestation", "provider_plus", "not_provider_plus"}

// String returns the stable snake_case name.
func (h HopAuth) String() string {
	if int(h) < len(hopAuthNames) {
		return hopAuthNames[h]
	}
	return fmt.Sprintf("hop_auth(%d)", uint8(h))
}

// MarshalText writes the String name.
func (h HopAuth) MarshalText() ([]byte, error) {
	if int(h) >= len(hopAuthNames) {
		return nil, fmt.Errorf("rov: cannot marshal unknown hop authorization %d", uint8(h))
	}
	return []byte(h.String()), nil
}

// PeerRole is what the neighbour a route came from is to the verifying AS
// (RFC 9234 roles, seen from our side). It selects the procedure (§5.4,
// §5.5) and whether the first AS must be the neighbour's (step 2).
//
// The zero value is RolePeer: a route collector is every peer's peer, so
// collector data is verified upstream unless the user says otherwise.
type PeerRole uint8

const (
	// RolePeer: a lateral peer. Upstream.
	RolePeer PeerRole = iota
	// RoleCustomer: the neighbour is our customer. Upstream.
	RoleCustomer
	// RoleProvider: the neighbour is our provider. Downstream.
	RoleProvider
	// RoleRS: the neighbour is a route server and we are its RS-client.
	// Upstream ("is received by an RS-client from an RS", §5.4), and the
	// first AS is not checked: a transparent RS does not add its AS
	// (RFC 7947 §2.2.2.1).
	RoleRS
	// RoleRSClient: the neighbour is our RS-client and we are the route
	// server. Upstream ("is received by an RS from an RS-client", §5.4).
	RoleRSClient
	// RoleIBGP: the neighbour is in our own AS: an iBGP session, as a
	// route collector's feed from a network's router often is. The
	// procedures are "NOT RECOMMENDED for use on internal BGP (iBGP)
	// sessions" (§6.2): they belong on the ingress edge router, whose eBGP
	// neighbour (and its relationship) the path no longer names. rovimpact
	// verifies such paths as an ingress router with a lateral peer would:
	// upstream, without step 2 (the neighbour AS is unknown). Not an RFC
	// 9234 role; an approximation the report names.
	RoleIBGP
)

var peerRoleNames = [...]string{"peer", "customer", "provider", "rs", "rs-client", "ibgp"}

// String returns the name --peer-role takes.
func (r PeerRole) String() string {
	if int(r) < len(peerRoleNames) {
		return peerRoleNames[r]
	}
	return fmt.Sprintf("peer_role(%d)", uint8(r))
}

// MarshalText writes the String name.
func (r PeerRole) MarshalText() ([]byte, error) {
	if int(r) >= len(peerRoleNames) {
		return nil, fmt.Errorf("rov: cannot marshal unknown peer role %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a String name back (see ParsePeerRole).
func (r *PeerRole) UnmarshalText(b []byte) error {
	v, err := ParsePeerRole(string(b))
	if err == nil {
		*r = v
	}
	return err
}

// ParsePeerRole parses "customer", "peer", "provider", "rs", "rs-client"
// ("rs_client" is accepted too) or "ibgp".
func ParsePeerRole(s string) (PeerRole, error) {
	if s == "rs_client" {
		s = "rs-client"
	}
	for i, n := range peerRoleNames {
		if s == n {
			return PeerRole(i), nil
		}
	}
	return 0, fmt.Errorf("unknown peer role %q (want customer, peer, provider, rs, rs-client or ibgp)", s)
}

// Downstream reports whether routes from a neighbour in this role are
// verified with the downstream procedure: "applied when a route is
// received from a Provider" (§5.5); every other relationship uses the
// upstream one (§5.4).
func (r PeerRole) Downstream() bool { return r == RoleProvider }

// checksFirstAS reports whether step 2 applies: "If the receiving AS is not
// an RS-client and the most recently added AS in the AS_PATH does not
// match the neighbor AS" (§5.4 step 2; §5.5 step 2 has no exception, and
// only RoleProvider reaches it).
// RoleIBGP skips it too: the eBGP neighbour is not known.
func (r PeerRole) checksFirstAS() bool { return r != RoleRS && r != RoleIBGP }

// ASPASet is the U-SPAS table (§5.2) built from validated ASPA payloads:
// per customer AS, the union of the providers of all its ASPAs, sorted.
// Built once by NewASPASet, then read-only and safe for concurrent use;
// lookups are two binary searches and allocate nothing.
type ASPASet struct {
	customers []uint32 // sorted, distinct
	off       []uint32 // providers of customers[i] are prov[off[i]:off[i+1]]
	prov      []uint32 // per customer sorted, distinct, AS 0 left out
	aspas     int      // ASPAs given to NewASPASet
}

// NewASPASet builds the U-SPAS table of aspas. "In case a CAS has multiple
// cryptographically valid ASPAs, then the U-SPAS for the CAS is the union
// of ASes listed in all SPAS of these ASPAs" (§5.2). AS 0 is dropped from
// every provider set: "an unexpected presence of AS 0 has no influence on
// the AS_PATH verification procedures" (§4), so an AS0 ASPA ("showing only
// AS 0 as a provider AS") leaves its customer with an entry and no
// provider: every hop from it is Not Provider+. aspas is not modified.
func NewASPASet(aspas []ASPA) *ASPASet {
	order := make([]int, len(aspas))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := aspas[a].CustomerASID, aspas[b].CustomerASID
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	s := &ASPASet{aspas: len(aspas)}
	n := 0
	for _, a := range aspas {
		n += len(a.Providers)
	}
	s.prov = make([]uint32, 0, n)
	for i := 0; i < len(order); {
		cust := aspas[order[i]].CustomerASID
		start := len(s.prov)
		for ; i < len(order) && aspas[order[i]].CustomerASID == cust; i++ {
			for _, p := range aspas[order[i]].Providers {
				if p != 0 {
					s.prov = append(s.prov, p)
				}
			}
		}
		ps := s.prov[start:]
		slices.Sort(ps)
		s.prov = s.prov[:start+len(slices.Compact(ps))]
		s.customers = append(s.customers, cust)
		s.off = append(s.off, uint32(start))
	}
	s.off = append(s.off, uint32(len(s.prov)))
	return s
}

// Len is the number of customer ASes with an entry.
func (s *ASPASet) Len() int { return len(s.customers) }

// ASPAs is the number of ASPAs the set was built from.
func (s *ASPASet) ASPAs() int { return s.aspas }

// Providers returns the U-SPAS of customer (sorted, read-only; AS 0 left
// out) and whether customer has an entry at all.
func (s *ASPASet) Providers(customer uint32) ([]uint32, bool) {
	i, ok := slices.BinarySearch(s.customers, customer)
	if !ok {
		return nil, false
	}
	return s.prov[s.off[i]:s.off[i+1]], true
}

// Authorized is the provider authorization function authorized(AS x,
// AS y) of §5.2, Figure 1.
func (s *ASPASet) Authorized(x, y uint32) HopAuth {
	ps, ok := s.Providers(x)
	if !ok {
		// "No Attestation" if there is no entry in U-SPAS table for CAS = AS x
		return NoAttestation
	}
	if _, found := slices.BinarySearch(ps, y); found {
		// "Provider+" if the U-SPAS entry for CAS = AS x includes AS y
		return ProviderPlus
	}
	// Else, "Not Provider+"
	return NotProviderPlus
}

// Hop is one pair (Customer, Provider) of the COMPRESSED_AS_PATH for which
// authorized(Customer, Provider) returned Not Provider+: the hop §6.6 asks
// to log, and Customer's U-SPAS is the ASPA that decided it.
type Hop struct {
	Customer uint32
	Provider uint32
}

// ASPAResult is the outcome of verifying one AS_PATH, with what decided it.
type ASPAResult struct {
	State  ASPAState
	Reason ASPAReason
	// Downstream: the downstream procedure (§5.5) was applied.
	Downstream bool
	// N is the length of the COMPRESSED_AS_PATH (0 when a step before the
	// ramps decided).
	N int32
	// The ramp bounds of §5.3, in ASes (1..N). For upstream paths the
	// down-ramp bounds are 0 ("max_down_ramp and min_down_ramp are set to
	// 0", §5.4).
	MaxUp, MinUp, MaxDown, MinDown int32
	// Up is the Not Provider+ hop that ends the up-ramp (set when
	// MaxUp < N); Down the one that ends the down-ramp (downstream paths,
	// MaxDown < N). For an Invalid path with ASPAReasonRamps, Up is always
	// set; Down is set for downstream paths.
	Up, Down Hop
	// FirstAS is the most recently added AS (ASPAReasonFirstAS).
	FirstAS uint32
}

// ASPAVerifier verifies AS_PATHs against one ASPASet. It holds a scratch
// buffer for the compressed path, so verifying allocates nothing once the
// buffer has grown to the longest path; not safe for concurrent use (make
// one per goroutine; the set is shared).
type ASPAVerifier struct {
	set *ASPASet
	buf []uint32
}

// NewASPAVerifier returns a verifier over set.
func NewASPAVerifier(set *ASPASet) *ASPAVerifier {
	return &ASPAVerifier{set: set, buf: make([]uint32, 0, 64)}
}

// Verify verifies path, received from a neighbour with AS number neighbor
// in role, with the procedure of §5.4 (upstream) or §5.5 (downstream).
// AS_CONFED_SET segments count as AS_SET (RFC 9774 deprecates both); a
// path with an AS_CONFED_SEQUENCE is not verified (ASPAReasonConfed).
// Empty segments are ignored.
func (v *ASPAVerifier) Verify(path []Segment, neighbor uint32, role PeerRole) ASPAResult {
	res := ASPAResult{Downstream: role.Downstream()}
	var first uint32
	hasFirst, empty, set := false, true, false
	for _, seg := range path {
		if len(seg.ASNs) == 0 {
			continue
		}
		switch seg.Type {
		case ASConfedSequence:
			// §6.2: "the procedures are NOT RECOMMENDED for use on ...
			// eBGP sessions internal to an AS Confederation".
			res.Reason = ASPAReasonConfed
			return res
		case ASSet, ASConfedSet:
			set = true
		case ASSequence:
			if empty {
				first, hasFirst = seg.ASNs[0], true
			}
		}
		empty = false
	}
	if empty && role == RoleIBGP {
		// Not a path an eBGP neighbour sent: the verifying network's own
		// route, seen on iBGP (§6.2). Nothing to verify.
		res.Reason = ASPAReasonLocal
		return res
	}
	if empty {
		// Step 1: "If the AS_PATH is empty, then the procedure halts with
		// the outcome "Invalid"."
		res.State, res.Reason = ASPAInvalid, ASPAReasonEmpty
		return res
	}
	if hasFirst && role.checksFirstAS() && first != neighbor {
		// Step 2 (§5.4): "If the receiving AS is not an RS-client and the
		// most recently added AS in the AS_PATH does not match the
		// neighbor AS, then the procedure halts with the outcome
		// "Invalid"." §5.5 step 2 has no exception. A path whose first
		// segment is an AS_SET has no most recently added AS and falls to
		// step 3.
		res.State, res.Reason, res.FirstAS = ASPAInvalid, ASPAReasonFirstAS, first
		return res
	}
	if set {
		// Step 3: "If the AS_PATH has an AS_SET, then the procedure halts
		// with the outcome "Invalid"."
		res.State, res.Reason = ASPAInvalid, ASPAReasonASSet
		return res
	}
	// §5.1: "COMPRESSED_AS_PATH ... represent[s] the AS_PATH after removing
	// consecutive duplicate ASNs" (prepends collapsed), kept here in wire
	// order: buf[0] = AS(N), buf[N-1] = AS(1), the origin.
	p := appendCompressed(v.buf[:0], path)
	v.buf = p
	v.set.ramps(p, &res)
	return res
}

// appendCompressed appends the COMPRESSED_AS_PATH of path to dst in wire
// order: "the AS_PATH after removing consecutive duplicate ASNs" (§5.1),
// across segment boundaries. Callers have ruled out sets.
func appendCompressed(dst []uint32, path []Segment) []uint32 {
	start := len(dst)
	for _, seg := range path {
		for _, a := range seg.ASNs {
			if len(dst) == start || dst[len(dst)-1] != a {
				dst = append(dst, a)
			}
		}
	}
	return dst
}

// ramps computes the bounds of §5.3 on the compressed path p (wire order)
// and applies steps 4 to 6 of §5.4 or §5.5.
func (s *ASPASet) ramps(p []uint32, res *ASPAResult) {
	n := int32(len(p))
	a := func(i int32) uint32 { return p[n-i] } // A(i), 1-based from the origin
	res.N = n
	// "Determine the maximum up-ramp length as I, where I is the minimum
	// index for which authorized(A(I), A(I+1)) returns "Not Provider+". If
	// there is no such I, the maximum up-ramp length is set equal to ...
	// N." The minimum up-ramp length: the minimum I for which it returns
	// "No Attestation" or "Not Provider+", else N.
	res.MaxUp, res.MinUp = n, n
	for i := int32(1); i < n; i++ {
		switch s.Authorized(a(i), a(i+1)) {
		case ProviderPlus:
			continue
		case NoAttestation:
			res.MinUp = min(res.MinUp, i)
			continue
		}
		res.MinUp = min(res.MinUp, i)
		res.MaxUp = i
		res.Up = Hop{Customer: a(i), Provider: a(i + 1)}
		break
	}
	if !res.Downstream {
		// §5.4: "max_down_ramp and min_down_ramp are set to 0".
		if res.MaxUp < n {
			// Step 4: "If max_up_ramp < N, the procedure halts with the
			// outcome "Invalid"."
			res.State, res.Reason = ASPAInvalid, ASPAReasonRamps
		} else if res.MinUp < n {
			// Step 5: "If min_up_ramp < N, the procedure halts with the
			// outcome "Unknown"."
			res.State = ASPAUnknown
		} else {
			// Step 6: "Else, the procedure halts with the outcome "Valid"."
			res.State = ASPAValid
		}
		return
	}
	// "the maximum down-ramp length can be determined as N - J + 1 where J
	// is the maximum index for which authorized(A(J), A(J-1)) returns "Not
	// Provider+". If there is no such J, the maximum down-ramp length is
	// set equal to ... N." The minimum: J for "No Attestation" or "Not
	// Provider+", else N.
	res.MaxDown, res.MinDown = n, n
	for j := n; j > 1; j-- {
		switch s.Authorized(a(j), a(j-1)) {
		case ProviderPlus:
			continue
		case NoAttestation:
			res.MinDown = min(res.MinDown, n-j+1)
			continue
		}
		res.MinDown = min(res.MinDown, n-j+1)
		res.MaxDown = n - j + 1
		res.Down = Hop{Customer: a(j), Provider: a(j - 1)}
		break
	}
	switch {
	case res.MaxUp+res.MaxDown < n:
		// §5.5 step 4: "If max_up_ramp + max_down_ramp < N, the procedure
		// halts with the outcome "Invalid"." Both ramps then end at a Not
		// Provider+ hop (a ramp of length N alone reaches N).
		res.State, res.Reason = ASPAInvalid, ASPAReasonRamps
	case res.MinUp+res.MinDown < n:
		// Step 5: "If min_up_ramp + min_down_ramp < N, the procedure halts
		// with the outcome "Unknown"."
		res.State = ASPAUnknown
	default:
		// Step 6: "Else, the procedure halts with the outcome "Valid"."
		res.State = ASPAValid
	}
}
