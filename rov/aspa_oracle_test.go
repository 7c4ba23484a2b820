package rov

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// oracleVerify transcribes draft-ietf-sidrops-aspa-verification-27
// literally and slowly, without the ramp bounds of §5.3 that Verify
// computes. It shares no verification code with Verify (only the role
// constants): the ASPAs stay a list searched
// linearly, the path is compressed by its own loop, and the verdict comes
// from §5.1's picture of the path itself:
//
//	"The up-ramp runs from AS(1) to AS(K). In this ramp, each hop AS(i) to
//	AS(i+1) represents a customer-to-provider peering relationship. The
//	down-ramp runs backward from AS(N) to AS(L). In the down-ramp, each
//	pair AS(j) to AS(j-1) represents a customer-to-provider peering
//	relationship. ... If the COMPRESSED_AS_PATH has no up-ramp, it results
//	in K = 1. If [it] has no down-ramp, it results in L = N. The AS_PATH is
//	invalid if apexes of the up-ramp and down-ramp (AS(K) and AS(L),
//	respectively) ... are apart by more than one hop; else, it is valid."
//
// Which pairs are customer-to-provider is known only where the customer
// has an ASPA; for every other ordered pair of the path both answers are
// possible. The oracle enumerates every such world: the path is Valid when
// it is valley-free in every world, Invalid when in none, Unknown
// otherwise ("enough information is not available", §5.3). Upstream
// (§5.4) "expects the COMPRESSED_AS_PATH to have only an up-ramp (no
// down-ramp)": valid iff K = N.
func oracleVerify(aspas []ASPA, path []Segment, neighbor uint32, role PeerRole) ASPAState {
	var flat []uint32
	hasSet, hasConfed := false, false
	for _, s := range path {
		if len(s.ASNs) == 0 {
			continue
		}
		switch s.Type {
		case ASConfedSequence:
			hasConfed = true
		case ASSet, ASConfedSet:
			hasSet = true
		}
		flat = append(flat, s.ASNs...)
	}
	if hasConfed {
		return ASPAUnverified
	}
	if len(flat) == 0 && role == RoleIBGP {
		return ASPAUnverified // the network's own route
	}
	if len(flat) == 0 {
		return ASPAInvalid // step 1
	}
	var first *Segment
	for i := range path {
		if len(path[i].ASNs) > 0 {
			first = &path[i]
			break
		}
	}
	if first.Type == ASSequence && role != RoleRS && role != RoleIBGP && first.ASNs[0] != neighbor {
		return ASPAInvalid // step 2
	}
	if hasSet {
		return ASPAInvalid // step 3
	}
	// COMPRESSED_AS_PATH, indexed from the origin: as[1] = AS(1).
	as := []uint32{0}
	for i := len(flat) - 1; i >= 0; i-- {
		if flat[i] != as[len(as)-1] || len(as) == 1 {
			as = append(as, flat[i])
		}
	}
	n := len(as) - 1
	// attested reports whether x has an ASPA, and whether y is among its
	// providers (AS 0 never is: §4, "no influence").
	attested := func(x, y uint32) (bool, bool) {
		has, prov := false, false
		for _, a := range aspas {
			if a.CustomerASID != x {
				continue
			}
			has = true
			for _, p := range a.Providers {
				if p == y && p != 0 {
					prov = true
				}
			}
		}
		return has, prov
	}
	// The unattested ordered pairs the verdict can depend on.
	type pair struct{ x, y uint32 }
	var free []pair
	seen := map[pair]bool{}
	note := func(x, y uint32) {
		if has, _ := attested(x, y); !has && !seen[pair{x, y}] {
			seen[pair{x, y}] = true
			free = append(free, pair{x, y})
		}
	}
	for i := 1; i < n; i++ {
		note(as[i], as[i+1])
		if role.Downstream() {
			note(as[i+1], as[i])
		}
	}
	valid, invalid := 0, 0
	for world := 0; world < 1<<len(free); world++ {
		c2p := func(x, y uint32) bool {
			if has, prov := attested(x, y); has {
				return prov
			}
			for b, p := range free {
				if p == (pair{x, y}) {
					return world&(1<<b) != 0
				}
			}
			panic("pair not enumerated")
		}
		k := 1
		for k < n && c2p(as[k], as[k+1]) {
			k++
		}
		ok := k == n
		if role.Downstream() {
			l := n
			for l > 1 && c2p(as[l], as[l-1]) {
				l--
			}
			ok = l-k <= 1
		}
		if ok {
			valid++
		} else {
			invalid++
		}
	}
	switch {
	case invalid == 0:
		return ASPAValid
	case valid == 0:
		return ASPAInvalid
	}
	return ASPAUnknown
}

// randomASPACase draws a small path and ASPA set from a pool of few ASNs,
// so that prepends, loops, AS0 ASPAs, unattested hops, AS_SETs, empty
// segments and wrong first ASes all come up often.
func randomASPACase(r *rand.Rand) ([]ASPA, []Segment, uint32, PeerRole) {
	pool := []uint32{0, 1, 2, 3, 4, 5, 6, 7}
	var aspas []ASPA
	for _, c := range pool[1:] {
		for r.IntN(3) == 0 || (len(aspas) == 0 && r.IntN(2) == 0) {
			var prov []uint32
			for _, p := range pool {
				if p != c && r.IntN(3) == 0 {
					prov = append(prov, p)
				}
			}
			aspas = append(aspas, ASPA{CustomerASID: c, Providers: prov})
			if r.IntN(2) == 0 {
				break
			}
		}
	}
	var path []Segment
	segs := 1 + r.IntN(3)
	if r.IntN(20) == 0 {
		segs = 0
	}
	for range segs {
		s := Segment{Type: ASSequence}
		if r.IntN(12) == 0 {
			s.Type = ASSet
		} else if r.IntN(40) == 0 {
			s.Type = []SegmentType{ASConfedSequence, ASConfedSet}[r.IntN(2)]
		}
		for range r.IntN(3) + r.IntN(2) {
			s.ASNs = append(s.ASNs, pool[1+r.IntN(len(pool)-1)])
		}
		path = append(path, s)
	}
	var neighbor uint32
	if len(path) > 0 && len(path[0].ASNs) > 0 && r.IntN(8) != 0 {
		neighbor = path[0].ASNs[0]
	} else {
		neighbor = pool[r.IntN(len(pool))]
	}
	return aspas, path, neighbor, PeerRole(r.IntN(len(peerRoleNames)))
}

// TestASPAOracle compares Verify with the literal transcription on seeded
// random paths and ASPA sets, and checks what the bounds say against the
// hops they name.
func TestASPAOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2026))
	counts := map[ASPAState]int{}
	reasons := map[ASPAReason]int{}
	const cases = 20000
	for i := range cases {
		aspas, path, nb, role := randomASPACase(r)
		set := NewASPASet(aspas)
		got := NewASPAVerifier(set).Verify(path, nb, role)
		want := oracleVerify(aspas, path, nb, role)
		counts[got.State]++
		reasons[got.Reason]++
		if got.State != want {
			t.Fatalf("case %d: Verify(%v, neighbor %d, %v) with ASPAs %v = %+v, oracle %v", i, path, nb, role, aspas, got, want)
		}
		checkASPAInvariants(t, set, path, nb, role, got)
	}
	// The generator must reach every verdict, or the comparison proves little.
	for _, s := range []ASPAState{ASPAValid, ASPAUnknown, ASPAInvalid, ASPAUnverified} {
		if counts[s] < cases/200 {
			t.Errorf("only %d of %d random cases were %v", counts[s], cases, s)
		}
	}
	for _, why := range []ASPAReason{ASPAReasonEmpty, ASPAReasonFirstAS, ASPAReasonASSet, ASPAReasonRamps} {
		if reasons[why] < cases/200 {
			t.Errorf("only %d of %d random cases were Invalid by %q", reasons[why], cases, why)
		}
	}
	t.Logf("verdicts over %d cases: %v; reasons %v", cases, counts, reasons)
}

// checkASPAInvariants checks what must hold of any result, whatever the
// input: named hops really are Not Provider+, the bounds are ordered, the
// downstream procedure is never stricter than the upstream one, and
// collapsing or adding prepends changes nothing.
func checkASPAInvariants(t testing.TB, set *ASPASet, path []Segment, nb uint32, role PeerRole, got ASPAResult) {
	t.Helper()
	v := NewASPAVerifier(set)
	unverifiedReason := got.Reason == ASPAReasonConfed || got.Reason == ASPAReasonLocal
	if got.State > ASPAInvalid || (got.State == ASPAUnverified) != unverifiedReason {
		t.Fatalf("%v: state %v with reason %v", path, got.State, got.Reason)
	}
	if (got.State == ASPAInvalid) != (got.Reason != ASPAReasonNone && !unverifiedReason) {
		t.Fatalf("%v: state %v with reason %q", path, got.State, got.Reason)
	}
	if got.Reason == ASPAReasonRamps {
		if got.Up == (Hop{}) && got.MaxUp < got.N {
			t.Fatalf("%v: Invalid by the ramps names no up-ramp hop: %+v", path, got)
		}
		if set.Authorized(got.Up.Customer, got.Up.Provider) != NotProviderPlus {
			t.Fatalf("%v: up hop %+v is not Not Provider+", path, got.Up)
		}
		if got.Downstream && set.Authorized(got.Down.Customer, got.Down.Provider) != NotProviderPlus {
			t.Fatalf("%v: down hop %+v is not Not Provider+", path, got.Down)
		}
	}
	if got.N > 0 {
		if !(1 <= got.MinUp && got.MinUp <= got.MaxUp && got.MaxUp <= got.N) {
			t.Fatalf("%v: up bounds %d..%d of N=%d", path, got.MinUp, got.MaxUp, got.N)
		}
		if got.Downstream && !(1 <= got.MinDown && got.MinDown <= got.MaxDown && got.MaxDown <= got.N) {
			t.Fatalf("%v: down bounds %d..%d of N=%d", path, got.MinDown, got.MaxDown, got.N)
		}
	}
	// Downstream accepts whatever upstream accepts (same first-AS rule:
	// compare provider with peer).
	up, down := v.Verify(path, nb, RolePeer), v.Verify(path, nb, RoleProvider)
	if up.State != ASPAUnverified && rank(down.State) > rank(up.State) {
		t.Fatalf("%v: downstream %v is stricter than upstream %v", path, down.State, up.State)
	}
	// Prepending every AS once more changes nothing (§5.1, §7.4).
	pre := make([]Segment, len(path))
	for i, s := range path {
		pre[i] = s
		if s.Type == ASSequence {
			pre[i].ASNs = nil
			for _, a := range s.ASNs {
				pre[i].ASNs = append(pre[i].ASNs, a, a)
			}
		}
	}
	if again := v.Verify(pre, nb, role); again.State != got.State || again.Up != got.Up || again.Down != got.Down {
		t.Fatalf("%v: prepending changed %+v to %+v", path, got, again)
	}
}

// rank orders verdicts from most to least permissive.
func rank(s ASPAState) int {
	return map[ASPAState]int{ASPAValid: 0, ASPAUnknown: 1, ASPAInvalid: 2, ASPAUnverified: -1}[s]
}

// FuzzASPAVerify feeds arbitrary ASPA sets and paths (decoded from bytes)
// to Verify and checks it against the oracle and the invariants.
func FuzzASPAVerify(f *testing.F) {
	// Seeds: byte 0 role, byte 1 neighbour, then ASPAs as (customer, count,
	// providers...) until 0xff, then segments as (type, count, ASNs...).
	f.Add([]byte{0, 3, 1, 1, 2, 2, 1, 3, 0xff, 2, 3, 3, 2, 1})    // upstream valid chain 3-2-1
	f.Add([]byte{2, 4, 1, 1, 2, 3, 1, 2, 0xff, 2, 4, 4, 3, 2, 1}) // downstream with a peak
	f.Add([]byte{3, 9, 1, 1, 0, 0xff, 2, 2, 5, 1})                // RS role, AS0 ASPA
	f.Add([]byte{1, 2, 0xff, 2, 2, 2, 1, 1, 2, 3, 4})             // AS_SET at the end
	f.Add([]byte{2, 2, 2, 1, 7, 1, 1, 7, 0xff, 2, 4, 2, 2, 1, 1}) // bgpipe #35: 2-AS path from a provider
	f.Add([]byte{4, 6, 6, 2, 1, 2, 0xff, 3, 1, 9, 2, 2, 6, 1})    // confed sequence
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		role, nb := PeerRole(b[0]%uint8(len(peerRoleNames))), uint32(b[1]%8)
		b = b[2:]
		var aspas []ASPA
		for len(b) >= 2 && b[0] != 0xff {
			a := ASPA{CustomerASID: uint32(b[0] % 8)}
			k := int(b[1] % 5)
			b = b[2:]
			for ; k > 0 && len(b) > 0; k-- {
				a.Providers = append(a.Providers, uint32(b[0]%8))
				b = b[1:]
			}
			aspas = append(aspas, a)
		}
		if len(b) > 0 {
			b = b[1:]
		}
		var path []Segment
		asns := 0
		for len(b) >= 2 && len(path) < 4 {
			s := Segment{Type: SegmentType(1 + b[0]%4)}
			k := int(b[1] % 5)
			b = b[2:]
			for ; k > 0 && len(b) > 0; k-- {
				s.ASNs = append(s.ASNs, uint32(b[0]%8))
				b = b[1:]
				asns++
			}
			path = append(path, s)
		}
		set := NewASPASet(aspas)
		got := NewASPAVerifier(set).Verify(path, nb, role)
		if asns <= 10 {
			if want := oracleVerify(aspas, path, nb, role); want != got.State {
				t.Fatalf("Verify(%v, %d, %v) with %v = %+v, oracle %v", path, nb, role, aspas, got, want)
			}
		}
		checkASPAInvariants(t, set, path, nb, role, got)
	})
}

// FuzzASPASet loads ASPAs from arbitrary export bytes (the loader's seeds:
// rpki-client and Routinator forms) and checks the U-SPAS table built
// from them against the loaded list: every listed provider but AS 0 is
// Provider+, AS 0 never is (§4), an AS without an ASPA is No Attestation,
// and each entry's providers are sorted, distinct and free of AS 0.
func FuzzASPASet(f *testing.F) {
	loadFuzzSeeds(f)
	f.Add([]byte(`{"roas":[],"aspas":[{"customer_asid":64496,"providers":[0]},{"customer_asid":64496,"providers":[64497,64497]},{"customer":"AS64498","providers":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := LoadExport(bytes.NewReader(data), "fuzz", LoadOptions{})
		if err != nil {
			return
		}
		set := NewASPASet(e.ASPAs)
		if set.ASPAs() != len(e.ASPAs) {
			t.Fatalf("ASPAs() = %d, loaded %d", set.ASPAs(), len(e.ASPAs))
		}
		customers := map[uint32]bool{}
		for _, a := range e.ASPAs {
			customers[a.CustomerASID] = true
			for _, p := range a.Providers {
				want := ProviderPlus
				if p == 0 {
					want = NotProviderPlus
				}
				if got := set.Authorized(a.CustomerASID, p); got != want {
					t.Fatalf("Authorized(%d, %d) = %v, want %v", a.CustomerASID, p, got, want)
				}
			}
		}
		if set.Len() != len(customers) {
			t.Fatalf("Len() = %d, want %d customers", set.Len(), len(customers))
		}
		for c := range customers {
			ps, ok := set.Providers(c)
			if !ok {
				t.Fatalf("customer %d has no entry", c)
			}
			for i, p := range ps {
				if p == 0 || (i > 0 && p <= ps[i-1]) {
					t.Fatalf("customer %d: providers %v not sorted, distinct and without AS 0", c, ps)
				}
			}
			if !customers[c+1] && c+1 != 0 {
				if got := set.Authorized(c+1, c); got != NoAttestation {
					t.Fatalf("Authorized(%d, ...) without an ASPA = %v", c+1, got)
				}
			}
		}
	})
}
