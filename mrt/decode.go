package mrt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// TABLE_DUMP_V2 subtypes (RFC 6396 §4.3, RFC 8050 §4).
const (
	tdPeerIndexTable   = 1
	tdRIBIPv4Unicast   = 2
	tdRIBIPv4Multicast = 3
	tdRIBIPv6Unicast   = 4
	tdRIBIPv6Multicast = 5
	tdRIBGeneric       = 6
	tdGeoPeerTable     = 7
	tdRIBIPv4UnicastAP = 8
	tdRIBIPv4McastAP   = 9
	tdRIBIPv6UnicastAP = 10
	tdRIBIPv6McastAP   = 11
	tdRIBGenericAP     = 12
)

// BGP4MP subtypes (RFC 6396 §4.4, RFC 8050 §3).
const (
	bmStateChange       = 0
	bmMessage           = 1
	bmMessageAS4        = 4
	bmStateChangeAS4    = 5
	bmMessageLocal      = 6
	bmMessageAS4Local   = 7
	bmMessageAP         = 8
	bmMessageAS4AP      = 9
	bmMessageLocalAP    = 10
	bmMessageAS4LocalAP = 11
)

// BGP path attribute type codes.
const (
	attrASPath       = 2
	attrNextHop      = 3
	attrMPReach      = 14
	attrMPUnreach    = 15
	attrExtCommunity = 16
	attrAS4Path      = 17
)

const (
	afiIPv4     = 1
	afiIPv6     = 2
	safiUnicast = 1
)

// bgpEstablished is the Established state in BGP4MP STATE_CHANGE
// (RFC 6396 §4.4.1).
const bgpEstablished = 6

// ribState iterates the entries of one TABLE_DUMP_V2 RIB record, whose
// framing was checked before the first entry was yielded.
type ribState struct {
	prefix  netip.Prefix
	entries []byte
	left    int
	addPath bool
}

// --- TABLE_DUMP_V2 ---

func (r *Reader) tableDumpV2(sub uint16, b []byte) {
	switch sub {
	case tdPeerIndexTable:
		if err := r.peerIndexTable(b); err != nil {
			r.corrupt(fmt.Errorf("PEER_INDEX_TABLE: %w", err))
		}
	case tdRIBIPv4Unicast:
		r.startRIB(b, false, false)
	case tdRIBIPv6Unicast:
		r.startRIB(b, true, false)
	case tdRIBIPv4UnicastAP:
		r.startRIB(b, false, true)
	case tdRIBIPv6UnicastAP:
		r.startRIB(b, true, true)
	case tdRIBIPv4Multicast, tdRIBIPv6Multicast, tdRIBIPv4McastAP, tdRIBIPv6McastAP:
		r.skip("multicast")
	case tdRIBGeneric, tdRIBGenericAP:
		r.skip("rib_generic")
	case tdGeoPeerTable:
		r.skip("geo_peer_table")
	default:
		r.skip("unknown_subtype")
	}
}

// peerIndexTable decodes RFC 6396 §4.3.1 and replaces the peer list: the
// RIB entries that follow index into it.
func (r *Reader) peerIndexTable(b []byte) error {
	peers, err := parsePeerIndex(b)
	if err != nil {
		return err
	}
	r.peers = peers
	clear(r.peerByKey)
	return nil
}

// parsePeerIndex decodes a PEER_INDEX_TABLE body (RFC 6396 §4.3.1).
func parsePeerIndex(b []byte) ([]route.Peer, error) {
	if len(b) < 6 {
		return nil, errTruncated
	}
	nameLen := int(binary.BigEndian.Uint16(b[4:6]))
	b = b[6:]
	if len(b) < nameLen+2 {
		return nil, errTruncated
	}
	b = b[nameLen:]
	count := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	peers := make([]route.Peer, 0, count)
	for i := 0; i < count; i++ {
		if len(b) < 5 {
			return nil, fmt.Errorf("peer %d: %w", i, errTruncated)
		}
		typ := b[0]
		id := netip.AddrFrom4([4]byte(b[1:5]))
		b = b[5:]
		var ip netip.Addr
		if typ&1 != 0 {
			if len(b) < 16 {
				return nil, fmt.Errorf("peer %d: %w", i, errTruncated)
			}
			ip = netip.AddrFrom16([16]byte(b[:16]))
			b = b[16:]
		} else {
			if len(b) < 4 {
				return nil, fmt.Errorf("peer %d: %w", i, errTruncated)
			}
			ip = netip.AddrFrom4([4]byte(b[:4]))
			b = b[4:]
		}
		var as uint32
		if typ&2 != 0 {
			if len(b) < 4 {
				return nil, fmt.Errorf("peer %d: %w", i, errTruncated)
			}
			as = binary.BigEndian.Uint32(b)
			b = b[4:]
		} else {
			if len(b) < 2 {
				return nil, fmt.Errorf("peer %d: %w", i, errTruncated)
			}
			as = uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		peers = append(peers, route.Peer{Index: i, AS: as, IP: ip, BGPID: id})
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last peer", len(b))
	}
	return peers, nil
}

var errTruncated = errors.New("truncated")

// startRIB checks the framing of a RIB_* record (RFC 6396 §4.3.2, RFC 8050
// §4.1) and, when sound, queues its entries for Next. Checking first means a
// corrupt record yields nothing rather than a few entries then an error.
func (r *Reader) startRIB(b []byte, v6, addPath bool) {
	pfx, entries, count, masked, err := ribFraming(b, v6, addPath, len(r.peers))
	if err != nil {
		r.corrupt(err)
		return
	}
	if count == 0 {
		r.skip("rib_no_entries")
		return
	}
	if masked {
		r.masked += int64(count)
	}
	r.rib = ribState{prefix: pfx, entries: entries, left: count, addPath: addPath}
	r.pend = pendRIB
}

// ribFraming checks the framing of a RIB_* body against a peer table of
// npeers: the entries must tile the body exactly.
func ribFraming(b []byte, v6, addPath bool, npeers int) (pfx netip.Prefix, entries []byte, count int, masked bool, err error) {
	name := ribName(v6, addPath)
	if len(b) < 5 {
		return pfx, nil, 0, false, fmt.Errorf("%s: header: %w", name, errTruncated)
	}
	pfx, n, err := readPrefix(b[4:], v6)
	if err != nil {
		return pfx, nil, 0, false, fmt.Errorf("%s: prefix: %w", name, err)
	}
	masked = hostBits(b[4:])
	b = b[4+n:]
	if len(b) < 2 {
		return pfx, nil, 0, false, fmt.Errorf("%s: entry count: %w", name, errTruncated)
	}
	count = int(binary.BigEndian.Uint16(b))
	b = b[2:]
	entries = b
	fixed := 8
	if addPath {
		fixed = 12
	}
	for i := 0; i < count; i++ {
		if len(b) < fixed {
			return pfx, nil, 0, false, fmt.Errorf("%s %s: entry %d of %d: %w", name, pfx, i, count, errTruncated)
		}
		idx := int(binary.BigEndian.Uint16(b))
		if idx >= npeers {
			return pfx, nil, 0, false, fmt.Errorf("%s %s: entry %d: peer index %d, PEER_INDEX_TABLE has %d peers", name, pfx, i, idx, npeers)
		}
		alen := int(binary.BigEndian.Uint16(b[fixed-2:]))
		if len(b) < fixed+alen {
			return pfx, nil, 0, false, fmt.Errorf("%s %s: entry %d: attribute length %d overruns the record by %d bytes", name, pfx, i, alen, fixed+alen-len(b))
		}
		b = b[fixed+alen:]
	}
	if len(b) != 0 {
		return pfx, nil, 0, false, fmt.Errorf("%s %s: %d bytes after entry %d", name, pfx, len(b), count)
	}
	return pfx, entries, count, masked, nil
}

func ribName(v6, addPath bool) string {
	switch {
	case v6 && addPath:
		return "RIB_IPV6_UNICAST_ADDPATH"
	case v6:
		return "RIB_IPV6_UNICAST"
	case addPath:
		return "RIB_IPV4_UNICAST_ADDPATH"
	}
	return "RIB_IPV4_UNICAST"
}

// nextRIB yields the next entry of the current RIB record; entries whose
// attributes are malformed are counted and skipped.
func (r *Reader) nextRIB() bool {
	rs := &r.rib
	for rs.left > 0 {
		b := rs.entries
		idx := int(binary.BigEndian.Uint16(b))
		var pathID uint32
		fixed := 8
		if rs.addPath {
			pathID = binary.BigEndian.Uint32(b[6:10])
			fixed = 12
		}
		alen := int(binary.BigEndian.Uint16(b[fixed-2:]))
		attrs := b[fixed : fixed+alen]
		rs.entries = b[fixed+alen:]
		rs.left--

		// RFC 6396 §4.3.4: AS_PATH in TABLE_DUMP_V2 is always 4-byte.
		if err := r.decodeAttrs(attrs, 4, true); err != nil {
			r.skip("malformed_attribute")
			r.addProblem(fmt.Sprintf("%s %s: entry of peer %d dropped: %v", ribName(rt6(rs.prefix), rs.addPath), rs.prefix, idx, err))
			continue
		}
		r.setEventHeader(route.Announce, idx, false)
		rt := &r.route
		rt.Prefix = rs.prefix
		rt.PathID = pathID
		r.fillAnnounce(rt.Prefix.Addr().Is6())
		return true
	}
	return false
}

// fillAnnounce sets Path, Origin, NextHop and RPKIState from s.attr. mp
// says the prefix came with MP_REACH_NLRI (RFC 4760), so its next hop is
// the MP one; NEXT_HOP serves IPv4 NLRI.
func (r *Reader) fillAnnounce(mp bool) {
	rt := &r.route
	rt.Path = r.attr.path
	rt.Origin = rov.OriginOf(r.attr.path)
	rt.RPKIState = r.attr.rpki
	if mp && r.attr.mpNextHop.IsValid() || !r.attr.nextHop.IsValid() {
		rt.NextHop = r.attr.mpNextHop
	} else {
		rt.NextHop = r.attr.nextHop
	}
}

// --- legacy TABLE_DUMP (RFC 6396 §4.2) ---

func (r *Reader) tableDump(sub uint16, b []byte) bool {
	td, err := parseTableDump(sub, b)
	if err != nil {
		r.corrupt(err)
		return false
	}
	// TABLE_DUMP predates 4-byte ASNs: its AS_PATH is 2-byte.
	if err := r.decodeAttrs(td.attrs, 2, true); err != nil {
		r.skip("malformed_attribute")
		r.addProblem(fmt.Sprintf("TABLE_DUMP %s: entry dropped: %v", netip.PrefixFrom(td.addr, td.bits).Masked(), err))
		return false
	}
	idx := r.peerFor(td.peerAS, td.peerIP)
	r.setEventHeader(route.Announce, idx, false)
	r.route.Prefix = netip.PrefixFrom(td.addr, td.bits).Masked()
	if r.route.Prefix.Addr() != td.addr {
		r.masked++
	}
	r.fillAnnounce(td.addr.Is6())
	return true
}

// tdEntry is a TABLE_DUMP record's fields.
type tdEntry struct {
	addr, peerIP netip.Addr
	bits         int
	status       byte
	peerAS       uint32
	attrs        []byte
}

// parseTableDump checks the framing of a TABLE_DUMP body (RFC 6396 §4.2).
func parseTableDump(sub uint16, b []byte) (tdEntry, error) {
	var td tdEntry
	var v6 bool
	switch sub {
	case afiIPv4:
	case afiIPv6:
		v6 = true
	default:
		return td, fmt.Errorf("TABLE_DUMP: AFI %d is neither IPv4 (1) nor IPv6 (2)", sub)
	}
	alen := 4
	if v6 {
		alen = 16
	}
	// view(2) seq(2) prefix(alen) plen(1) status(1) time(4) peer ip(alen) peer as(2) attr len(2)
	fixed := 2 + 2 + alen + 1 + 1 + 4 + alen + 2 + 2
	if len(b) < fixed {
		return td, fmt.Errorf("TABLE_DUMP: %w", errTruncated)
	}
	p := b[4:]
	if v6 {
		td.addr = netip.AddrFrom16([16]byte(p[:16]))
	} else {
		td.addr = netip.AddrFrom4([4]byte(p[:4]))
	}
	p = p[alen:]
	td.bits = int(p[0])
	if td.bits > td.addr.BitLen() {
		return td, fmt.Errorf("TABLE_DUMP: prefix length %d > %d", td.bits, td.addr.BitLen())
	}
	td.status = p[1]
	p = p[6:] // plen, status, originated time
	if v6 {
		td.peerIP = netip.AddrFrom16([16]byte(p[:16]))
	} else {
		td.peerIP = netip.AddrFrom4([4]byte(p[:4]))
	}
	p = p[alen:]
	td.peerAS = uint32(binary.BigEndian.Uint16(p))
	attrLen := int(binary.BigEndian.Uint16(p[2:]))
	p = p[4:]
	if len(p) != attrLen {
		return td, fmt.Errorf("TABLE_DUMP: attribute length %d, but %d bytes follow", attrLen, len(p))
	}
	td.attrs = p
	return td, nil
}

func rt6(p netip.Prefix) bool { return p.Addr().Is6() }
