package rov

import (
	"fmt"
	"strings"
)

// ASPAPair is one adjacent pair (A(i), A(i+1)) of a COMPRESSED_AS_PATH
// (§5.1: A(1) is the origin) with the provider authorization function's
// answer in both directions (§5.2): what `rovimpact aspa --path` prints
// hop by hop, so an operator sees which ASPA said what.
type ASPAPair struct {
	// Pos is i, 1-based from the origin.
	Pos int32 `json:"index"`
	// Lower is A(i), Upper A(i+1) (nearer the verifying AS).
	Lower uint32 `json:"lower"`
	Upper uint32 `json:"upper"`
	// Up is authorized(A(i), A(i+1)): does Lower's ASPA list Upper? The
	// up-ramp reads it (§5.3).
	Up HopAuth `json:"up"`
	// Down is authorized(A(i+1), A(i)): does Upper's ASPA list Lower? The
	// down-ramp reads it (§5.3); upstream verification does not (§5.4).
	Down HopAuth `json:"down"`
}

// ASPAExplanation is a verdict with the pairs it was computed from.
type ASPAExplanation struct {
	Result ASPAResult
	// Path is the COMPRESSED_AS_PATH in wire order (nil when the path
	// holds a set or confederation segment, for which the draft defines
	// no ramps).
	Path []uint32
	// Pairs are its adjacent pairs, origin first.
	Pairs []ASPAPair
}

// Explain verifies path exactly as Verify does and adds each adjacent
// pair's attestations. The verdict is Verify's; the pairs only show the
// answers of Authorized it read (and, for a path halted before the ramps
// by step 2, the answers it would have read). Allocates; for queries, not
// for tables.
func (v *ASPAVerifier) Explain(path []Segment, neighbor uint32, role PeerRole) ASPAExplanation {
	e := ASPAExplanation{Result: v.Verify(path, neighbor, role)}
	for _, seg := range path {
		if seg.Type != ASSequence && len(seg.ASNs) > 0 {
			return e
		}
	}
	e.Path = appendCompressed(nil, path)
	n := int32(len(e.Path))
	a := func(i int32) uint32 { return e.Path[n-i] }
	for i := int32(1); i < n; i++ {
		e.Pairs = append(e.Pairs, ASPAPair{Pos: i, Lower: a(i), Upper: a(i + 1),
			Up: v.set.Authorized(a(i), a(i+1)), Down: v.set.Authorized(a(i+1), a(i))})
	}
	return e
}

// ParseASPathText parses an AS_PATH as an operator types it, most recently
// added AS first: ASNs in any ParseASN spelling ("64500", "AS64500")
// separated by spaces, an AS_SET as {a,b} (or {a b}), an AS_CONFED_SEQUENCE
// as (a b) and an AS_CONFED_SET as [a,b], as bgpdump prints them. Adjacent
// bare ASNs form one AS_SEQUENCE. An empty string is the empty AS_PATH.
func ParseASPathText(s string) ([]Segment, error) {
	var out []Segment
	rest := s
	bare := false // the last segment is an AS_SEQUENCE of bare ASNs
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return out, nil
		}
		if rest[0] == '}' || rest[0] == ')' || rest[0] == ']' {
			return nil, fmt.Errorf("AS path %q: unexpected %q", s, rest[0])
		}
		open := rest[0]
		var closer byte
		var typ SegmentType
		switch open {
		case '{':
			closer, typ = '}', ASSet
		case '(':
			closer, typ = ')', ASConfedSequence
		case '[':
			closer, typ = ']', ASConfedSet
		}
		if closer == 0 {
			end := strings.IndexAny(rest, " \t,{}()[]")
			if end < 0 {
				end = len(rest)
			}
			tok := rest[:end]
			if tok == "" {
				return nil, fmt.Errorf("AS path %q: unexpected %q", s, rest[0])
			}
			asn, err := ParseASN(tok)
			if err != nil {
				return nil, fmt.Errorf("AS path %q: %w", s, err)
			}
			if bare {
				out[len(out)-1].ASNs = append(out[len(out)-1].ASNs, asn)
			} else {
				out = append(out, Segment{Type: ASSequence, ASNs: []uint32{asn}})
				bare = true
			}
			rest = rest[end:]
			continue
		}
		j := strings.IndexByte(rest, closer)
		if j < 0 {
			return nil, fmt.Errorf("AS path %q: unterminated %q", s, open)
		}
		seg := Segment{Type: typ}
		bare = false
		for _, tok := range strings.FieldsFunc(rest[1:j], func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			asn, err := ParseASN(tok)
			if err != nil {
				return nil, fmt.Errorf("AS path %q: %w", s, err)
			}
			seg.ASNs = append(seg.ASNs, asn)
		}
		if len(seg.ASNs) == 0 {
			return nil, fmt.Errorf("AS path %q: empty %q%q segment", s, open, closer)
		}
		out = append(out, seg)
		rest = rest[j+1:]
	}
}
