package mrt

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/rovimpact/rovimpact/route"
)

// BGP message types (RFC 4271 §4.1, RFC 2918).
const (
	bgpHeaderLen    = 19
	bgpOpen         = 1
	bgpUpdate       = 2
	bgpNotification = 3
	bgpKeepalive    = 4
	bgpRouteRefresh = 5
)

// Parts of an UPDATE, in the order their events are yielded: withdrawals
// before announcements, as a BGP speaker applies them (RFC 4271 §9.1.4
// treats each UPDATE as withdrawals plus new routes).
const (
	partWithdrawn = iota // Withdrawn Routes field (IPv4)
	partMPUnreach        // MP_UNREACH_NLRI (RFC 4760 §4)
	partNLRI             // NLRI field (IPv4)
	partMPReach          // MP_REACH_NLRI (RFC 4760 §3)
	numParts
)

// updState iterates the prefixes of one UPDATE whose NLRI lists were
// checked before the first event was yielded.
type updState struct {
	peer    int
	part    int
	lists   [numParts][]byte
	v6      [numParts]bool
	addPath bool
}

// bgp4mp decodes a BGP4MP or BGP4MP_ET body (after the ET microseconds).
// It returns true when the record is itself an event (PeerDown).
func (r *Reader) bgp4mp(sub uint16, b []byte) bool {
	var as4, addPath, state bool
	switch sub {
	case bmStateChange:
		state = true
	case bmStateChangeAS4:
		state, as4 = true, true
	case bmMessage, bmMessageLocal:
	case bmMessageAS4, bmMessageAS4Local:
		as4 = true
	case bmMessageAP, bmMessageLocalAP:
		addPath = true
	case bmMessageAS4AP, bmMessageAS4LocalAP:
		as4, addPath = true, true
	default:
		r.skip("unknown_subtype")
		return false
	}
	// RFC 6396 §4.4.1/§4.4.2: Peer AS, Local AS (2 or 4 octets), Interface
	// Index, Address Family, Peer IP, Local IP.
	asSize := 2
	if as4 {
		asSize = 4
	}
	if len(b) < 2*asSize+4 {
		r.corrupt(fmt.Errorf("BGP4MP: header: %w", errTruncated))
		return false
	}
	var peerAS uint32
	if as4 {
		peerAS = binary.BigEndian.Uint32(b)
	} else {
		peerAS = uint32(binary.BigEndian.Uint16(b))
	}
	b = b[2*asSize:]
	afi := binary.BigEndian.Uint16(b[2:4])
	b = b[4:]
	var peerIP netip.Addr
	switch afi {
	case afiIPv4:
		if len(b) < 8 {
			r.corrupt(fmt.Errorf("BGP4MP: peer addresses: %w", errTruncated))
			return false
		}
		peerIP = netip.AddrFrom4([4]byte(b[:4]))
		b = b[8:]
	case afiIPv6:
		if len(b) < 32 {
			r.corrupt(fmt.Errorf("BGP4MP: peer addresses: %w", errTruncated))
			return false
		}
		peerIP = netip.AddrFrom16([16]byte(b[:16]))
		b = b[32:]
	default:
		r.corrupt(fmt.Errorf("BGP4MP: address family %d is neither IPv4 (1) nor IPv6 (2)", afi))
		return false
	}

	if state {
		if len(b) != 4 {
			r.corrupt(fmt.Errorf("BGP4MP STATE_CHANGE: %d state bytes, want 4", len(b)))
			return false
		}
		oldState := binary.BigEndian.Uint16(b)
		newState := binary.BigEndian.Uint16(b[2:])
		if oldState == bgpEstablished && newState != bgpEstablished {
			// Leaving Established flushes every route of the session
			// (RFC 4271 §8.2.2, "release all BGP resources").
			idx := r.peerFor(peerAS, peerIP)
			r.setEventHeader(route.PeerDown, idx, true)
			return true
		}
		r.skip("state_change")
		return false
	}

	if len(b) < bgpHeaderLen {
		r.corrupt(fmt.Errorf("BGP4MP: BGP message header: %w", errTruncated))
		return false
	}
	mlen := int(binary.BigEndian.Uint16(b[16:18]))
	if mlen < bgpHeaderLen || mlen > len(b) {
		r.corrupt(fmt.Errorf("BGP4MP: BGP message length %d, but %d bytes in the record", mlen, len(b)))
		return false
	}
	msg := b[bgpHeaderLen:mlen]
	local := sub == bmMessageLocal || sub == bmMessageAS4Local || sub == bmMessageLocalAP || sub == bmMessageAS4LocalAP
	switch b[18] {
	case bgpUpdate:
		if local {
			// RFC 6396 §4.4.5-4.4.6: a *_LOCAL record is a message the
			// monitored router sent, and its peer fields name the
			// recipient. Its routes are the router's own announcements,
			// not what the recipient receives: counted, never tabled (the
			// text reader does the same with bgpdump's LOCAL lines).
			r.skip("bgp4mp_local")
			return false
		}
	case bgpOpen:
		r.skip("bgp4mp_open")
		// An OPEN from the peer names its BGP Identifier (RFC 4271 §4.2).
		if !local && len(msg) >= 9 {
			idx := r.peerFor(peerAS, peerIP)
			r.peers[idx].BGPID = netip.AddrFrom4([4]byte(msg[5:9]))
		}
		return false
	case bgpNotification:
		r.skip("bgp4mp_notification")
		return false
	case bgpKeepalive:
		r.skip("bgp4mp_keepalive")
		return false
	case bgpRouteRefresh:
		r.skip("bgp4mp_route_refresh")
		return false
	default:
		r.skip("bgp4mp_unknown_message")
		return false
	}
	return r.update(msg, peerAS, peerIP, asSize, addPath)
}

// update checks an UPDATE body (RFC 4271 §4.3) and queues its withdrawals
// and announcements. Broken framing or NLRI make the record corrupt; a
// malformed attribute drops the announcements only (RFC 7606 §2
// "treat-as-withdraw": the withdrawals in the same UPDATE still apply).
func (r *Reader) update(u []byte, peerAS uint32, peerIP netip.Addr, asSize int, addPath bool) bool {
	if len(u) < 2 {
		r.corrupt(fmt.Errorf("UPDATE: withdrawn routes length: %w", errTruncated))
		return false
	}
	wlen := int(binary.BigEndian.Uint16(u))
	if len(u) < 2+wlen+2 {
		r.corrupt(fmt.Errorf("UPDATE: withdrawn routes length %d overruns the message", wlen))
		return false
	}
	withdrawn := u[2 : 2+wlen]
	u = u[2+wlen:]
	alen := int(binary.BigEndian.Uint16(u))
	if len(u) < 2+alen {
		r.corrupt(fmt.Errorf("UPDATE: path attribute length %d overruns the message", alen))
		return false
	}
	attrBlock := u[2 : 2+alen]
	nlri := u[2+alen:]
	nw, err := countPrefixes(withdrawn, false, addPath)
	if err != nil {
		r.corrupt(fmt.Errorf("UPDATE: withdrawn routes: %w", err))
		return false
	}
	nn, err := countPrefixes(nlri, false, addPath)
	if err != nil {
		r.corrupt(fmt.Errorf("UPDATE: NLRI: %w", err))
		return false
	}

	// Skips counted while decoding this UPDATE's attributes; an UPDATE that
	// yields nothing is counted as empty only if nothing else counted it.
	before := r.stats.Skipped["mp_not_unicast"] + r.stats.Skipped["malformed_attribute"]
	st := &r.upd
	*st = updState{addPath: addPath}
	st.lists[partWithdrawn] = withdrawn
	st.lists[partNLRI] = nlri
	events := nw

	attrErr := r.decodeAttrs(attrBlock, asSize, false)
	a := &r.attr
	if a.framed && a.mpUnreach != nil {
		if l, v6, ok := r.mpList(a.mpUnreach, 3, "MP_UNREACH_NLRI", addPath); ok {
			st.lists[partMPUnreach], st.v6[partMPUnreach] = l, v6
			n, _ := countPrefixes(l, v6, addPath)
			events += n
		}
	}
	var reach []byte
	var reachV6 bool
	nr := 0
	if a.framed && a.mpReach != nil {
		if len(a.mpReach) < 4 || len(a.mpReach) < 5+int(a.mpReach[3]) {
			if attrErr == nil {
				attrErr = fmt.Errorf("attribute MP_REACH_NLRI: next hop: %w", errTruncated)
			}
		} else if l, v6, ok := r.mpList(a.mpReach, 5+int(a.mpReach[3]), "MP_REACH_NLRI", addPath); ok {
			reach, reachV6 = l, v6
			nr, _ = countPrefixes(l, v6, addPath)
		}
	}
	if attrErr != nil {
		// Every announcement of this UPDATE is dropped, and counted.
		r.stats.Skipped["malformed_attribute"] += int64(max(1, nn+nr))
		r.addProblem(fmt.Sprintf("UPDATE: %v: %d announcements dropped", attrErr, nn+nr))
		st.lists[partNLRI] = nil
	} else {
		st.lists[partMPReach], st.v6[partMPReach] = reach, reachV6
		events += nn + nr
	}
	if events == 0 {
		// End-of-RIB markers (RFC 4724 §2) carry no event; UPDATEs whose
		// NLRI were all of another AFI/SAFI or dropped were counted above.
		if r.stats.Skipped["mp_not_unicast"]+r.stats.Skipped["malformed_attribute"] == before {
			r.skip("bgp4mp_update_empty")
		}
		return false
	}
	st.peer = r.peerFor(peerAS, peerIP)
	r.pend = pendUpdate
	return false
}

// mpList returns the NLRI list of an MP_(UN)REACH_NLRI value starting at
// off, when its AFI/SAFI is IPv4 or IPv6 unicast and the list is sound;
// other families and malformed lists are counted.
func (r *Reader) mpList(v []byte, off int, name string, addPath bool) ([]byte, bool, bool) {
	if len(v) < 3 {
		r.skip("malformed_attribute")
		r.addProblem(fmt.Sprintf("UPDATE: attribute %s: AFI/SAFI: %v", name, errTruncated))
		return nil, false, false
	}
	afi, safi := binary.BigEndian.Uint16(v), v[2]
	if safi != safiUnicast || (afi != afiIPv4 && afi != afiIPv6) {
		r.skip("mp_not_unicast")
		return nil, false, false
	}
	l := v[off:]
	v6 := afi == afiIPv6
	if _, err := countPrefixes(l, v6, addPath); err != nil {
		r.skip("malformed_attribute")
		r.addProblem(fmt.Sprintf("UPDATE: attribute %s: %v", name, err))
		return nil, false, false
	}
	return l, v6, true
}

func (r *Reader) addProblem(msg string) {
	if len(r.stats.Problems) < route.MaxProblems {
		r.stats.Problems = append(r.stats.Problems, route.Problem{Record: r.recNo, Offset: r.recOff, Err: msg})
	}
}

// nextUpdate yields the next withdrawal or announcement of the current
// UPDATE.
func (r *Reader) nextUpdate() bool {
	st := &r.upd
	for st.part < numParts {
		l := st.lists[st.part]
		if len(l) == 0 {
			st.part++
			continue
		}
		var pathID uint32
		if st.addPath {
			pathID = binary.BigEndian.Uint32(l)
			l = l[4:]
		}
		v6 := st.v6[st.part]
		pfx, n, _ := readPrefix(l, v6) // checked by countPrefixes
		if hostBits(l) {
			r.masked++
		}
		st.lists[st.part] = l[n:]
		kind := route.Announce
		if st.part == partWithdrawn || st.part == partMPUnreach {
			kind = route.Withdraw
		}
		r.setEventHeader(kind, st.peer, true)
		r.route.Prefix = pfx
		r.route.PathID = pathID
		if kind == route.Announce {
			r.fillAnnounce(st.part == partMPReach)
		}
		return true
	}
	return false
}
