package watch

// Fixtures shared with cmd/rovimpact's watch tests (copies: the CLI
// tests there drive the same routes and VRPs through real peers).

import (
	"net/netip"

	"github.com/rovimpact/rovimpact/rov"
)

// annRoute is one path a test speaker announces: prefix, ADD-PATH id and
// AS path in gobgp's syntax ("64500 {64501,64502}"), before the speaker
// prepends its own AS.
type annRoute struct {
	prefix string
	id     int
	path   string
}

func vrpOf(p string, maxLen int, asn uint32) rov.VRP {
	return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: uint8(maxLen), ASN: asn}
}

// Every class, every impact, AS0, IPv6, ADD-PATH: the routes announced
// first and the VRPs served first.
var (
	watchVRPs0 = []rov.VRP{
		vrpOf("10.0.0.0/16", 24, 64500),
		vrpOf("10.1.0.0/16", 16, 64501),
		vrpOf("10.2.0.0/24", 24, 64502),
		vrpOf("10.3.0.0/16", 16, 64503),
		vrpOf("10.4.0.0/16", 24, 64888), // another AS covers the too_short aggregate
		vrpOf("10.4.0.0/23", 24, 64504),
		vrpOf("10.4.2.0/23", 24, 64504),
		vrpOf("10.5.0.0/16", 24, 64505),
		vrpOf("10.6.0.0/16", 16, 0), // RFC 6483 §4 AS0
		vrpOf("2001:db8::/32", 48, 64520),
	}
	rValid       = annRoute{"10.0.1.0/24", 0, "64500"}
	rSameValid   = annRoute{"10.0.2.0/24", 1, "64500"}
	rSameInvalid = annRoute{"10.0.2.0/24", 2, "64999"} // wrong_origin, same_prefix
	rCover       = annRoute{"10.1.0.0/16", 0, "64501"}
	rTooSpecific = annRoute{"10.1.5.0/24", 0, "64501"} // too_specific, covered
	rWrongOrigin = annRoute{"10.2.0.0/24", 0, "64999"} // wrong_origin, unreachable
	rBoth        = annRoute{"10.3.7.0/24", 0, "64666"} // both, unreachable
	rTooShort    = annRoute{"10.4.0.0/22", 0, "64504"} // too_short, more_specifics
	rPiece       = annRoute{"10.4.0.0/23", 0, "64504"}
	rPiece2      = annRoute{"10.4.2.0/23", 0, "64504"}
	rASSet       = annRoute{"10.5.0.0/24", 0, "64505 {64506,64507}"} // as_set
	rAS0         = annRoute{"10.6.0.0/16", 0, "64530"}               // wrong_origin under AS0
	rNotFound    = annRoute{"172.16.0.0/24", 0, "64510"}
	rV6Valid     = annRoute{"2001:db8:1::/48", 0, "64520"}
	rV6Specific  = annRoute{"2001:db8:1:100::/56", 0, "64520"} // too_specific, covered (IPv6)
	watchRoutes0 = []annRoute{rValid, rSameValid, rSameInvalid, rCover, rTooSpecific, rWrongOrigin, rBoth, rTooShort, rPiece, rPiece2, rASSet, rAS0, rNotFound, rV6Valid, rV6Specific}
)

func without[T comparable](s []T, drop ...T) []T {
	var out []T
next:
	for _, x := range s {
		for _, d := range drop {
			if x == d {
				continue next
			}
		}
		out = append(out, x)
	}
	return out
}
