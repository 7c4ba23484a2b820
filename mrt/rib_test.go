package mrt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/bgpdumptext"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// ribEv is a compact way to write one event in a test.
type ribEv struct {
	kind   route.Kind
	peer   int // index into ribTestPeers
	prefix string
	pathID uint32
	path   []uint32 // AS_SEQUENCE
}

var ribTestPeers = []route.PeerKey{
	{AS: 64500, IP: netip.MustParseAddr("192.0.2.1")},
	{AS: 64501, IP: netip.MustParseAddr("2001:db8::1")},
}

func ribApply(t *RIB, evs []ribEv) {
	for i, e := range evs {
		r := route.Route{Kind: e.kind, Time: time.Unix(int64(1000+i), 0).UTC(), PathID: e.pathID, RPKIState: route.RPKIAbsent}
		if e.prefix != "" {
			r.Prefix = netip.MustParsePrefix(e.prefix)
		}
		if e.path != nil {
			r.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: e.path}}
			r.Origin = rov.OriginOf(r.Path)
		}
		t.Apply(&r, ribTestPeers[e.peer])
	}
}

// ribDump renders All() as lines "prefix peerAS pathid path".
func ribDump(t *RIB) []string {
	var out []string
	for r := range t.All() {
		out = append(out, fmt.Sprintf("%s AS%d #%d %v", r.Prefix, r.Peer.AS, r.PathID, r.Path))
	}
	return out
}

// TestRIBApply pins the replay rules: an announcement replaces the peer's
// path for (prefix, path id) (RFC 4271 §3.2: "a new route ... replaces"
// the older one; RFC 7911 §3: the path id is part of the key), a
// withdrawal removes it, and a session leaving Established drops all its
// routes (RFC 4271 §8.2.2).
func TestRIBApply(t *testing.T) {
	tests := []struct {
		name  string
		evs   []ribEv
		want  []string
		stats route.RIBStats
	}{{
		name:  "announce",
		evs:   []ribEv{{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500, 64496}}},
		want:  []string{"192.0.2.0/24 AS64500 #0 [{2 [64500 64496]}]"},
		stats: route.RIBStats{Announced: 1},
	}, {
		name: "re-announce replaces the path (implicit withdraw, RFC 4271 §3.1)",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500, 64496}},
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500, 64497}},
		},
		want:  []string{"192.0.2.0/24 AS64500 #0 [{2 [64500 64497]}]"},
		stats: route.RIBStats{Announced: 1, Replaced: 1},
	}, {
		name: "withdraw removes",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500, 64496}},
			{route.Withdraw, 0, "192.0.2.0/24", 0, nil},
		},
		stats: route.RIBStats{Announced: 1, Withdrawn: 1},
	}, {
		name: "withdraw of an unknown prefix or path id is counted, not an error",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 1, []uint32{64500}},
			{route.Withdraw, 0, "192.0.2.0/24", 2, nil},
			{route.Withdraw, 0, "198.51.100.0/24", 0, nil},
			{route.Withdraw, 1, "192.0.2.0/24", 1, nil},
		},
		want:  []string{"192.0.2.0/24 AS64500 #1 [{2 [64500]}]"},
		stats: route.RIBStats{Announced: 1, WithdrawnUnknown: 3},
	}, {
		name: "peer down flushes only that peer",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500}},
			{route.Announce, 0, "198.51.100.0/24", 0, []uint32{64500}},
			{route.Announce, 1, "192.0.2.0/24", 0, []uint32{64501}},
			{route.PeerDown, 0, "", 0, nil},
			{route.Announce, 0, "203.0.113.0/24", 0, []uint32{64500}},
		},
		want: []string{
			"192.0.2.0/24 AS64501 #0 [{2 [64501]}]",
			"203.0.113.0/24 AS64500 #0 [{2 [64500]}]",
		},
		stats: route.RIBStats{Announced: 4, Flushed: 2},
	}, {
		name: "ADD-PATH ids are distinct paths (RFC 7911 §3)",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 2, []uint32{64500, 1}},
			{route.Announce, 0, "192.0.2.0/24", 1, []uint32{64500, 2}},
			{route.Withdraw, 0, "192.0.2.0/24", 2, nil},
			{route.Announce, 0, "192.0.2.0/24", 3, []uint32{64500, 3}},
		},
		want: []string{
			"192.0.2.0/24 AS64500 #1 [{2 [64500 2]}]",
			"192.0.2.0/24 AS64500 #3 [{2 [64500 3]}]",
		},
		stats: route.RIBStats{Announced: 3, Withdrawn: 1},
	}, {
		name: "same prefix from two peers; IPv6; order prefix, then peer",
		evs: []ribEv{
			{route.Announce, 1, "2001:db8::/32", 0, []uint32{64501}},
			{route.Announce, 1, "192.0.2.0/24", 0, []uint32{64501}},
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500}},
			{route.Announce, 0, "192.0.2.0/23", 0, []uint32{64500}},
		},
		want: []string{
			"192.0.2.0/23 AS64500 #0 [{2 [64500]}]",
			"192.0.2.0/24 AS64500 #0 [{2 [64500]}]",
			"192.0.2.0/24 AS64501 #0 [{2 [64501]}]",
			"2001:db8::/32 AS64501 #0 [{2 [64501]}]",
		},
		stats: route.RIBStats{Announced: 4},
	}, {
		name: "withdraw is per peer",
		evs: []ribEv{
			{route.Announce, 0, "192.0.2.0/24", 0, []uint32{64500}},
			{route.Announce, 1, "192.0.2.0/24", 0, []uint32{64501}},
			{route.Withdraw, 1, "192.0.2.0/24", 0, nil},
		},
		want:  []string{"192.0.2.0/24 AS64500 #0 [{2 [64500]}]"},
		stats: route.RIBStats{Announced: 2, Withdrawn: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rib := NewRIB()
			ribApply(rib, tt.evs)
			got := ribDump(rib)
			if !slices.Equal(got, tt.want) {
				t.Errorf("All():\ngot  %q\nwant %q", got, tt.want)
			}
			if rib.Stats() != tt.stats {
				t.Errorf("Stats() = %+v, want %+v", rib.Stats(), tt.stats)
			}
			if rib.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", rib.Len(), len(tt.want))
			}
		})
	}
}

// TestRIBAttributes checks that All returns the attributes of the last
// announcement and a Peer.Index into Peers().
func TestRIBAttributes(t *testing.T) {
	rib := NewRIB()
	path := []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64500, 4200000000}}, {Type: rov.ASSet, ASNs: []uint32{1, 2}}}
	tm := time.Unix(1445565678, 509481000).UTC()
	r := route.Route{Kind: route.Announce, Time: tm, Prefix: netip.MustParsePrefix("2001:db8::/48"), PathID: 9, Path: path,
		NextHop: netip.MustParseAddr("2001:db8::ff"), RPKIState: route.RPKIInvalid}
	rib.Apply(&route.Route{Kind: route.Announce, Prefix: r.Prefix, PathID: 9, RPKIState: route.RPKIValid}, ribTestPeers[1])
	rib.Apply(&r, ribTestPeers[1])
	var n int
	for got := range rib.All() {
		n++
		if got.Prefix != r.Prefix || got.PathID != 9 || !got.Time.Equal(tm) || got.NextHop != r.NextHop ||
			got.RPKIState != route.RPKIInvalid || got.Kind != route.Announce || got.FromUpdate {
			t.Errorf("got %+v", got)
		}
		if fmt.Sprint(got.Path) != fmt.Sprint([]rov.Segment{seq(64500, 4200000000), set(1, 2)}) {
			t.Errorf("path %v", got.Path)
		}
		if got.Origin != (rov.Origin{Kind: rov.OriginNone}) {
			t.Errorf("origin %+v, want NONE (final AS_SET, RFC 6811 §2)", got.Origin)
		}
		if rib.Peers()[got.Peer.Index] != ribTestPeers[1] || got.Peer.AS != 64501 {
			t.Errorf("peer %+v", got.Peer)
		}
	}
	if n != 1 {
		t.Fatalf("%d routes, want 1", n)
	}
}

// ribOracle is the obviously-correct table: a map from (peer, prefix,
// path id) to the last announced path, rendered as text.
type ribOracle map[string]string

func (o ribOracle) apply(r *route.Route, peer route.PeerKey) {
	pk := fmt.Sprintf("AS%d/%s", peer.AS, peer.IP)
	switch r.Kind {
	case route.Announce:
		o[fmt.Sprintf("%s %s #%d", r.Prefix, pk, r.PathID)] = fmt.Sprint(r.Path)
	case route.Withdraw:
		delete(o, fmt.Sprintf("%s %s #%d", r.Prefix, pk, r.PathID))
	case route.PeerDown:
		for k := range o {
			if strings.Contains(k, " "+pk+" ") {
				delete(o, k)
			}
		}
	}
}

func ribCompareOracle(t *testing.T, rib *RIB, o ribOracle) {
	t.Helper()
	got := make(map[string]string, rib.Len())
	for r := range rib.All() {
		got[fmt.Sprintf("%s AS%d/%s #%d", r.Prefix, r.Peer.AS, r.Peer.IP, r.PathID)] = fmt.Sprint(r.Path)
	}
	if len(got) != rib.Len() {
		t.Errorf("All() yielded %d distinct keys, Len() = %d", len(got), rib.Len())
	}
	if len(got) != len(o) {
		t.Errorf("table has %d paths, oracle %d", len(got), len(o))
	}
	bad := 0
	for k, v := range o {
		if got[k] != v && bad < 10 {
			bad++
			t.Errorf("%s: got %q, oracle %q", k, got[k], v)
		}
	}
}

// TestRIBReplayRRC21 replays the bgpdump text of the RIS rrc21 update
// file (40 peers, IPv4+IPv6, withdrawals, sessions going down) and compares
// the table with the map-based oracle.
func TestRIBReplayRRC21(t *testing.T) {
	out := testutil.Bgpdump(t, testutil.SharedData(t, "mrt/updates.20160811.1600.ris-rrc21.gz"), 1<<30)
	tr := bgpdumptext.NewReader(bytes.NewReader(out), "rrc21")
	rib := NewRIB()
	o := ribOracle{}
	for tr.Next() {
		r := tr.Route()
		rib.Apply(r, route.KeyOf(r.Peer))
		o.apply(r, route.KeyOf(r.Peer))
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	st := rib.Stats()
	// The 22 STATE lines of this file take down sessions that have sent
	// nothing yet, so Flushed stays 0 here; the random test covers flushes.
	if st.Withdrawn == 0 || st.Replaced == 0 || st.WithdrawnUnknown == 0 {
		t.Errorf("replay did not exercise every rule: %+v", st)
	}
	if int64(rib.Len()) != st.Announced-st.Withdrawn-st.Flushed {
		t.Errorf("Len %d != Announced-Withdrawn-Flushed in %+v", rib.Len(), st)
	}
	ribCompareOracle(t, rib, o)
	// All is deterministic: a second pass gives the same sequence.
	if a, b := ribDump(rib), ribDump(rib); !slices.Equal(a, b) {
		t.Error("All() differs between two passes")
	}
}

// TestRIBOrderIndependence: announcements for distinct (peer, prefix, path
// id) keys commute, so any order gives the same All() output; and a random
// event stream matches the oracle.
func TestRIBOrderIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var evs []ribEv
	for i := range 2000 {
		evs = append(evs, ribEv{route.Announce, i % 2, fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256), uint32(i % 3), []uint32{64500, uint32(i % 50)}})
	}
	a := NewRIB()
	ribApply(a, evs)
	shuffled := slices.Clone(evs)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := NewRIB()
	ribApply(b, shuffled)
	if da, db := ribDump(a), ribDump(b); !slices.Equal(da, db) {
		t.Errorf("All() depends on the order of commuting announcements")
	}

	// Random stream with replacements, withdrawals and peer downs.
	rib, o := NewRIB(), ribOracle{}
	for range 20000 {
		e := ribEv{kind: route.Kind(rng.IntN(10) / 4), peer: rng.IntN(2), prefix: fmt.Sprintf("10.0.%d.0/24", rng.IntN(64)), pathID: uint32(rng.IntN(3))}
		if e.kind == route.PeerDown && rng.IntN(20) != 0 {
			e.kind = route.Announce
		}
		if e.kind == route.Announce {
			e.path = []uint32{64500, uint32(rng.IntN(5))}
		}
		var r route.Route
		r.Kind, r.PathID, r.RPKIState = e.kind, e.pathID, route.RPKIAbsent
		if e.kind != route.PeerDown {
			r.Prefix = netip.MustParsePrefix(e.prefix)
		}
		if e.path != nil {
			r.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: e.path}}
		}
		rib.Apply(&r, ribTestPeers[e.peer])
		o.apply(&r, ribTestPeers[e.peer])
	}
	ribCompareOracle(t, rib, o)
}
