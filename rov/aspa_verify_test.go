package rov

import (
	"encoding/json"
	"testing"
)

// ASNs of the examples, named for their place in the topology (RFC 5398
// documentation ASNs).
const (
	asnOrigin   = 64496 // AS(1) unless a row says otherwise
	asnProvider = 64497 // a provider of asnOrigin
	asnUpper    = 64498 // a provider of asnProvider
	asnPeer     = 64499 // a lateral peer
	asnCustomer = 64500 // a customer of asnProvider (or asnUpper)
	asnLeaker   = 64501 // an AS that leaks or hijacks
	asnTier1a   = 64502
	asnTier1b   = 64503
	asnOther    = 64504 // listed only to make an ASPA exist
	asnRS       = 64505 // a route server
)

func seq(asns ...uint32) []Segment { return []Segment{{Type: ASSequence, ASNs: asns}} }

type aspaRow struct {
	name     string // the draft clause or source the row pins
	aspas    []ASPA
	path     []Segment
	neighbor uint32 // 0: the path's first AS
	role     PeerRole
	want     ASPAState
	reason   ASPAReason
	up, down Hop // failing hops, checked when non-zero
}

func (r aspaRow) run(t *testing.T) {
	t.Helper()
	nb := r.neighbor
	if nb == 0 && len(r.path) > 0 && len(r.path[0].ASNs) > 0 {
		nb = r.path[0].ASNs[0]
	}
	got := NewASPAVerifier(NewASPASet(r.aspas)).Verify(r.path, nb, r.role)
	if got.State != r.want || got.Reason != r.reason {
		t.Errorf("%s: got %v/%q, want %v/%q (result %+v)", r.name, got.State, got.Reason, r.want, r.reason, got)
	}
	if r.up != (Hop{}) && got.Up != r.up {
		t.Errorf("%s: up-ramp failing hop %+v, want %+v", r.name, got.Up, r.up)
	}
	if r.down != (Hop{}) && got.Down != r.down {
		t.Errorf("%s: down-ramp failing hop %+v, want %+v", r.name, got.Down, r.down)
	}
	if want := oracleVerify(r.aspas, r.path, nb, r.role); want != got.State {
		t.Errorf("%s: oracle says %v, implementation %v", r.name, want, got.State)
	}
}

// TestASPADraftExamples pins each rule of draft-ietf-sidrops-aspa-verification-27
// with a row naming the clause it comes from.
func TestASPADraftExamples(t *testing.T) {
	// A valley-free topology: origin -> provider -> upper (c2p), upper and
	// peer are lateral peers, peer -> customer (p2c).
	chain := []ASPA{
		{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}},
		{CustomerASID: asnProvider, Providers: []uint32{asnUpper}},
		{CustomerASID: asnUpper, Providers: []uint32{asnOther}},
		{CustomerASID: asnPeer, Providers: []uint32{asnOther}},
		{CustomerASID: asnCustomer, Providers: []uint32{asnPeer}},
	}
	rows := []aspaRow{
		{name: "§5.4 step 1: empty AS_PATH from a customer", path: nil, neighbor: asnCustomer, role: RoleCustomer,
			want: ASPAInvalid, reason: ASPAReasonEmpty},
		{name: "§5.5 step 1: empty AS_PATH from a provider", path: []Segment{{Type: ASSequence}}, neighbor: asnProvider, role: RoleProvider,
			want: ASPAInvalid, reason: ASPAReasonEmpty},
		{name: "§5.4 step 2: first AS is not the customer neighbour", aspas: chain, path: seq(asnProvider, asnOrigin),
			neighbor: asnLeaker, role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonFirstAS},
		{name: "§5.4 step 2: first AS is not the peer neighbour", aspas: chain, path: seq(asnProvider, asnOrigin),
			neighbor: asnPeer, role: RolePeer, want: ASPAInvalid, reason: ASPAReasonFirstAS},
		{name: "§5.4 step 2: the RS (we serve an RS-client) still checks the first AS", aspas: chain, path: seq(asnProvider, asnOrigin),
			neighbor: asnLeaker, role: RoleRSClient, want: ASPAInvalid, reason: ASPAReasonFirstAS},
		{name: "§5.4 step 2 exception + RFC 7947: an RS-client does not check a transparent RS's first AS",
			aspas: chain, path: seq(asnProvider, asnOrigin), neighbor: asnRS, role: RoleRS, want: ASPAValid},
		{name: "§5.5 step 2: first AS is not the provider neighbour", aspas: chain, path: seq(asnUpper, asnProvider, asnOrigin),
			neighbor: asnPeer, role: RoleProvider, want: ASPAInvalid, reason: ASPAReasonFirstAS},
		{name: "§5.4 step 3: AS_SET at the origin (aggregate)", aspas: chain,
			path: []Segment{{Type: ASSequence, ASNs: []uint32{asnUpper, asnProvider}}, {Type: ASSet, ASNs: []uint32{asnOrigin, asnOther}}},
			role: RolePeer, want: ASPAInvalid, reason: ASPAReasonASSet},
		{name: "§5.5 step 3: AS_SET in the middle, from a provider", aspas: chain,
			path: []Segment{{Type: ASSequence, ASNs: []uint32{asnUpper}}, {Type: ASSet, ASNs: []uint32{asnProvider}}, {Type: ASSequence, ASNs: []uint32{asnOrigin}}},
			role: RoleProvider, want: ASPAInvalid, reason: ASPAReasonASSet},
		{name: "§5.4 step 3 with RFC 9774: AS_CONFED_SET counts as AS_SET", aspas: chain,
			path: []Segment{{Type: ASSequence, ASNs: []uint32{asnProvider, asnOrigin}}, {Type: ASConfedSet, ASNs: []uint32{asnOther}}},
			role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonASSet},
		{name: "§6.2: AS_CONFED_SEQUENCE (inside a confederation) is not verified", aspas: chain,
			path: []Segment{{Type: ASConfedSequence, ASNs: []uint32{65001}}, {Type: ASSequence, ASNs: []uint32{asnProvider, asnOrigin}}},
			role: RoleCustomer, want: ASPAUnverified, reason: ASPAReasonConfed},
		{name: "§5.4 step 6: an up-ramp all the way (N=3) is Valid from a customer", aspas: chain,
			path: seq(asnUpper, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAValid},
		{name: "§5.3: N=1 has no pair, max_up_ramp = min_up_ramp = N: Valid", path: seq(asnOrigin), role: RolePeer, want: ASPAValid},
		{name: "§5.4 step 4: a Not Provider+ hop caps max_up_ramp < N", aspas: chain,
			path: seq(asnPeer, asnUpper, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnUpper, Provider: asnPeer}},
		{name: "§5.4 step 5: an unattested hop above an attested up-ramp leaves min_up_ramp < N: Unknown", aspas: chain,
			path: seq(asnTier1a, asnOther, asnUpper, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAUnknown},
		{name: "§5.4 step 4 before step 5: Not Provider+ above an unattested hop is still Invalid", aspas: chain,
			path: seq(asnPeer, asnUpper, asnLeaker, asnTier1a), role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnUpper, Provider: asnPeer}},
		{name: "§5.4 step 5: no ASPA for the origin: Unknown", path: seq(asnProvider, asnOrigin), role: RolePeer, want: ASPAUnknown},
		{name: "§5.1 Figure 2: up-ramp to AS(K), one peer hop, down-ramp from AS(L=K+1): Valid downstream", aspas: chain,
			path: seq(asnCustomer, asnPeer, asnUpper, asnProvider, asnOrigin), neighbor: asnCustomer, role: RoleProvider, want: ASPAValid},
		{name: "§5.4: the same valley-free path is Invalid upstream (a down-ramp is not allowed)", aspas: chain,
			path: seq(asnCustomer, asnPeer, asnUpper, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnUpper, Provider: asnPeer}},
		{name: "§5.1: apexes two hops apart (a valley) is Invalid downstream", aspas: append(chain[:len(chain):len(chain)],
			ASPA{CustomerASID: asnLeaker, Providers: []uint32{asnOther}}),
			path: seq(asnCustomer, asnPeer, asnLeaker, asnUpper, asnProvider, asnOrigin), neighbor: asnCustomer, role: RoleProvider,
			want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnUpper, Provider: asnLeaker}, down: Hop{Customer: asnPeer, Provider: asnLeaker}},
		{name: "§5.1: no up-ramp (K = 1): a route going only down is Valid downstream", aspas: []ASPA{
			{CustomerASID: asnCustomer, Providers: []uint32{asnProvider}}, {CustomerASID: asnProvider, Providers: []uint32{asnUpper}},
			{CustomerASID: asnUpper, Providers: []uint32{asnTier1a}}},
			path: seq(asnCustomer, asnProvider, asnUpper), role: RoleProvider, want: ASPAValid},
		{name: "§5.3: max_down_ramp reaches past an unattested hop; min does not: Unknown downstream", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path: seq(asnCustomer, asnPeer, asnUpper, asnProvider, asnOrigin), role: RoleProvider, want: ASPAUnknown},
		{name: "§5.2: U-SPAS is the union of a customer's ASPAs", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{asnOther}}, {CustomerASID: asnOrigin, Providers: []uint32{asnProvider}},
			{CustomerASID: asnProvider, Providers: []uint32{asnUpper}}},
			path: seq(asnUpper, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAValid},
		{name: "§4: a customer whose only provider is AS0 (AS0 ASPA) may not send its routes up", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{0}}},
			path: seq(asnProvider, asnOrigin), role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnProvider}},
		{name: "§4: an AS0 ASPA origin heard directly from it is Valid (N=1)", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{0}}},
			path: seq(asnOrigin), role: RolePeer, want: ASPAValid},
		{name: "§4: an AS0 ASPA customer of a provider we buy from: down-ramp only, Valid downstream", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{0}}, {CustomerASID: asnCustomer, Providers: []uint32{asnProvider}}},
			path: seq(asnProvider, asnOrigin), role: RoleProvider, want: ASPAValid},
		{name: "§4: \"an unexpected presence of AS 0 has no influence\" on a SPAS with other providers", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{0, asnProvider}}},
			path: seq(asnProvider, asnOrigin), role: RolePeer, want: ASPAValid},
		{name: "§4 with RFC 7607: AS 0 in the path is never made a provider by AS 0 in a SPAS", aspas: []ASPA{
			{CustomerASID: asnOrigin, Providers: []uint32{0}}},
			path: seq(0, asnOrigin), neighbor: 0, role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps},
		{name: "§5.1: prepends are collapsed (COMPRESSED_AS_PATH)", aspas: chain,
			path: seq(asnUpper, asnUpper, asnProvider, asnProvider, asnProvider, asnOrigin, asnOrigin), role: RoleCustomer, want: ASPAValid},
		{name: "§5.1: prepends across segment boundaries are collapsed too", aspas: chain,
			path: []Segment{{Type: ASSequence, ASNs: []uint32{asnUpper, asnProvider}}, {Type: ASSequence, ASNs: []uint32{asnProvider, asnOrigin}}},
			role: RoleCustomer, want: ASPAValid},
		{name: "§5.1: only consecutive duplicates are removed: A B A stays a loop", aspas: chain,
			path: seq(asnProvider, asnOrigin, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnProvider, Provider: asnOrigin}},
		{name: "Appendix B Property 1: a leak by a customer of AS A is detected at AS B on a customer interface",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnLeaker, asnCustomer, asnOrigin), role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnCustomer}},
		{name: "Appendix B Property 2: forged-origin hijack (X not in A's ASPA) is detected",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnLeaker, asnOrigin), role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnLeaker}},
		{name: "Appendix B Property 3: forged path segment {P, A} (X not in P's ASPA) is detected",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}, {CustomerASID: asnProvider, Providers: []uint32{asnUpper}}},
			path:  seq(asnLeaker, asnProvider, asnOrigin), role: RoleCustomer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnProvider, Provider: asnLeaker}},
	}
	for _, r := range rows {
		t.Run(r.name, r.run)
	}
}

// TestASPAIndependentVectors are cases other implementations test, read
// there and written again here with our own topologies:
//   - bgpfix rpki/aspa_test.go (github.com/bgpfix/bgpfix, commit bc0fa7a):
//     empty provider list, downstream short path, Tier-1 peering with AS0
//     ASPAs, which hop an Invalid names;
//   - bgpipe pull request #35 (github.com/bgpfix/bgpipe/pull/35, review of
//     stages/rpki/aspa.go:112): a 2-AS path from a provider.
func TestASPAIndependentVectors(t *testing.T) {
	rows := []aspaRow{
		{name: "bgpfix TestHop_EmptyProviderList: an entry with no provider makes every hop Not Provider+",
			aspas: []ASPA{{CustomerASID: asnOrigin}}, path: seq(asnProvider, asnOrigin), role: RoleCustomer,
			want: ASPAInvalid, reason: ASPAReasonRamps, up: Hop{Customer: asnOrigin, Provider: asnProvider}},
		{name: "bgpfix Downstream_ShortPathCanStillBeValid: attested origin, unattested top, from a provider",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnUpper, asnProvider, asnOrigin), role: RoleProvider, want: ASPAValid},
		{name: "bgpfix Downstream_Tier1PeeringIsUnknown: AS0 ASPAs at a Tier-1 peering, unattested ends",
			aspas: []ASPA{{CustomerASID: asnTier1a, Providers: []uint32{0}}, {CustomerASID: asnTier1b, Providers: []uint32{0}}},
			path:  seq(asnCustomer, asnTier1a, asnTier1b, asnOrigin), role: RoleProvider, want: ASPAUnknown},
		{name: "bgpfix Downstream_HopPrefersDnRamp: an Invalid names both ramps' Not Provider+ hops",
			aspas: []ASPA{{CustomerASID: asnCustomer, Providers: []uint32{asnOther}}, {CustomerASID: asnTier1a, Providers: []uint32{asnOther}},
				{CustomerASID: asnTier1b, Providers: []uint32{asnOther}}, {CustomerASID: asnOrigin, Providers: []uint32{asnOther}}},
			path: seq(asnCustomer, asnTier1a, asnTier1b, asnOrigin), role: RoleProvider, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnTier1b}, down: Hop{Customer: asnCustomer, Provider: asnTier1a}},
		{name: "bgpfix Upstream_HopAtSecondFail: the lowest Not Provider+ hop from the origin is named",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}, {CustomerASID: asnProvider, Providers: []uint32{asnOther}},
				{CustomerASID: asnUpper, Providers: []uint32{asnOther}}},
			path: seq(asnPeer, asnUpper, asnProvider, asnOrigin), neighbor: asnPeer, role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnProvider, Provider: asnUpper}},
		{name: "bgpipe PR #35: 2-AS path from a provider, each denying the other: §5.3 gives 1+1 = N, Valid",
			aspas: []ASPA{{CustomerASID: asnProvider, Providers: []uint32{asnOther}}, {CustomerASID: asnOrigin, Providers: []uint32{asnOther}}},
			path:  seq(asnProvider, asnOrigin), role: RoleProvider, want: ASPAValid},
		{name: "bgpipe PR #35: 2-AS path from a provider without attestations: min ramps 1+1 = N, Valid",
			path: seq(asnProvider, asnOrigin), role: RoleProvider, want: ASPAValid},
		{name: "bgpipe PR #35: the same denied 2-AS path from a peer is Invalid (upstream)",
			aspas: []ASPA{{CustomerASID: asnProvider, Providers: []uint32{asnOther}}, {CustomerASID: asnOrigin, Providers: []uint32{asnOther}}},
			path:  seq(asnProvider, asnOrigin), role: RolePeer, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnProvider}},
		{name: "bgpipe PR #35: 3-AS path from a provider with both hops denied both ways is Invalid",
			aspas: []ASPA{{CustomerASID: asnProvider, Providers: []uint32{asnOther}}, {CustomerASID: asnOrigin, Providers: []uint32{asnOther}},
				{CustomerASID: asnUpper, Providers: []uint32{asnOther}}},
			path: seq(asnUpper, asnProvider, asnOrigin), role: RoleProvider, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnProvider}, down: Hop{Customer: asnUpper, Provider: asnProvider}},
		{name: "route server: RS-client hears the RS's client directly (transparent RS, RFC 7947), up-ramp checked",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnLeaker, asnOrigin), neighbor: asnRS, role: RoleRS, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnLeaker}},
		{name: "§6.2: an iBGP feed (collector) is verified upstream without the first-AS check",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnProvider, asnOrigin), neighbor: asnUpper, role: RoleIBGP, want: ASPAValid},
		{name: "§6.2: an empty AS_PATH on iBGP is the network's own route: unverified, not Invalid",
			path: nil, neighbor: asnUpper, role: RoleIBGP, want: ASPAUnverified, reason: ASPAReasonLocal},
		{name: "§6.2: an iBGP feed still fails on a Not Provider+ hop",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}},
			path:  seq(asnLeaker, asnOrigin), neighbor: asnUpper, role: RoleIBGP, want: ASPAInvalid, reason: ASPAReasonRamps,
			up: Hop{Customer: asnOrigin, Provider: asnLeaker}},
		{name: "route server: a non-transparent RS is in the path and in its clients' SPAS (§4)",
			aspas: []ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnRS}}},
			path:  seq(asnRS, asnOrigin), neighbor: asnRS, role: RoleRS, want: ASPAValid},
	}
	for _, r := range rows {
		t.Run(r.name, r.run)
	}
}

func TestASPATextNames(t *testing.T) {
	for _, c := range []struct {
		v    interface{ MarshalText() ([]byte, error) }
		want string
	}{
		{ASPAValid, "valid"}, {ASPAUnknown, "unknown"}, {ASPAInvalid, "invalid"}, {ASPAUnverified, "unverified"},
		{ASPAReasonRamps, "not_provider"}, {ASPAReasonFirstAS, "first_as"}, {ProviderPlus, "provider_plus"},
		{NotProviderPlus, "not_provider_plus"}, {NoAttestation, "no_attestation"}, {RoleRSClient, "rs-client"},
	} {
		b, err := c.v.MarshalText()
		if err != nil || string(b) != c.want {
			t.Errorf("MarshalText(%v) = %q, %v; want %q", c.v, b, err, c.want)
		}
	}
	if _, err := ASPAState(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown state: no error")
	}
	var s ASPAState
	if err := json.Unmarshal([]byte(`"unknown"`), &s); err != nil || s != ASPAUnknown {
		t.Errorf("unmarshal unknown: %v %v", s, err)
	}
	for r := ASPAReason(0); int(r) < len(aspaReasonNames); r++ {
		var back ASPAReason
		if b, _ := json.Marshal(r); json.Unmarshal(b, &back) != nil || back != r {
			t.Errorf("ASPA reason %v does not round-trip through JSON (%s)", r, b)
		}
	}
	var bad ASPAReason
	if err := json.Unmarshal([]byte(`"bogus"`), &bad); err == nil {
		t.Error(`unmarshal reason "bogus": no error`)
	}
	for _, name := range []string{"customer", "peer", "provider", "rs", "rs-client", "rs_client"} {
		if _, err := ParsePeerRole(name); err != nil {
			t.Errorf("ParsePeerRole(%q): %v", name, err)
		}
	}
	if _, err := ParsePeerRole("upstream"); err == nil {
		t.Error(`ParsePeerRole("upstream"): no error`)
	}
}

// TestASPAVerifyAllocs: verifying allocates nothing once the verifier's
// buffer has grown.
func TestASPAVerifyAllocs(t *testing.T) {
	set := NewASPASet([]ASPA{{CustomerASID: asnOrigin, Providers: []uint32{asnProvider}}, {CustomerASID: asnProvider, Providers: []uint32{asnUpper}}})
	v := NewASPAVerifier(set)
	path := seq(asnPeer, asnUpper, asnUpper, asnProvider, asnOrigin)
	n := testing.AllocsPerRun(100, func() {
		v.Verify(path, asnPeer, RoleProvider)
	})
	if n != 0 {
		t.Errorf("Verify allocates %v times per call, want 0", n)
	}
}
