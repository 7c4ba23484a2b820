package live

import (
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// canonical returns a sorted copy of vrps (masked prefixes) with one VRP
// per (prefix, maxLength, ASN), the first one's TA kept: the set the State
// holds after SetVRPs(vrps), for the test models.
func canonical(vrps []rov.VRP) []rov.VRP {
	out := slices.Clone(vrps)
	for i := range out {
		out[i].Prefix = out[i].Prefix.Masked()
	}
	return rov.Canonicalize(out)
}
