package collector

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
)

// updateConverter turns one BGP UPDATE carried in BMP route monitoring
// into Route events, through the same decoder (and RFC 7606 handling) as a
// BGP session. It reuses its Route and the decoder's buffers across calls.
// Not safe for concurrent use.
type updateConverter struct {
	maxPrefixes int // per peer; 0: no limit, no tracking
	route       route.Route
	dec         mrt.UpdateDecoder
	opts        mrt.UpdateOptions
}

// bmpRouteMonitoring handles a Route Monitoring message (RFC 7854 §4.6):
// the per-peer header, then one BGP UPDATE PDU, decoded by
// mrt.UpdateDecoder.
func (s *bmpSession) bmpRouteMonitoring(msg []byte) error {
	if len(msg) < bmp.BMP_HEADER_SIZE+bmp.BMP_PEER_HEADER_SIZE {
		return fmt.Errorf("route monitoring: per-peer header truncated: %w", errParse)
	}
	var m bmp.BMPMessage
	if err := m.PeerHeader.DecodeFromBytes(msg[bmp.BMP_HEADER_SIZE:]); err != nil {
		return fmt.Errorf("route monitoring: per-peer header: %w", errParse)
	}
	pdu := msg[bmp.BMP_HEADER_SIZE+bmp.BMP_PEER_HEADER_SIZE:]
	if len(pdu) < bgpHeaderLen || !marker(pdu) {
		return fmt.Errorf("route monitoring without BGP message: %w", errParse)
	}
	if l := int(binary.BigEndian.Uint16(pdu[16:18])); l < bgpHeaderLen || l != len(pdu) {
		return fmt.Errorf("route monitoring: BGP message length %d, %d octets carried: %w", l, len(pdu), errParse)
	}
	if pdu[18] != bgp.BGP_MSG_UPDATE {
		return fmt.Errorf("route monitoring carries BGP type %d, not UPDATE: %w", pdu[18], errParse)
	}
	return s.routeMonitoring(&m, pdu[bgpHeaderLen:])
}

func (s *bmpSession) routeMonitoring(m *bmp.BMPMessage, body []byte) error {
	h := &m.PeerHeader
	// RFC 7854 §4.2: L flag set = post-policy Adj-RIB-In; RFC 8671 §4: O flag
	// set = Adj-RIB-Out; RFC 9069 §4.1: peer type 3 = Loc-RIB (post-policy).
	switch {
	case h.PeerType == bmp.BMP_PEER_TYPE_LOCAL_RIB:
		if !s.post {
			s.em.skip("bmp_loc_rib", 1)
			return nil
		}
	case h.IsAdjRIBOut():
		s.em.skip("bmp_adj_rib_out", 1)
		return nil
	case h.IsPostPolicy() != s.post:
		if s.post {
			s.em.skip("bmp_pre_policy", 1)
		} else {
			s.em.skip("bmp_post_policy", 1)
		}
		return nil
	}
	// The UPDATE is decoded before the peer is looked up or created: a
	// message that fails must change nothing, and a per-peer header that
	// names a new session for a held address supersedes (flushes) the old
	// peer only once the message is accepted. A new peer has no ADD-PATH
	// options until its Peer Up, so decoding with the held peer's (or
	// none) is what the peer found or made below would give.
	_, _, held := s.held(h)
	c := &s.conv
	// RFC 7854 §4.2: "The A flag, if set to 1, indicates that the message
	// is formatted using the legacy 2-byte AS_PATH format. If set to 0, the
	// message is formatted using the 4-byte AS_PATH format [RFC6793]."
	c.opts = mrt.UpdateOptions{AS4: h.Flags&bmp.BMP_PEER_FLAG_TWO_AS == 0}
	if held != nil {
		for _, o := range held.opts {
			c.opts.AddPath[mrt.IPv4Unicast] = c.opts.AddPath[mrt.IPv4Unicast] || o.AddPath[bgp.RF_IPv4_UC]&bgp.BGP_ADD_PATH_RECEIVE != 0
			c.opts.AddPath[mrt.IPv6Unicast] = c.opts.AddPath[mrt.IPv6Unicast] || o.AddPath[bgp.RF_IPv6_UC]&bgp.BGP_ADD_PATH_RECEIVE != 0
		}
	}
	u := c.dec.Decode(body, &c.opts)
	if u.Handling() == mrt.SessionReset {
		// The monitored router resets this session itself, and its Peer
		// Down will flush the peer; the station skips the message.
		return fmt.Errorf("UPDATE: %w: %w", u.Err, errParse)
	}
	p := s.peer(h)
	if p == nil {
		return nil // over the peer limit: counted by peer
	}
	switch u.Handling() {
	case mrt.AFISAFIDisable:
		// The router disables the family; the decoder dropped its NLRI
		// from this UPDATE (the station keeps no per-family state).
		s.em.skip("afisafi_disable", 1)
	case mrt.TreatAsWithdraw:
		s.em.skip("treat_as_withdraw", 1)
	case mrt.AttributeDiscard:
		s.em.skip("attribute_discard", 1)
	}
	s.em.mu.Lock()
	defer s.em.mu.Unlock()
	if u.Ignored > 0 {
		s.em.stats.Skipped["family"] += int64(u.Ignored)
	}
	if u.EndOfRIB {
		// RFC 7854 §5: a router ends the initial dump of a peer's
		// Adj-RIB-In with its End-of-RIB markers; once every family of
		// the session has sent one, the peer's initial table is complete.
		if p.up && !p.eorDone && p.families[u.EORFamily] {
			p.eor[u.EORFamily] = true
			p.eorDone = true
			for f, on := range p.families {
				p.eorDone = p.eorDone && (!on || p.eor[f])
			}
			if p.eorDone {
				s.em.sessionLocked(SessionEvent{Peer: p.peer, State: SessionEstablished, Router: s.router, EndOfRIB: true, Time: stamp(h)})
			}
		}
		return nil
	}
	c.emit(u, p, stamp(h), s.em)
	return nil
}

// emit sends the withdrawals, then the announcements of u for bp; em.mu
// must be held.
func (c *updateConverter) emit(u *mrt.Update, bp *bmpPeer, t time.Time, em *emitter) {
	peer := bp.peer
	if c.maxPrefixes > 0 && bp.paths == nil {
		bp.paths = map[pathKey]struct{}{}
	}
	for _, n := range u.Withdrawn {
		if bp.paths != nil {
			delete(bp.paths, pathKey{n.Prefix, n.PathID})
		}
		c.route = route.Route{Kind: route.Withdraw, Time: t, Peer: peer, Prefix: n.Prefix, PathID: n.PathID,
			RPKIState: route.RPKIAbsent, FromUpdate: true, Path: c.route.Path[:0]}
		em.emitLocked(&c.route)
	}
	for _, n := range u.Announced {
		if bp.paths != nil {
			k := pathKey{n.Prefix, n.PathID}
			if _, held := bp.paths[k]; !held {
				if len(bp.paths) >= c.maxPrefixes {
					em.stats.Skipped["prefix_limit"]++
					continue
				}
				bp.paths[k] = struct{}{}
			}
		}
		c.route = route.Route{Kind: route.Announce, Time: t, Peer: peer, Prefix: n.Prefix, PathID: n.PathID,
			NextHop: u.NextHopOf(n), RPKIState: u.RPKI, FromUpdate: true, Path: u.Path, Origin: u.Origin}
		em.emitLocked(&c.route)
	}
	c.route.Path = nil // it aliased the decoder's buffer
}
