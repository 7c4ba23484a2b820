package route

import "net/netip"

// Action is what one path event does to the Adj-RIB-In of the peer that
// sent it, as Replay decides it.
type Action uint8

const (
	// IgnoreKind: the event's Kind is none of Announce, Withdraw, PeerDown.
	IgnoreKind Action = iota
	// IgnorePrefix: an Announce or Withdraw whose prefix is not valid.
	IgnorePrefix
	// Add: an Announce of a (prefix, path id) the peer did not hold.
	Add
	// Replace: an Announce of a (prefix, path id) the peer held: the new
	// path replaces the old one.
	Replace
	// Remove: a Withdraw of a held (prefix, path id).
	Remove
	// WithdrawUnknown: a Withdraw of a (prefix, path id) the peer did not
	// hold; nothing changes.
	WithdrawUnknown
	// Flush: a PeerDown: every path of the peer goes.
	Flush
)

// Replay is the one Adj-RIB-In replay rule: what event kind does to the
// table of the peer it came from, keyed by the masked prefix and the path
// id. held reports whether that peer holds a path for (prefix, path id);
// Replay calls it only for an Announce or Withdraw of a valid prefix, so
// a table may look the path up (and create the peer) there and nowhere
// else. The table then carries the Action out.
//
// mrt.RIB, table.Ingester and live.State all apply events through it, so
// a dump replayed by any of them holds the same paths.
func Replay(kind Kind, prefix netip.Prefix, held func() bool) Action {
	switch kind {
	case PeerDown:
		// RFC 4271 §8.2.2 (Established, on a NOTIFICATION, a hold timer
		// expiry or a TCP failure): "deletes all routes associated with
		// this connection". Leaving Established releases every path the
		// session delivered.
		return Flush
	case Announce, Withdraw:
	default:
		return IgnoreKind
	}
	if !prefix.IsValid() {
		return IgnorePrefix
	}
	h := held()
	if kind == Withdraw {
		// RFC 4271 §9: "If the UPDATE message contains a non-empty
		// WITHDRAWN ROUTES field, the previously advertised routes, whose
		// destinations ... are contained in this field, SHALL be removed
		// from the Adj-RIB-In." Withdrawing what is not held removes
		// nothing (and is counted, not trusted).
		if h {
			return Remove
		}
		return WithdrawUnknown
	}
	// RFC 4271 §9: "If the UPDATE message contains a feasible route, the
	// Adj-RIB-In will be updated with this route as follows: if the NLRI
	// of the new route is identical to the one of a route currently
	// stored in the Adj-RIB-In, then the new route SHALL replace the older
	// route in the Adj-RIB-In ... Otherwise, ... the new route SHALL be
	// placed in the Adj-RIB-In." RFC 7911 §3 (ADD-PATH): the Path
	// Identifier "MUST be assigned in such a way that the BGP speaker is
	// able to use the (Prefix, Path Identifier) to uniquely identify a
	// path advertised to a neighbor", so the NLRI compared is (prefix,
	// path id); without ADD-PATH the path id is 0.
	if h {
		return Replace
	}
	return Add
}

// RIBStats counts what a replay did, one counter per Action (Add counts in
// Announced). The paths held are Announced - Withdrawn - Flushed.
type RIBStats struct {
	Announced        int64 // announcements that added a path
	Replaced         int64 // announcements that replaced the peer's path for (prefix, path id)
	Withdrawn        int64 // withdrawals that removed a path
	WithdrawnUnknown int64 // withdrawals of a path the table did not hold
	Flushed          int64 // paths removed because their peer left Established
	Ignored          int64 // events with an invalid prefix or unknown Kind
}

// Count records one Action; flushed is the number of paths a Flush
// removed (ignored otherwise).
func (s *RIBStats) Count(a Action, flushed int) {
	switch a {
	case IgnoreKind, IgnorePrefix:
		s.Ignored++
	case Add:
		s.Announced++
	case Replace:
		s.Replaced++
	case Remove:
		s.Withdrawn++
	case WithdrawUnknown:
		s.WithdrawnUnknown++
	case Flush:
		s.Flushed += int64(flushed)
	}
}
