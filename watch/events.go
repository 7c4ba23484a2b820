package watch

import (
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Causes of an invalid route's change, as far as the two snapshots tell.
const (
	causeAnnounced   = "route_announced"      // the route was not in the table before
	causeWithdrawn   = "route_withdrawn"      // the route is no longer in the table
	causeSessionDown = "session_down"         // ... and a session carrying it went down
	causeVRPs        = "vrps_changed"         // the route stayed; its verdict changed with the VRPs
	causeCover       = "other_routes_changed" // same class, other impact: a covering or more-specific route came, went or changed
)

// cause tells why a change happened from what the snapshots already
// hold: whether the route is in the previous and the next table, and
// whether its class changed (only VRPs change a class) or only its impact
// (other routes decide impact). down are the peers whose sessions went
// down since prev.
func cause(prev, next *live.Snapshot, c live.Change, down map[peerID]bool) string {
	inPrev := prev != nil && has(prev, c.Prefix, c.Origin)
	inNext := has(next, c.Prefix, c.Origin)
	switch c.Kind {
	case live.Appeared:
		if inPrev {
			return causeVRPs
		}
		return causeAnnounced
	case live.Disappeared:
		if inNext {
			return causeVRPs
		}
		if prev != nil && carriedBy(prev, c.Prefix, c.Origin, down) {
			return causeSessionDown
		}
		return causeWithdrawn
	default:
		if c.Class != c.OldClass {
			return causeVRPs
		}
		return causeCover
	}
}

// pendingDown is a session_down event waiting one check for its count.
type pendingDown struct {
	id peerID
	ev alert.Event
}

// peerID names a peer as sessions and tables both can: AS and address.
type peerID struct {
	ip netip.Addr
	as uint32
}

// has reports whether s holds the route (by its origin as reports show
// it); s may be a full snapshot or a DiffBase.
func has(s *live.Snapshot, p netip.Prefix, o rov.Origin) bool {
	_, ok := key(s, p, o)
	return ok
}

// key finds a route by its origin as reports show it and returns the
// origin the table keys it by: a route the local AS originates is keyed by
// OriginLocal in the table.
func key(s *live.Snapshot, p netip.Prefix, o rov.Origin) (rov.Origin, bool) {
	if s.Has(p, o) {
		return o, true
	}
	if local := (rov.Origin{Kind: rov.OriginLocal}); o.Kind == rov.OriginAS && o.ASN == s.LocalAS() && s.Has(p, local) {
		return local, true
	}
	return rov.Origin{}, false
}

// carriers lists the peers carrying the route in s: any route of a full
// snapshot, the invalid routes of a DiffBase (the only routes cause asks
// about in the previous snapshot: Disappeared changes).
func carriers(s *live.Snapshot, p netip.Prefix, o rov.Origin) []route.PeerKey {
	ko, ok := key(s, p, o)
	if !ok {
		return nil
	}
	keys, _ := s.Carriers(p, ko, nil)
	return keys
}

func carriedBy(s *live.Snapshot, p netip.Prefix, o rov.Origin, peers map[peerID]bool) bool {
	if len(peers) == 0 {
		return false
	}
	for _, k := range carriers(s, p, o) {
		if peers[peerID{k.IP, k.AS}] {
			return true
		}
	}
	return false
}

// decidingVRP is the most telling VRP of the route's verdict in s ("" when
// none covers it; s a full snapshot, or a DiffBase and the route one of
// its invalid routes).
func decidingVRP(s *live.Snapshot, p netip.Prefix, o rov.Origin) string {
	ko, ok := key(s, p, o)
	if !ok {
		return ""
	}
	v, ok := s.DecidingVRP(p, ko)
	if !ok {
		return ""
	}
	return v.String()
}

// changeEvent is a change as an alert event.
func changeEvent(c live.Change, why, vrp string, now time.Time) alert.Event {
	o := c.Origin
	e := alert.Event{Name: "invalid_" + c.Kind.String(), Time: now, Cause: why, Prefix: c.Prefix, Origin: &o,
		Class: c.Class, Impact: c.Impact, OldClass: c.OldClass, OldImpact: c.OldImpact, Paths: c.Paths, Peers: c.Peers, VRP: vrp}
	if c.Kind == live.Disappeared {
		e.Class, e.Impact, e.Clear = classify.None, classify.ImpactNone, true
	}
	return e
}

// firstCarrier is the first of the down peers that carried the route in
// s (the summary counts each route once).
func firstCarrier(s *live.Snapshot, c live.Change, down map[peerID]bool) peerID {
	for _, k := range carriers(s, c.Prefix, c.Origin) {
		if p := (peerID{k.IP, k.AS}); down[p] {
			return p
		}
	}
	return peerID{}
}

// onlyFrom: every peer carrying the route in s is loading its initial
// table (or finished it at this check).
func onlyFrom(s *live.Snapshot, c live.Change, loading map[peerID]loadState, loaded map[peerID]bool) bool {
	if len(loading) == 0 && len(loaded) == 0 {
		return false
	}
	if _, ok := key(s, c.Prefix, c.Origin); !ok {
		return false
	}
	for _, k := range carriers(s, c.Prefix, c.Origin) {
		p := peerID{k.IP, k.AS}
		if _, l := loading[p]; !l && !loaded[p] {
			return false
		}
	}
	return true
}
