package live

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// sampleVRPs reads the rpki-client slice in testdata (1947 VRPs, five TAs).
func sampleVRPs(t *testing.T) []rov.VRP {
	t.Helper()
	f, err := os.Open("../testdata/sample/vrps.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vrps, _, err := rov.LoadVRPs(f, "sample", rov.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return vrps
}

// sortedVRPs returns a copy of vrps in rov.CompareVRP order.
func sortedVRPs(vrps []rov.VRP) []rov.VRP {
	return slices.SortedFunc(slices.Values(vrps), rov.CompareVRP)
}

// TestStateVRPsLoseNothing: the VRPs the State reports (its snapshot's
// index) are exactly those it was given, TA included, after SetVRPs and
// after UpdateVRPs, for a real slice and VRPs at every field's edge, and a
// VRP whose TA alone changes is a change.
func TestStateVRPsLoseNothing(t *testing.T) {
	p := netip.MustParsePrefix
	edges := []rov.VRP{
		{Prefix: p("0.0.0.0/0"), MaxLen: 32, ASN: 0, TA: "ripe"},
		{Prefix: p("198.51.100.0/24"), MaxLen: 32, ASN: 4294967295, TA: "arin"},
		{Prefix: p("203.0.113.7/32"), MaxLen: 32, ASN: 64500},
		{Prefix: p("::/0"), MaxLen: 128, ASN: 4294967295, TA: "lacnic"},
		{Prefix: p("2001:db8::/32"), MaxLen: 128, ASN: 0, TA: rov.SLURMTA},
		{Prefix: p("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128"), MaxLen: 128, ASN: 1, TA: "afrinic"},
	}
	sample := sampleVRPs(t)
	all := append(slices.Clone(sample), edges...)
	check := func(s *State, want []rov.VRP, what string) {
		t.Helper()
		got := s.Snapshot().Analysis.Index.VRPs()
		if !slices.Equal(got, sortedVRPs(canonical(want))) {
			t.Fatalf("%s: the State reports %d VRPs that differ from the %d given", what, len(got), len(want))
		}
		if n := s.Stats().VRPs; n != len(canonical(want)) {
			t.Fatalf("%s: Stats().VRPs = %d, want %d", what, n, len(canonical(want)))
		}
	}
	s := New(Options{})
	s.SetVRPs(all)
	check(s, all, "SetVRPs")
	// Half withdrawn, then announced again with their TAs.
	u := New(Options{})
	u.UpdateVRPs(all, nil)
	check(u, all, "UpdateVRPs")
	u.UpdateVRPs(nil, all[:len(all)/2])
	check(u, all[len(all)/2:], "UpdateVRPs withdrawal")
	u.UpdateVRPs(all[:len(all)/2], nil)
	check(u, all, "UpdateVRPs announcement")
	// A TA alone changing is a change of the set.
	moved := slices.Clone(all)
	moved[0].TA = "moved"
	s.SetVRPs(moved)
	check(s, moved, "SetVRPs, one TA changed")
}

// TestShareVRPs: with ShareVRPs the State keeps the shared slice itself
// whenever it holds the same set (no copy), keeps its own when the sets
// differ (a SLURM assertion), and its verdicts are those of a State that
// shares nothing.
func TestShareVRPs(t *testing.T) {
	vrps := sampleVRPs(t)
	for i := range vrps {
		vrps[i].TA = "" // as RTR and rtr.Set carry them
	}
	packed := make([]rov.PackedVRP, len(vrps))
	for i, v := range vrps {
		packed[i] = rov.PackVRP(v, 0)
	}
	slices.SortFunc(packed, rov.PackedVRP.Compare)
	packed = slices.CompactFunc(packed, func(a, b rov.PackedVRP) bool { return a.Compare(b) == 0 })

	cur := packed // what the Set holds
	shared, plain := New(Options{}), New(Options{})
	shared.ShareVRPs(func() []rov.PackedVRP { return cur })
	g := newGen(7)
	for i := range 400 {
		v := vrps[(i*37)%len(vrps)]
		// Routes at, inside and beside the VRPs, from their ASN or not.
		bits := min(v.Prefix.Bits()+i%3, v.Prefix.Addr().BitLen())
		r := ann(peerA, netip.PrefixFrom(v.Prefix.Addr(), bits).Masked().String(), 0, seq(64501, v.ASN+uint32(i%2)))
		shared.Apply(&r)
		plain.Apply(&r)
		r = ann(peerA, g.prefix().String(), 0, seq(64501, uint32(i%6)))
		shared.Apply(&r)
		plain.Apply(&r)
	}
	same := func(what string, wantShared bool) {
		t.Helper()
		if got := len(shared.vrps) > 0 && len(cur) > 0 && &shared.vrps[0] == &cur[0]; got != wantShared {
			t.Fatalf("%s: holds the shared slice %v, want %v", what, got, wantShared)
		}
		if g, w := viewOf(shared.Snapshot().Analysis), viewOf(plain.Snapshot().Analysis); fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("%s: verdicts differ from a State that shares nothing", what)
		}
	}
	shared.UpdateVRPs(vrps, nil)
	plain.UpdateVRPs(vrps, nil)
	same("first load", true)
	states := map[rov.State]int{}
	for _, o := range shared.Snapshot().Analysis.Outcomes {
		states[o.State]++
	}
	if states[rov.Valid] == 0 || states[rov.Invalid] == 0 || states[rov.NotFound] == 0 {
		t.Fatalf("states %v: the routes no longer exercise every state", states)
	}
	assert := []rov.VRP{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64501, TA: rov.SLURMTA}}
	shared.UpdateVRPs(assert, nil)
	plain.UpdateVRPs(assert, nil)
	same("with an assertion", false)
	shared.UpdateVRPs(nil, assert)
	plain.UpdateVRPs(nil, assert)
	same("assertion withdrawn", true)
	if st := shared.Stats(); st.VRPs != len(packed) {
		t.Fatalf("Stats().VRPs = %d, want %d", st.VRPs, len(packed))
	}
	// As the Set's deltas come (sorted, no TA): a first load that is the
	// shared set is taken without packing, and a delta that leaves the
	// shared set is taken without a merged copy.
	inOrder := make([]rov.VRP, len(packed))
	for i, p := range packed {
		inOrder[i] = p.Unpack(nil)
	}
	if !samePacked(inOrder, packed) || samePacked(inOrder[1:], packed) || samePacked(vrps, packed) != slices.Equal(vrps, inOrder) {
		t.Fatal("samePacked is wrong")
	}
	if !mergeWalk(packed, nil, packed[100:110], equalTo(slices.Concat(packed[:100], packed[110:]))) ||
		mergeWalk(packed, nil, packed[100:111], equalTo(slices.Concat(packed[:100], packed[110:]))) ||
		!mergeWalk(packed[1:], packed[:1], nil, equalTo(packed)) || mergeWalk(packed, nil, nil, equalTo(packed[1:])) {
		t.Fatal("mergeWalk with equalTo is wrong")
	}
	shared.UpdateVRPs(nil, inOrder)
	plain.UpdateVRPs(nil, inOrder)
	if shared.Stats().VRPs != 0 {
		t.Fatal("every VRP withdrawn: some left")
	}
	shared.UpdateVRPs(inOrder, nil)
	plain.UpdateVRPs(inOrder, nil)
	same("first load in the Set's order", true)
	cur = slices.Concat(packed[:100], packed[110:])
	shared.UpdateVRPs(nil, inOrder[100:110])
	plain.UpdateVRPs(nil, inOrder[100:110])
	same("delta", true)
	cur = packed
	shared.UpdateVRPs(inOrder[100:110], nil)
	plain.UpdateVRPs(inOrder[100:110], nil)
	same("delta back", true)
	// A delta the Set has not reached yet: the State's own copy.
	shared.UpdateVRPs(nil, inOrder[:5])
	plain.UpdateVRPs(nil, inOrder[:5])
	same("delta not in the shared set", false)
	// SetVRPs decides sharing in the same place: a reload that is the
	// shared set (in any order) holds it, one that is not keeps its own.
	shared.SetVRPs(vrps)
	plain.SetVRPs(vrps)
	same("SetVRPs of the shared set", true)
	shared.SetVRPs(vrps[1:])
	plain.SetVRPs(vrps[1:])
	same("SetVRPs of another set", false)
	cur = nil
	shared.SetVRPs(vrps)
	plain.SetVRPs(vrps)
	same("SetVRPs with nothing shared", false)
}
