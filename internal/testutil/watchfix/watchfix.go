// Package watchfix holds the routes and VRPs that the watch tests drive
// through the service (package watch) and through the command with real
// peers (cmd/rovimpact): every class, every impact, AS0, IPv6 and
// ADD-PATH, in one place so that both hold the service to the same truth.
package watchfix

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// Route is one path a test speaker announces: prefix, ADD-PATH id and AS
// path in gobgp's syntax ("64500 {64501,64502}"), before the speaker
// prepends its own AS.
type Route struct {
	Prefix string
	ID     int
	Path   string
}

// VRP is a VRP of prefix p, maxLength maxLen, for asn.
func VRP(p string, maxLen int, asn uint32) rov.VRP {
	return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: uint8(maxLen), ASN: asn}
}

// The routes announced first and the VRPs served first.
var (
	VRPs0 = []rov.VRP{
		VRP("10.0.0.0/16", 24, 64500),
		VRP("10.1.0.0/16", 16, 64501),
		VRP("10.2.0.0/24", 24, 64502),
		VRP("10.3.0.0/16", 16, 64503),
		VRP("10.4.0.0/16", 24, 64888), // another AS covers the too_short aggregate
		VRP("10.4.0.0/23", 24, 64504),
		VRP("10.4.2.0/23", 24, 64504),
		VRP("10.5.0.0/16", 24, 64505),
		VRP("10.6.0.0/16", 16, 0), // RFC 6483 §4 AS0
		VRP("2001:db8::/32", 48, 64520),
	}
	Valid       = Route{"10.0.1.0/24", 0, "64500"}
	SameValid   = Route{"10.0.2.0/24", 1, "64500"}
	SameInvalid = Route{"10.0.2.0/24", 2, "64999"} // wrong_origin, same_prefix
	Cover       = Route{"10.1.0.0/16", 0, "64501"}
	TooSpecific = Route{"10.1.5.0/24", 0, "64501"} // too_specific, covered
	WrongOrigin = Route{"10.2.0.0/24", 0, "64999"} // wrong_origin, unreachable
	Both        = Route{"10.3.7.0/24", 0, "64666"} // both, unreachable
	TooShort    = Route{"10.4.0.0/22", 0, "64504"} // too_short, more_specifics
	Piece       = Route{"10.4.0.0/23", 0, "64504"}
	Piece2      = Route{"10.4.2.0/23", 0, "64504"}
	ASSet       = Route{"10.5.0.0/24", 0, "64505 {64506,64507}"} // as_set
	AS0         = Route{"10.6.0.0/16", 0, "64530"}               // wrong_origin under AS0
	NotFound    = Route{"172.16.0.0/24", 0, "64510"}
	V6Valid     = Route{"2001:db8:1::/48", 0, "64520"}
	V6Specific  = Route{"2001:db8:1:100::/56", 0, "64520"} // too_specific, covered (IPv6)
	Routes0     = []Route{Valid, SameValid, SameInvalid, Cover, TooSpecific, WrongOrigin, Both, TooShort, Piece, Piece2, ASSet, AS0, NotFound, V6Valid, V6Specific}
)

// Without returns s less every element equal to one of drop (routes or
// VRPs taken out of the fixture).
func Without[T comparable](s []T, drop ...T) []T {
	var out []T
	for _, x := range s {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}
