package live

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

func changeString(c Change) string {
	dash := func(s fmt.Stringer) string {
		if s.String() == "" {
			return "-"
		}
		return s.String()
	}
	return fmt.Sprintf("%s %s AS%d %s/%s -> %s/%s paths=%d peers=%d", c.Kind, c.Prefix, c.Origin.ASN,
		dash(c.OldClass), dash(c.OldImpact), dash(c.Class), dash(c.Impact), c.Paths, c.Peers)
}

func TestDiff(t *testing.T) {
	vrp := func(p string, maxLen uint8, asn uint32) rov.VRP {
		return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: maxLen, ASN: asn}
	}
	// Before: 10.0.0.0/8-16 AS2 and 10.2.0.0/16 AS3 are the VRPs.
	//   10.0.0.0/16 AS1  invalid wrong_origin, unreachable (2 paths, 2 peers)
	//   10.1.0.0/24 AS2  invalid too_specific, unreachable
	//   10.2.0.0/16 AS3  valid
	//   10.3.0.0/16 AS1  invalid wrong_origin, unreachable
	vrps := []rov.VRP{vrp("10.0.0.0/8", 16, 2), vrp("10.2.0.0/16", 16, 3)}
	before := []bgp.Route{
		ann(peerA, "10.0.0.0/16", 0, seq(64501, 1)),
		ann(peerB, "10.0.0.0/16", 0, seq(64502, 1)),
		ann(peerA, "10.1.0.0/24", 0, seq(64501, 2)),
		ann(peerA, "10.2.0.0/16", 0, seq(64501, 3)),
		ann(peerA, "10.3.0.0/16", 0, seq(64501, 1)),
	}
	tests := []struct {
		name   string
		events []bgp.Route
		ann    []rov.VRP
		wd     []rov.VRP
		want   []string
	}{
		{
			name: "nothing changed",
			want: nil,
		},
		{
			name:   "a path more or less does not make a change",
			events: []bgp.Route{wd(peerB, "10.0.0.0/16", 0)},
			want:   nil,
		},
		{
			name:   "appeared: a new invalid route",
			events: []bgp.Route{ann(peerB, "10.4.0.0/16", 0, seq(64502, 9))},
			want:   []string{"appeared 10.4.0.0/16 AS9 -/- -> wrong_origin/unreachable paths=1 peers=1"},
		},
		{
			name: "appeared: a valid route turns invalid when its VRP leaves (RFC 6811 §2: the covering 10/8 remains)",
			wd:   []rov.VRP{vrp("10.2.0.0/16", 16, 3)},
			want: []string{"appeared 10.2.0.0/16 AS3 -/- -> wrong_origin/unreachable paths=1 peers=1"},
		},
		{
			name:   "disappeared: the invalid route is withdrawn (paths and peers as they were)",
			events: []bgp.Route{wd(peerA, "10.0.0.0/16", 0), wd(peerB, "10.0.0.0/16", 0)},
			want:   []string{"disappeared 10.0.0.0/16 AS1 wrong_origin/unreachable -> -/- paths=2 peers=2"},
		},
		{
			name: "disappeared: a VRP makes the invalid route valid",
			ann:  []rov.VRP{vrp("10.3.0.0/16", 16, 1)},
			want: []string{"disappeared 10.3.0.0/16 AS1 wrong_origin/unreachable -> -/- paths=1 peers=1"},
		},
		{
			name: "changed class: the origin's VRP inside turns wrong_origin into too_short",
			ann:  []rov.VRP{vrp("10.3.1.0/24", 24, 1)},
			want: []string{"changed 10.3.0.0/16 AS1 wrong_origin/unreachable -> too_short/unreachable paths=1 peers=1"},
		},
		{
			name:   "changed impact: a surviving covering route appears",
			events: []bgp.Route{ann(peerB, "10.1.0.0/16", 0, seq(64502, 2))},
			want:   []string{"changed 10.1.0.0/24 AS2 too_specific/unreachable -> too_specific/covered paths=1 peers=1"},
		},
		{
			name: "several at once, sorted by prefix",
			events: []bgp.Route{
				ann(peerB, "10.4.0.0/16", 0, seq(64502, 9)),
				ann(peerB, "10.1.0.0/16", 0, seq(64502, 2)),
				ann(peerA, "10.0.0.0/16", 0, seq(64501, 2)), // replaces AS1's path from peerA
			},
			ann: []rov.VRP{vrp("10.3.0.0/16", 16, 1)},
			want: []string{
				// Its peerA path moved to the valid AS2 route at the same prefix.
				"changed 10.0.0.0/16 AS1 wrong_origin/unreachable -> wrong_origin/same_prefix paths=1 peers=1",
				"changed 10.1.0.0/24 AS2 too_specific/unreachable -> too_specific/covered paths=1 peers=1",
				"disappeared 10.3.0.0/16 AS1 wrong_origin/unreachable -> -/- paths=1 peers=1",
				"appeared 10.4.0.0/16 AS9 -/- -> wrong_origin/unreachable paths=1 peers=1",
			},
		},
		{
			name:   "the same prefix with another origin is another route",
			events: []bgp.Route{ann(peerA, "10.0.0.0/16", 0, seq(64501, 7)), ann(peerB, "10.0.0.0/16", 0, seq(64502, 7))},
			want: []string{
				"disappeared 10.0.0.0/16 AS1 wrong_origin/unreachable -> -/- paths=2 peers=2",
				"appeared 10.0.0.0/16 AS7 -/- -> wrong_origin/unreachable paths=2 peers=2",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			s.SetVRPs(vrps)
			for i := range before {
				s.Apply(&before[i])
			}
			prev := s.Snapshot()
			for i := range tc.events {
				s.Apply(&tc.events[i])
			}
			if tc.ann != nil || tc.wd != nil {
				s.UpdateVRPs(tc.ann, tc.wd)
			}
			var got []string
			for _, c := range Diff(prev, s.Snapshot()) {
				got = append(got, changeString(c))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("diff\n got %q\nwant %q", got, tc.want)
			}
		})
	}

	t.Run("prev nil: every invalid appeared; next nil: every invalid disappeared", func(t *testing.T) {
		s := New(Options{Classify: classify.Options{ASSet: classify.ASSetWithdraw}})
		s.SetVRPs(vrps)
		evs := append(slices.Clone(before), ann(peerA, "192.0.2.0/24", 0, []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64501}}, {Type: rov.ASSet, ASNs: []uint32{5, 6}}}))
		for i := range evs {
			s.Apply(&evs[i])
		}
		snap := s.Snapshot()
		var got []string
		for _, c := range Diff(nil, snap) {
			got = append(got, changeString(c))
		}
		want := []string{
			"appeared 10.0.0.0/16 AS1 -/- -> wrong_origin/unreachable paths=2 peers=2",
			"appeared 10.1.0.0/24 AS2 -/- -> too_specific/unreachable paths=1 peers=1",
			"appeared 10.3.0.0/16 AS1 -/- -> wrong_origin/unreachable paths=1 peers=1",
			// --as-set withdraw drops it although NotFound: ROV rejects it.
			"appeared 192.0.2.0/24 AS0 -/- -> -/unreachable paths=1 peers=1",
		}
		if !slices.Equal(got, want) {
			t.Errorf("Diff(nil, snap)\n got %q\nwant %q", got, want)
		}
		got = got[:0]
		for _, c := range Diff(snap, nil) {
			got = append(got, changeString(c))
		}
		if len(got) != 4 || got[0] != "disappeared 10.0.0.0/16 AS1 wrong_origin/unreachable -> -/- paths=2 peers=2" {
			t.Errorf("Diff(snap, nil) = %q", got)
		}
		if d := Diff(snap, snap); len(d) != 0 {
			t.Errorf("Diff(snap, snap) = %v", d)
		}
	})
}

func TestChangeKindString(t *testing.T) {
	for k, want := range map[ChangeKind]string{Appeared: "appeared", Disappeared: "disappeared", Changed: "changed", 9: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("%d: got %q, want %q", k, got, want)
		}
	}
}

// TestDiffBase: diffing against a snapshot's DiffBase (no analysis kept)
// gives exactly the changes diffing against the snapshot itself gives,
// through random events and VRP changes.
func TestDiffBase(t *testing.T) {
	for seed := range uint64(10) {
		g := newGen(seed)
		s := New(Options{})
		s.SetVRPs(g.vrps(30))
		prev := s.Snapshot()
		base := prev.DiffBase()
		for step := range 200 {
			if step%25 == 24 {
				s.SetVRPs(g.vrps(30))
			} else {
				r, _ := g.event(g.r.IntN(90))
				s.Apply(&r)
			}
			next := s.Snapshot()
			want, got := Diff(prev, next), Diff(base, next)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d step %d: Diff from DiffBase\n%+v\nwant\n%+v", seed, step, got, want)
			}
			if base.Analysis != nil || base.Epoch != prev.Epoch {
				t.Fatalf("DiffBase keeps the analysis or loses the epoch")
			}
			prev, base = next, next.DiffBase()
		}
	}
}
