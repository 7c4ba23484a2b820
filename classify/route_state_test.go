package classify

import (
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// TestRouteState pins the one bucket every tally counts a route in
// (reports.Build's summary, live.Snapshot.Counts, serve's per-peer
// counts), decided by ClassifyRoute as Analyze decides it: RFC 6811 §2's
// three states, and before them the project's Unvalidated rule
// (ClassifyRoute, Outcome.Unvalidated): an origin that is the local AS
// (RFC 6811 §2: an empty AS_PATH or a final AS_CONFED_* segment gives "the
// BGP speaker's own AS") with no --local-as is not validated at all, not
// guessed into NotFound, whatever the VRPs say.
func TestRouteState(t *testing.T) {
	c := NewClassifier(rov.NewIndex([]rov.VRP{cvrp("192.0.2.0/24", 24, 64500)}))
	cases := []struct {
		name    string
		prefix  string
		origin  rov.Origin
		localAS uint32
		want    RouteState
		text    string
	}{
		{"RFC 6811 §2 NotFound: no VRP covers the route prefix", "198.51.100.0/24", asn(64500), 0, StateNotFound, "not_found"},
		{"RFC 6811 §2 Valid: a VRP matches the route prefix", "192.0.2.0/24", asn(64500), 0, StateValid, "valid"},
		{"RFC 6811 §2 Invalid: covered, but by another AS's VRP", "192.0.2.0/24", asn(64501), 0, StateInvalid, "invalid"},
		{"RFC 6811 §2 Invalid: covered, longer than maxLength", "192.0.2.0/25", asn(64500), 0, StateInvalid, "invalid"},
		{"RFC 6811 §2 Invalid: origin NONE (final AS_SET) covered", "192.0.2.0/24", none, 0, StateInvalid, "invalid"},
		{"unvalidated: local origin under a VRP, no --local-as (not valid or invalid)", "192.0.2.0/24", local, 0, StateUnvalidated, "unvalidated"},
		{"unvalidated: local origin not covered, no --local-as (not not_found)", "198.51.100.0/24", local, 0, StateUnvalidated, "unvalidated"},
		{"local origin resolved by --local-as: its RFC 6811 state, valid", "192.0.2.0/24", local, 64500, StateValid, "valid"},
		{"local origin resolved by --local-as: its RFC 6811 state, invalid", "192.0.2.0/24", local, 64501, StateInvalid, "invalid"},
		{"--local-as does not touch another origin: not_found", "198.51.100.0/24", asn(64501), 64500, StateNotFound, "not_found"},
	}
	seen := map[RouteState]bool{}
	for _, tc := range cases {
		r := table.Route{Prefix: netip.MustParsePrefix(tc.prefix), Origin: tc.origin, Paths: 1}
		out, _ := ClassifyRoute(c, r, Options{LocalAS: tc.localAS})
		got := out.RouteState()
		if got != tc.want {
			t.Errorf("%s: RouteState = %v, want %v", tc.name, got, tc.want)
		}
		if b, err := got.MarshalText(); err != nil || string(b) != tc.text {
			t.Errorf("%s: MarshalText = %q, %v, want %q", tc.name, b, err, tc.text)
		}
		seen[got] = true
	}
	for s := StateNotFound; s <= StateUnvalidated; s++ {
		if !seen[s] {
			t.Errorf("no case gives %v: every bucket needs a row", s)
		}
	}
	// Unvalidated goes before State whatever State holds: outcomes also
	// come from a snapshot file and the live table, not only from
	// ClassifyRoute (which leaves State NotFound).
	for _, st := range []rov.State{rov.NotFound, rov.Valid, rov.Invalid} {
		if got := (Outcome{Unvalidated: true, State: st}).RouteState(); got != StateUnvalidated {
			t.Errorf("Outcome{Unvalidated, State: %v}.RouteState() = %v, want unvalidated", st, got)
		}
	}
}
