// Package classify knows why a route is RPKI-invalid and what becomes of
// it when ROV drops it: the class of each invalid (class.go: as_set,
// too_specific, too_short, wrong_origin, both, with the VRPs that explain
// it) and its impact on reachability (impact.go). It takes values and
// returns values; it knows nothing of files, sockets, clocks or formats.
package classify

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// Class says why a route is RPKI-invalid. Every Invalid route gets exactly
// one class; the zero value None is for routes that are not Invalid.
type Class uint8

const (
	None Class = iota
	// ASSet: the origin is NONE because the AS_PATH ends in an AS_SET
	// (RFC 6811 §2), so no VRP can match. Reported whatever the --as-set
	// policy; the impact stage applies the policy.
	ASSet
	// TooSpecific: a covering VRP holds the origin AS, but the route is
	// longer than every such VRP's maxLength.
	TooSpecific
	// TooShort: no covering VRP holds the origin AS, but the origin holds
	// VRPs strictly inside the route: it announces an aggregate of space it
	// authorised only in pieces (ROA 192.0.2.0/23-24 AS X, route
	// 192.0.2.0/22 from AS X, covered by another AS's VRP).
	TooShort
	// WrongOrigin: no covering VRP holds the origin AS, and some covering
	// VRP allows the route's length (for another AS, or AS0).
	WrongOrigin
	// Both: no covering VRP holds the origin AS, and every covering VRP's
	// maxLength is shorter than the route: wrong origin and too specific.
	Both
)

// Classes lists the classes of invalid routes in report order.
var Classes = []Class{ASSet, TooSpecific, TooShort, WrongOrigin, Both}

var classNames = [...]string{"", "as_set", "too_specific", "too_short", "wrong_origin", "both"}

// String returns the stable snake_case name ("" for None).
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// MarshalText writes the String name.
func (c Class) MarshalText() ([]byte, error) {
	if int(c) >= len(classNames) {
		return nil, fmt.Errorf("classify: cannot marshal unknown class %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a String name back (see ParseClass).
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseClass parses a String name; "" is None.
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if s == n {
			return Class(i), nil
		}
	}
	return None, fmt.Errorf("classify: unknown class %q (want as_set, too_specific, too_short, wrong_origin or both)", s)
}

// Verdict is the validation state of a route and, when Invalid, why.
type Verdict struct {
	State rov.State
	Class Class // None unless State == rov.Invalid
	// AS0: Invalid, and every covering VRP has ASN 0, i.e. the holder
	// declared the space must not be routed (RFC 6483 §4, RFC 7607).
	AS0 bool
	// VRPs explain the verdict, as indexes into Index.VRPs(), most telling
	// first:
	//   Valid:        the matching VRPs;
	//   ASSet:        every covering VRP;
	//   TooSpecific:  the covering VRPs of the origin AS (the route exceeds
	//                 each one's maxLength);
	//   TooShort:     the origin's VRPs inside the route, then every
	//                 covering VRP;
	//   WrongOrigin:  the covering VRPs that allow the route's length, then
	//                 the other covering VRPs (all of them decided: any of
	//                 them would have matched with the right origin and
	//                 length, so a report must be able to name them all);
	//   Both:         every covering VRP.
	// The slice belongs to the Classifier and is valid until its next call.
	VRPs []uint32
}

// Classifier classifies routes against one Index. It holds scratch buffers,
// so use one per goroutine; the Index itself is shared.
type Classifier struct {
	ix     *rov.Index
	cover  []uint32
	inside []uint32
	out    []uint32
}

// NewClassifier returns a Classifier over ix.
func NewClassifier(ix *rov.Index) *Classifier {
	return &Classifier{
		ix:     ix,
		cover:  make([]uint32, 0, 64),
		inside: make([]uint32, 0, 64),
		out:    make([]uint32, 0, 64),
	}
}

// Classify validates route p from origin o (rov.Index.Validate) and, when it
// is Invalid, decides its Class by these rules, first match wins (C: the
// covering VRPs; A: those in C with the origin's ASN, AS0 excluded since it
// authorises nobody):
//
//  1. ASSet: the origin is NONE.
//  2. TooSpecific: A is not empty (the origin is authorised, the route is
//     longer than every maxLength in A).
//  3. TooShort: A is empty and the origin holds VRPs strictly inside p.
//  4. WrongOrigin: A is empty and some VRP in C allows p's length.
//  5. Both: A is empty and every VRP in C has maxLength < p's length.
//
// An origin still OriginLocal is treated as unknown: like Validate, it
// matches nothing; its Invalid verdicts get WrongOrigin or Both. Callers
// should resolve it first and report unresolved routes separately.
//
// Classify does not allocate once its buffers have grown to the largest
// covering set seen.
func (c *Classifier) Classify(p netip.Prefix, o rov.Origin) Verdict {
	r := c.ix.Validate(p, o, c.cover)
	c.cover = r.VRPs[:0]
	if r.State != rov.Invalid {
		return Verdict{State: r.State, VRPs: r.VRPs}
	}
	cov := r.VRPs
	v := Verdict{State: rov.Invalid, AS0: true}
	for _, i := range cov {
		if c.ix.ASN(i) != 0 {
			v.AS0 = false
			break
		}
	}
	if o.Kind == rov.OriginNone {
		v.Class, v.VRPs = ASSet, cov
		return v
	}
	bits := uint8(p.Bits())
	asn := o.ASN
	known := o.Kind == rov.OriginAS && asn != 0
	out := c.out[:0]
	if known {
		for _, i := range cov {
			if c.ix.ASN(i) == asn {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			c.out = out[:0]
			v.Class, v.VRPs = TooSpecific, out
			return v
		}
		c.inside = c.ix.InsideByASN(p, asn, c.inside[:0])
		if len(c.inside) > 0 {
			out = append(append(out, c.inside...), cov...)
			c.out = out[:0]
			v.Class, v.VRPs = TooShort, out
			return v
		}
	}
	for _, i := range cov {
		if c.ix.MaxLen(i) >= bits {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		v.Class, v.VRPs = Both, cov
		return v
	}
	for _, i := range cov {
		if c.ix.MaxLen(i) < bits {
			out = append(out, i)
		}
	}
	c.out = out[:0]
	v.Class, v.VRPs = WrongOrigin, out
	return v
}

// Explain writes the one-line human explanation of verdict v for route p
// from origin o, naming the first deciding VRP (vrps is Index.VRPs()), e.g.
// "VRP 192.0.2.0/22-23 AS64500 allows up to /23; route is /24". It is for
// reports and allocates; the data is in v.
func Explain(v Verdict, vrps []rov.VRP, p netip.Prefix, o rov.Origin) string {
	return ExplainBy(v, func(i uint32) rov.VRP { return vrps[i] }, p, o)
}

// ExplainBy is Explain with the deciding VRPs looked up by vrp (an
// Index's VRP), for indexes that hold their VRPs packed.
func ExplainBy(v Verdict, vrp func(uint32) rov.VRP, p netip.Prefix, o rov.Origin) string {
	var b strings.Builder
	first := func() rov.VRP {
		if len(v.VRPs) == 0 {
			return rov.VRP{}
		}
		return vrp(v.VRPs[0])
	}
	more := func(n int) {
		if n > 0 {
			fmt.Fprintf(&b, " (and %d more VRP", n)
			if n > 1 {
				b.WriteByte('s')
			}
			b.WriteByte(')')
		}
	}
	bits := p.Bits()
	switch {
	case v.State == rov.NotFound:
		fmt.Fprintf(&b, "no VRP covers %s", p)
	case v.State == rov.Valid:
		f := first()
		fmt.Fprintf(&b, "VRP %s allows %s up to /%d; route is /%d", f, originString(o), f.MaxLen, bits)
		more(len(v.VRPs) - 1)
	case v.Class == ASSet:
		fmt.Fprintf(&b, "origin is NONE (AS_PATH ends in an AS_SET), which no VRP matches; covered by VRP %s", first())
		more(len(v.VRPs) - 1)
	case v.Class == TooSpecific:
		// Name the VRP allowing the longest prefix: the one the route
		// misses by the fewest bits.
		best := vrp(v.VRPs[0])
		for _, i := range v.VRPs[1:] {
			if vrp(i).MaxLen > best.MaxLen {
				best = vrp(i)
			}
		}
		fmt.Fprintf(&b, "VRP %s allows up to /%d; route is /%d", best, best.MaxLen, bits)
		more(len(v.VRPs) - 1)
	case v.Class == TooShort:
		n := 0
		for _, i := range v.VRPs {
			if vrp(i).ASN == o.ASN && vrp(i).Prefix.Bits() > bits {
				n++
			}
		}
		fmt.Fprintf(&b, "%s holds VRP %s inside the route but none covering it; route is /%d", originString(o), first(), bits)
		more(n - 1)
		if n < len(v.VRPs) {
			fmt.Fprintf(&b, "; covered by VRP %s", vrp(v.VRPs[n]))
			more(len(v.VRPs) - n - 1)
		}
	case v.Class == WrongOrigin:
		f := first()
		if f.ASN == 0 {
			fmt.Fprintf(&b, "VRP %s is AS0: no origin may announce it; route is /%d from %s", f, bits, originString(o))
		} else {
			fmt.Fprintf(&b, "VRP %s allows /%d only for AS%d; route is from %s", f, bits, f.ASN, originString(o))
		}
		more(len(v.VRPs) - 1)
	case v.Class == Both:
		f := first()
		if f.ASN == 0 {
			fmt.Fprintf(&b, "VRP %s is AS0: no origin may announce it; route is /%d from %s", f, bits, originString(o))
		} else {
			fmt.Fprintf(&b, "VRP %s allows up to /%d for AS%d only; route is /%d from %s", f, f.MaxLen, f.ASN, bits, originString(o))
		}
		more(len(v.VRPs) - 1)
	default:
		fmt.Fprintf(&b, "%s: %d VRPs", v.State, len(v.VRPs))
	}
	return b.String()
}

// originString names the origin in a verdict's explanation: rov.Origin's
// String ("AS64500", "NONE"), but in words for an unresolved local origin.
func originString(o rov.Origin) string {
	if o.Kind == rov.OriginLocal {
		return "an unknown local AS"
	}
	return o.String()
}
