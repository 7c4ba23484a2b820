package reports

import (
	"bufio"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// routeFormat is one output layout of the routes list (rovimpact routes):
// a header written before the first row, and a row appender that builds
// the line in a reused buffer (no allocation per route).
type routeFormat struct {
	name   string
	header string
	row    func([]byte, *route.Route) []byte
}

// routeFormats is the routes list's format table. json has always been one
// object per line, so ndjson is the same writer under its proper name.
var routeFormats = []routeFormat{
	{"text", "", appendRouteText},
	{"json", "", appendRouteJSON},
	{"csv", RoutesCSVHeader, appendRouteCSV},
	{"ndjson", "", appendRouteJSON},
}

// RoutesFormats lists the routes list's formats (the first is the default).
func RoutesFormats() []string {
	names := make([]string, len(routeFormats))
	for i, f := range routeFormats {
		names[i] = f.name
	}
	return names
}

// RoutesWriter renders Route events without allocating per route: lines
// are built in one reused buffer with strconv and netip Append functions.
type RoutesWriter struct {
	w      *bufio.Writer
	format routeFormat
	buf    []byte
	header bool // header written
}

// NewRoutesWriter returns a writer of format (RoutesFormats), or a
// *FormatError.
func NewRoutesWriter(w *bufio.Writer, format string) (*RoutesWriter, error) {
	i := slices.IndexFunc(routeFormats, func(f routeFormat) bool { return f.name == format })
	if i < 0 {
		return nil, &FormatError{Doc: "routes", Format: format, Known: RoutesFormats()}
	}
	return &RoutesWriter{w: w, format: routeFormats[i], buf: make([]byte, 0, 512)}, nil
}

// Write writes one route event.
func (rw *RoutesWriter) Write(r *route.Route) error {
	if !rw.header {
		rw.header = true
		if _, err := rw.w.WriteString(rw.format.header); err != nil {
			return err
		}
	}
	rw.buf = rw.format.row(rw.buf[:0], r)
	_, err := rw.w.Write(rw.buf)
	return err
}

// RoutesCSVHeader names the columns of --format csv, the keys of --format
// json and ndjson, in the same order.
const RoutesCSVHeader = "time,type,peer_ip,peer_as,prefix,path_id,as_path,origin,next_hop,rpki_state\n"

// appendRouteText appends the bgpdump-like line documented in routesLong.
func appendRouteText(b []byte, r *route.Route) []byte {
	if r.FromUpdate {
		b = append(b, "BGP4MP|"...)
	} else {
		b = append(b, "TABLE_DUMP2|"...)
	}
	b = strconv.AppendInt(b, r.Time.Unix(), 10)
	switch {
	case r.Kind == route.PeerDown:
		b = append(b, "|STATE|"...)
	case r.Kind == route.Withdraw:
		b = append(b, "|W|"...)
	case r.FromUpdate:
		b = append(b, "|A|"...)
	default:
		b = append(b, "|B|"...)
	}
	b = appendAddr(b, r.Peer.IP)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, '|')
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, '|')
	if r.Kind == route.Announce {
		b = appendASPath(b, r.Path)
		b = append(b, '|')
		b = appendOrigin(b, r.Origin)
	} else {
		b = append(b, '|')
	}
	b = append(b, '|')
	if r.Kind != route.PeerDown {
		b = strconv.AppendUint(b, uint64(r.PathID), 10)
	}
	b = append(b, '|')
	if r.Kind == route.Announce {
		b = appendAddr(b, r.NextHop)
		b = append(b, '|')
		b = append(b, rpkiStateName(r.RPKIState)...)
	} else {
		b = append(b, '|')
	}
	return append(b, '\n')
}

// appendRouteJSON appends one JSON object and a newline. Every value is
// ASCII without quotes or backslashes (numbers, addresses, prefixes, AS
// path notation, fixed words), so no escaping is needed.
func appendRouteJSON(b []byte, r *route.Route) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":"`...)
	b = append(b, routeTypeName(r)...)
	b = append(b, `","peer_ip":"`...)
	b = appendAddr(b, r.Peer.IP)
	b = append(b, `","peer_as":`...)
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, `,"prefix":"`...)
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, `","path_id":`...)
	b = strconv.AppendUint(b, uint64(r.PathID), 10)
	b = append(b, `,"as_path":"`...)
	announce := r.Kind == route.Announce
	if announce {
		b = appendASPath(b, r.Path)
	}
	b = append(b, `","origin":"`...)
	if announce {
		b = appendOrigin(b, r.Origin)
	}
	b = append(b, `","next_hop":"`...)
	if announce {
		b = appendAddr(b, r.NextHop)
	}
	b = append(b, `","rpki_state":"`...)
	if announce {
		b = append(b, rpkiStateName(r.RPKIState)...)
	}
	return append(b, "\"}\n"...)
}

// appendRouteCSV appends one CSV row (RFC 4180): only as_path can hold a
// comma (inside an AS_SET), and it is quoted then.
func appendRouteCSV(b []byte, r *route.Route) []byte {
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = append(b, routeTypeName(r)...)
	b = append(b, ',')
	b = appendAddr(b, r.Peer.IP)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, ',')
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(r.PathID), 10)
	b = append(b, ',')
	announce := r.Kind == route.Announce
	if announce {
		start := len(b)
		b = appendASPath(b, r.Path)
		if slices.Contains(b[start:], ',') {
			b = append(b[:start], '"')
			b = appendASPath(b, r.Path)
			b = append(b, '"')
		}
	}
	b = append(b, ',')
	if announce {
		b = appendOrigin(b, r.Origin)
	}
	b = append(b, ',')
	if announce {
		b = appendAddr(b, r.NextHop)
	}
	b = append(b, ',')
	if announce {
		b = append(b, rpkiStateName(r.RPKIState)...)
	}
	return append(b, '\n')
}

func routeTypeName(r *route.Route) string {
	switch {
	case r.Kind == route.PeerDown:
		return "peer_down"
	case r.Kind == route.Withdraw:
		return "withdraw"
	case r.FromUpdate:
		return "announce"
	}
	return "rib"
}

// appendAddr appends a, or nothing for the zero Addr (no next hop).
func appendAddr(b []byte, a netip.Addr) []byte { return a.AppendTo(b) }

// appendASPath writes segments in bgpdump notation: AS_SEQUENCE "a b",
// AS_SET "{a,b}", AS_CONFED_SEQUENCE "(a b)", AS_CONFED_SET "[a,b]".
func appendASPath(b []byte, path []rov.Segment) []byte {
	for i, s := range path {
		if i > 0 {
			b = append(b, ' ')
		}
		open, sep, closing := byte(0), byte(' '), byte(0)
		switch s.Type {
		case rov.ASSet:
			open, sep, closing = '{', ',', '}'
		case rov.ASConfedSequence:
			open, closing = '(', ')'
		case rov.ASConfedSet:
			open, sep, closing = '[', ',', ']'
		}
		if open != 0 {
			b = append(b, open)
		}
		for j, a := range s.ASNs {
			if j > 0 {
				b = append(b, sep)
			}
			b = strconv.AppendUint(b, uint64(a), 10)
		}
		if closing != 0 {
			b = append(b, closing)
		}
	}
	return b
}

// appendOrigin writes the RFC 6811 §2 origin: the ASN, NONE or LOCAL.
func appendOrigin(b []byte, o rov.Origin) []byte {
	switch o.Kind {
	case rov.OriginNone:
		return append(b, "NONE"...)
	case rov.OriginLocal:
		return append(b, "LOCAL"...)
	}
	return strconv.AppendUint(b, uint64(o.ASN), 10)
}

// rpkiStateName names the RFC 8097 validation state community; empty when
// the route carried none.
func rpkiStateName(s route.RPKIState) string {
	switch s {
	case route.RPKIValid:
		return "valid"
	case route.RPKINotFound:
		return "not_found"
	case route.RPKIInvalid:
		return "invalid"
	}
	return ""
}
