// Package bgpdumptext reads routes from text: the one-line-per-entry output
// of `bgpdump -m`, or plain "prefix origin-AS" lines. Its Reader is a
// route.Source, as the binary MRT reader (package mrt) is.
package bgpdumptext

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// textFormat is the line format of a text input, fixed by its first data
// line.
type textFormat uint8

const (
	textUnknown textFormat = iota
	textBgpdump            // bgpdump -m output
	textPlain              // "prefix origin-AS" lines
)

// textMaxLine bounds one line so a file without newlines cannot exhaust
// memory. bgpdump itself cuts AS paths at 8000 characters, so real lines
// stay far below this.
const textMaxLine = 1 << 20

// textErrPathTruncated marks a bgpdump AS path that bgpdump cut with "..."
// (paths longer than ~7900 characters): the origin is lost, so the line
// cannot become a route.
var textErrPathTruncated = errors.New("AS path truncated by bgpdump (\"...\")")

// Reader reads routes from text: the one-line-per-entry output of
// `bgpdump -m` (RIB entries, announcements, withdrawals and state changes,
// including the _ET, _AP and _LOCAL variants), or plain "prefix origin-AS"
// lines such as "192.0.2.0/24 64500", "192.0.2.0/24,AS64500". The format is
// decided once per file from the first line that is not blank or a "#"
// comment.
//
// _LOCAL lines are skipped and counted in Stats.Skipped["bgp4mp_local"].
// They are BGP4MP_MESSAGE_LOCAL / BGP4MP_MESSAGE_AS4_LOCAL records (RFC
// 6396 §4.4.5, §4.4.6; RFC 8050 §3 for the ADD-PATH forms): messages the
// monitored router sent, whose Peer fields "refer to the recipient of the
// generated BGP messages". An impact study asks what the router receives
// from its peers, and yielding these would put the router's own
// announcements into the recipient's Adj-RIB-In. bgpdump 1.6.2 prints
// subtypes 6 and 7 as BGP4MP_LOCAL / BGP4MP_ET_LOCAL, but prints the
// ADD-PATH local subtypes 10 and 11 as plain BGP4MP_AP lines with the
// router's own address and AS in the peer fields: those cannot be told
// from received routes in text and are read as routes from that peer (the
// binary Reader sees the subtype).
//
// Plain lines become Announce events with a one-segment AS_SEQUENCE path
// from a single synthetic peer (AS 0, no address) and FromUpdate false.
//
// Prefixes are always masked: a prefix written with host bits set
// (192.0.2.1/24) is yielded as its masked form, because BGP speakers
// ignore the bits past the length too (RFC 4271 §4.3: "Trailing bits
// are irrelevant"); Reader.Masked counts them.
//
// A malformed line is counted in Stats.Skipped["malformed_line"] and
// described in Stats.Problems, then skipped; but when the first data line
// is not recognisable the input is not route text at all and Next stops
// with an error naming the file and line.
//
// Route() and its Path slices are reused by the next call to Next.
// Reader implements Source. It is not safe for concurrent use.
type Reader struct {
	name   string
	br     *bufio.Reader
	format textFormat
	route  route.Route
	peers  []route.Peer
	peerIx map[route.PeerKey]int
	stats  route.Stats
	err    error
	line   []byte // long-line accumulation buffer
	lineNo int64
	offset int64 // byte offset of the next line
	done   bool

	// comments counts blank and comment lines: neither routes nor
	// skipped, kept so tests can check that every line is accounted for.
	comments int64
	// masked counts prefixes that had host bits set and were masked.
	masked int64
}

// NewReader returns a Reader reading r; name labels errors
// (typically the file name).
func NewReader(r io.Reader, name string) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{
		name:   name,
		br:     br,
		peerIx: make(map[route.PeerKey]int),
		stats:  route.Stats{Skipped: make(map[string]int64)},
	}
}

// IsText reports whether head, the first bytes of an input, looks like text
// rather than binary MRT: valid UTF-8 without control characters other than
// tab, CR and LF. Every MRT record starts with a 4-byte timestamp and a
// 2-byte type whose high byte is 0 for all defined types (RFC 6396 §4), so
// real MRT fails this within its first 6 bytes. An empty head is not text.
func IsText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			// A rune cut by the end of head is still text.
			if !utf8.FullRune(head[i:]) {
				return true
			}
			return false
		}
		i += n
	}
	return true
}

// Next advances to the next route event.
func (t *Reader) Next() bool {
	for !t.done {
		line, off, ok := t.readLine()
		if !ok {
			t.done = true
			return false
		}
		t.lineNo++
		t.stats.Records++
		s := trimLine(line)
		if len(s) == 0 || s[0] == '#' {
			t.comments++
			continue
		}
		if t.format == textUnknown {
			if bytes.IndexByte(s, '|') >= 0 {
				t.format = textBgpdump
			} else {
				t.format = textPlain
			}
			yield, err := t.parse(s)
			if err != nil {
				t.err = fmt.Errorf("mrt: %s: line %d (offset %d): neither bgpdump -m output nor \"prefix origin\" lines: %q: %w",
					t.name, t.lineNo, off, textClip(s), err)
				t.done = true
				return false
			}
			if yield {
				t.stats.Routes++
				t.stats.NoteTime(t.route.Time)
				return true
			}
			continue
		}
		yield, err := t.parse(s)
		if err != nil {
			reason := "malformed_line"
			if errors.Is(err, textErrPathTruncated) {
				reason = "as_path_truncated"
			}
			t.problem(reason, off, err)
			continue
		}
		if yield {
			t.stats.Routes++
			t.stats.NoteTime(t.route.Time)
			return true
		}
	}
	return false
}

// Route returns the current event; it and its Path are reused by Next.
func (t *Reader) Route() *route.Route { return &t.route }

// Err returns the error that stopped the reader, or nil at a clean end.
func (t *Reader) Err() error { return t.err }

// Peers lists the peers seen so far, indexed by Peer.Index (first-seen
// order).
func (t *Reader) Peers() []route.Peer { return t.peers }

// Stats returns the counters so far; Skipped and Problems are shared with
// the reader and must not be modified.
func (t *Reader) Stats() route.Stats { return t.stats }

// Masked returns how many prefixes had host bits set and were masked.
func (t *Reader) Masked() int64 { return t.masked }

func (t *Reader) problem(reason string, off int64, err error) {
	t.stats.Skipped[reason]++
	if len(t.stats.Problems) < route.MaxProblems {
		t.stats.Problems = append(t.stats.Problems, route.Problem{
			Record: t.lineNo,
			Offset: off,
			Err:    err.Error(),
		})
	}
}

// readLine returns the next line without its terminator and the offset it
// started at. A line longer than textMaxLine is returned cut at that length
// (the rest is consumed), so it will fail to parse and be counted.
func (t *Reader) readLine() (line []byte, off int64, ok bool) {
	off = t.offset
	b, err := t.br.ReadSlice('\n')
	t.offset += int64(len(b))
	if err == bufio.ErrBufferFull {
		t.line = append(t.line[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = t.br.ReadSlice('\n')
			t.offset += int64(len(b))
			if len(t.line) < textMaxLine {
				t.line = append(t.line, b...)
			}
		}
		b = t.line
	}
	t.stats.Bytes = t.offset
	if err != nil && err != io.EOF {
		// The partial line before a cut is dropped: its end is unknown.
		if ie := route.InputErrorOf(t.name, err, t.lineNo+1, off, t.lineNo, t.stats.Routes); ie != nil {
			t.err = ie
		} else {
			t.err = fmt.Errorf("mrt: %s: line %d (offset %d): %w", t.name, t.lineNo+1, off, err)
		}
		return nil, off, false
	}
	if len(b) == 0 {
		return nil, off, false
	}
	return b, off, true
}

// trimLine drops the line terminator and surrounding blanks.
func trimLine(b []byte) []byte {
	return bytes.TrimSpace(b)
}

// textClip shortens a line for an error message.
func textClip(s []byte) string {
	if len(s) > 120 {
		return string(s[:120]) + "..."
	}
	return string(s)
}

// parse fills t.route from one data line. It returns yield=false for
// lines that are valid but carry no route event (counted in Skipped).
func (t *Reader) parse(s []byte) (yield bool, err error) {
	if t.format == textPlain {
		return true, t.parsePlain(s)
	}
	return t.parseBgpdump(s)
}

// textString views b as a string without copying. The strings made from it
// are only passed to parsers (netip, strconv) that do not keep them, except
// inside error values, which are formatted before the buffer is reused.
func textString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// parsePlain reads "prefix origin" with whitespace or comma separators and
// an optional trailing "# comment".
func (t *Reader) parsePlain(s []byte) error {
	if i := bytes.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	var fields [3][]byte
	n := 0
	for len(s) > 0 {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		s = s[i:]
		if len(s) == 0 {
			break
		}
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != ',' {
			j++
		}
		if n == len(fields) {
			return fmt.Errorf("want 2 fields (prefix, origin AS), got more")
		}
		fields[n] = s[:j]
		n++
		s = s[j:]
	}
	if n != 2 {
		return fmt.Errorf("want 2 fields (prefix, origin AS), got %d", n)
	}
	pfx, err := t.parsePrefix(fields[0])
	if err != nil {
		return err
	}
	as := fields[1]
	if len(as) > 2 && (as[0] == 'A' || as[0] == 'a') && (as[1] == 'S' || as[1] == 's') {
		as = as[2:]
	}
	asn, err := textASN(as)
	if err != nil {
		return fmt.Errorf("origin AS %q: %w", fields[1], err)
	}
	r := &t.route
	peer := t.peer(0, netip.Addr{})
	r.Kind = route.Announce
	r.Time = time.Time{}
	r.Peer = peer
	r.Prefix = pfx
	r.PathID = 0
	r.NextHop = netip.Addr{}
	r.RPKIState = route.RPKIAbsent
	r.FromUpdate = false
	r.Path = r.Path[:0]
	seg := t.addSegment(rov.ASSequence)
	seg.ASNs = append(seg.ASNs, asn)
	r.Origin = rov.Origin{Kind: rov.OriginAS, ASN: asn}
	return nil
}

func (t *Reader) parsePrefix(b []byte) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(textString(b))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix: %s", err.Error())
	}
	if m := p.Masked(); m != p {
		t.masked++
		p = m
	}
	return p, nil
}

// textASN parses a decimal 32-bit AS number.
func textASN(b []byte) (uint32, error) {
	if len(b) == 0 {
		return 0, errors.New("empty AS number")
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad AS number %q", b)
		}
		v = v*10 + uint64(c-'0')
		if v > 1<<32-1 {
			return 0, fmt.Errorf("AS number %q out of range", b)
		}
	}
	return uint32(v), nil
}

// peer returns the Peer for (as, ip), numbering new peers in first-seen
// order.
func (t *Reader) peer(as uint32, ip netip.Addr) route.Peer {
	k := route.PeerKey{AS: as, IP: ip}
	if i, ok := t.peerIx[k]; ok {
		return t.peers[i]
	}
	p := route.Peer{Index: len(t.peers), AS: as, IP: ip}
	t.peerIx[k] = p.Index
	t.peers = append(t.peers, p)
	return p
}

// addSegment appends a segment to the route's path, reusing the ASNs
// backing array left there by earlier routes.
func (t *Reader) addSegment(typ rov.SegmentType) *rov.Segment {
	r := &t.route
	n := len(r.Path)
	if n < cap(r.Path) {
		r.Path = r.Path[:n+1]
	} else {
		r.Path = append(r.Path, rov.Segment{})
	}
	s := &r.Path[n]
	s.Type = typ
	s.ASNs = s.ASNs[:0]
	return s
}

// bgpdump -m record types (first field). bgpdump 1.6 names BGP4MP lines
// BGP4MP[_ET][_LOCAL][_AP] (get_bgp4mp_format in bgpdump.c) and RIB lines
// TABLE_DUMP (v1), TABLE_DUMP2 and TABLE_DUMP2_AP. 1.6.2 never prints
// _LOCAL_AP (see Reader); the names are accepted for other writers.
type textLineType struct {
	update bool // BGP4MP*: an UPDATE or STATE_CHANGE, not a RIB entry
	local  bool // _LOCAL: a message the collector sent, not received
	ap     bool // _AP: ADD-PATH, a path id follows the prefix
}

func textParseType(f []byte) (textLineType, bool) {
	switch string(f) {
	case "TABLE_DUMP", "TABLE_DUMP2":
		return textLineType{}, true
	case "TABLE_DUMP2_AP":
		return textLineType{ap: true}, true
	case "BGP4MP", "BGP4MP_ET":
		return textLineType{update: true}, true
	case "BGP4MP_AP", "BGP4MP_ET_AP":
		return textLineType{update: true, ap: true}, true
	case "BGP4MP_LOCAL", "BGP4MP_ET_LOCAL":
		return textLineType{update: true, local: true}, true
	case "BGP4MP_LOCAL_AP", "BGP4MP_ET_LOCAL_AP":
		return textLineType{update: true, local: true, ap: true}, true
	}
	return textLineType{}, false
}

// BGP FSM state numbers as bgpdump prints them (RFC 6396 §4.4.1).
const textStateEstablished = 6

// parseBgpdump parses one bgpdump -m line:
//
//	TABLE_DUMP2|ts|B|peer_ip|peer_as|prefix|as_path|origin|next_hop|lp|med|comm|AG|agg|
//	TABLE_DUMP2_AP|ts|B|peer_ip|peer_as|prefix|path_id|as_path|origin|next_hop|...
//	BGP4MP|ts|A|peer_ip|peer_as|prefix|as_path|origin|next_hop|...
//	BGP4MP_AP|ts|A|peer_ip|peer_as|prefix|path_id|as_path|...
//	BGP4MP|ts|W|peer_ip|peer_as|prefix          (BGP4MP_AP: ...|prefix|path_id)
//	BGP4MP|ts|STATE|peer_ip|peer_as|old_state|new_state
//
// with ts "seconds" or, for _ET, "seconds.microseconds".
func (t *Reader) parseBgpdump(s []byte) (bool, error) {
	var f [16][]byte
	n := 0
	for n < len(f) {
		i := bytes.IndexByte(s, '|')
		if i < 0 {
			f[n] = s
			n++
			break
		}
		f[n] = s[:i]
		n++
		s = s[i+1:]
	}
	if n < 6 {
		return false, fmt.Errorf("want at least 6 |-separated fields, got %d", n)
	}
	lt, ok := textParseType(f[0])
	if !ok {
		return false, fmt.Errorf("unknown record type %q", f[0])
	}
	ts, err := textTime(f[1])
	if err != nil {
		return false, err
	}
	ip, err := netip.ParseAddr(textString(f[3]))
	if err != nil || ip.Zone() != "" {
		return false, fmt.Errorf("peer address %q invalid", f[3])
	}
	as, err := textASN(f[4])
	if err != nil {
		return false, fmt.Errorf("peer AS: %w", err)
	}
	if lt.local {
		// A message the router sent (RFC 6396 §4.4.5): see Reader.
		// Only the fields common to every line were checked.
		t.stats.Skipped["bgp4mp_local"]++
		return false, nil
	}
	r := &t.route
	sub := textString(f[2])
	switch {
	case sub == "STATE" && lt.update && !lt.ap:
		if n != 7 {
			return false, fmt.Errorf("STATE: want 7 fields, got %d", n)
		}
		oldS, err1 := textASN(f[5])
		newS, err2 := textASN(f[6])
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("STATE: bad states %q -> %q", f[5], f[6])
		}
		peer := t.peer(as, ip)
		// RFC 4271 §8.2.2: leaving Established (for any other state)
		// releases all routes learned on the session.
		if oldS != textStateEstablished || newS == textStateEstablished {
			t.stats.Skipped["state_change"]++
			return false, nil
		}
		*r = route.Route{Kind: route.PeerDown, Time: ts, Peer: peer, Path: r.Path[:0], RPKIState: route.RPKIAbsent, FromUpdate: true}
		return true, nil
	case sub == "W" && lt.update:
		want := 6
		if lt.ap {
			want = 7
		}
		if n != want {
			return false, fmt.Errorf("W: want %d fields, got %d", want, n)
		}
		pfx, err := t.parsePrefix(f[5])
		if err != nil {
			return false, err
		}
		var pathID uint32
		if lt.ap {
			if pathID, err = textASN(f[6]); err != nil {
				return false, fmt.Errorf("path id: %w", err)
			}
		}
		*r = route.Route{Kind: route.Withdraw, Time: ts, Peer: t.peer(as, ip), Prefix: pfx, PathID: pathID,
			Path: r.Path[:0], RPKIState: route.RPKIAbsent, FromUpdate: true}
		return true, nil
	case sub == "A" && lt.update || sub == "B" && !lt.update:
		i := 6
		var pathID uint32
		if lt.ap {
			if n < 7 {
				return false, fmt.Errorf("missing path id")
			}
			if pathID, err = textASN(f[6]); err != nil {
				return false, fmt.Errorf("path id: %w", err)
			}
			i = 7
		}
		// as_path, origin, next_hop must be there.
		if n < i+3 {
			return false, fmt.Errorf("%s: want at least %d fields, got %d", sub, i+3, n)
		}
		pfx, err := t.parsePrefix(f[5])
		if err != nil {
			return false, err
		}
		var nh netip.Addr
		if len(f[i+2]) > 0 {
			if nh, err = netip.ParseAddr(textString(f[i+2])); err != nil || nh.Zone() != "" {
				return false, fmt.Errorf("next hop %q invalid", f[i+2])
			}
		}
		r.Path = r.Path[:0]
		if err := t.parsePath(f[i]); err != nil {
			r.Path = r.Path[:0]
			return false, err
		}
		r.Kind = route.Announce
		r.Time = ts
		r.Peer = t.peer(as, ip)
		r.Prefix = pfx
		r.PathID = pathID
		r.Origin = rov.OriginOf(r.Path)
		r.NextHop = nh
		r.RPKIState = route.RPKIAbsent
		r.FromUpdate = lt.update
		return true, nil
	}
	return false, fmt.Errorf("record type %s: unexpected entry kind %q", f[0], f[2])
}

// textTime parses "seconds" or "seconds.fraction" (bgpdump prints six
// fraction digits for BGP4MP_ET).
func textTime(b []byte) (time.Time, error) {
	sec, frac := b, []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		sec, frac = b[:i], b[i+1:]
		if len(frac) == 0 || len(frac) > 9 {
			return time.Time{}, fmt.Errorf("timestamp %q invalid", b)
		}
	}
	s, err := strconv.ParseInt(textString(sec), 10, 64)
	if err != nil || s < 0 || len(sec) == 0 || sec[0] == '+' {
		return time.Time{}, fmt.Errorf("timestamp %q invalid", b)
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, fmt.Errorf("timestamp %q invalid", b)
			}
			ns += int64(c - '0')
		}
	}
	return time.Unix(s, ns).UTC(), nil
}

// parsePath parses a bgpdump AS path into t.route.Path. bgpdump writes
// (process_attr_aspath_string in bgpdump_lib.c) AS_SEQUENCE ASNs separated
// by spaces, AS_SET as {a,b}, AS_CONFED_SET as [a,b] and
// AS_CONFED_SEQUENCE as (a b), segments separated by one space. Adjacent
// AS_SEQUENCE segments print identically to one, so they are merged; this
// changes neither the origin (RFC 6811 §2) nor the path length. An empty
// field is an empty AS_PATH.
func (t *Reader) parsePath(b []byte) error {
	if bytes.HasSuffix(b, []byte("...")) {
		return textErrPathTruncated
	}
	r := &t.route
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == ' ':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j < len(b) && b[j] != ' ' {
				return fmt.Errorf("as_path %q: unexpected %q after AS number", b, b[j])
			}
			asn, err := textASN(b[i:j])
			if err != nil {
				return fmt.Errorf("as_path: %w", err)
			}
			n := len(r.Path)
			var seg *rov.Segment
			if n > 0 && r.Path[n-1].Type == rov.ASSequence && i > 0 && b[i-1] == ' ' && textPrevIsSeq(b, i) {
				seg = &r.Path[n-1]
			} else {
				seg = t.addSegment(rov.ASSequence)
			}
			seg.ASNs = append(seg.ASNs, asn)
			i = j
		case c == '{' || c == '[' || c == '(':
			var closer, sep byte
			var typ rov.SegmentType
			switch c {
			case '{':
				closer, sep, typ = '}', ',', rov.ASSet
			case '[':
				closer, sep, typ = ']', ',', rov.ASConfedSet
			default:
				closer, sep, typ = ')', ' ', rov.ASConfedSequence
			}
			j := bytes.IndexByte(b[i+1:], closer)
			if j < 0 {
				return fmt.Errorf("as_path %q: unterminated %q", b, c)
			}
			inner := b[i+1 : i+1+j]
			i += j + 2
			if i < len(b) && b[i] != ' ' {
				return fmt.Errorf("as_path %q: unexpected %q after %q", b, b[i], closer)
			}
			seg := t.addSegment(typ)
			for len(inner) > 0 {
				k := bytes.IndexByte(inner, sep)
				tok := inner
				if k >= 0 {
					tok, inner = inner[:k], inner[k+1:]
					if len(inner) == 0 {
						return fmt.Errorf("as_path %q: trailing %q", b, sep)
					}
				} else {
					inner = nil
				}
				asn, err := textASN(tok)
				if err != nil {
					return fmt.Errorf("as_path %q: %w", b, err)
				}
				seg.ASNs = append(seg.ASNs, asn)
			}
		default:
			return fmt.Errorf("as_path %q: unexpected %q", b, c)
		}
	}
	return nil
}

// textPrevIsSeq reports whether the token before position i (which follows
// a space) is a bare AS number, i.e. part of the same AS_SEQUENCE.
func textPrevIsSeq(b []byte, i int) bool {
	k := i - 1
	for k >= 0 && b[k] == ' ' {
		k--
	}
	return k >= 0 && b[k] >= '0' && b[k] <= '9'
}
