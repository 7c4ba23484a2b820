package route

import (
	"net/netip"
	"testing"
)

// TestReplay pins the Adj-RIB-In replay rule, case by case, to the RFC
// sentence each case comes from.
func TestReplay(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.0/24")
	cases := []struct {
		rule   string
		kind   Kind
		prefix netip.Prefix
		held   bool
		want   Action
		asked  bool // whether held must be consulted
	}{
		{"RFC 4271 §9: a feasible route not in the Adj-RIB-In SHALL be placed in it", Announce, p, false, Add, true},
		{"RFC 4271 §9: a route with identical NLRI SHALL replace the older route", Announce, p, true, Replace, true},
		{"RFC 7911 §3: (prefix, path id) identifies the path; same rule with ids", Announce, p, true, Replace, true},
		{"RFC 4271 §9: withdrawn routes SHALL be removed from the Adj-RIB-In", Withdraw, p, true, Remove, true},
		{"RFC 4271 §9: withdrawing a route not held removes nothing", Withdraw, p, false, WithdrawUnknown, true},
		{"RFC 4271 §8.2.2: leaving Established deletes all routes of the connection", PeerDown, netip.Prefix{}, false, Flush, false},
		{"RFC 4271 §8.2.2: flush whatever the event's prefix field holds", PeerDown, p, true, Flush, false},
		{"no RFC: an invalid prefix cannot name an Adj-RIB-In entry", Announce, netip.Prefix{}, true, IgnorePrefix, false},
		{"no RFC: an invalid prefix cannot name an Adj-RIB-In entry (withdraw)", Withdraw, netip.Prefix{}, true, IgnorePrefix, false},
		{"no RFC: an unknown event kind changes nothing", Kind(9), p, true, IgnoreKind, false},
	}
	for _, c := range cases {
		asked := false
		got := Replay(c.kind, c.prefix, func() bool { asked = true; return c.held })
		if got != c.want {
			t.Errorf("%s: Replay(%d, %v, held=%v) = %d, want %d", c.rule, c.kind, c.prefix, c.held, got, c.want)
		}
		if asked != c.asked {
			t.Errorf("%s: held consulted = %v, want %v", c.rule, asked, c.asked)
		}
	}
}

// TestRIBStatsCount checks that every Action lands in its counter, so
// Announced - Withdrawn - Flushed stays the number of paths held.
func TestRIBStatsCount(t *testing.T) {
	var s RIBStats
	for _, a := range []Action{Add, Add, Add, Replace, Remove, WithdrawUnknown, IgnoreKind, IgnorePrefix} {
		s.Count(a, 0)
	}
	s.Count(Flush, 2)
	want := RIBStats{Announced: 3, Replaced: 1, Withdrawn: 1, WithdrawnUnknown: 1, Flushed: 2, Ignored: 2}
	if s != want {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
	if held := s.Announced - s.Withdrawn - s.Flushed; held != 0 {
		t.Fatalf("held %d, want 0", held)
	}
}
