package reports

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/rov"
)

// InvalidsAfter returns the index of the first row of invs (sorted as
// Build sorts Report.Invalids: prefix, then origin with AS_SET last) that
// sorts after the route (prefix, origin), whether or not invs holds that
// route: a page that ended at it resumes there in a newer report without
// repeating or skipping the routes both reports hold.
func InvalidsAfter(invs []Invalid, prefix netip.Prefix, origin *uint32) int {
	i, found := slices.BinarySearchFunc(invs, Invalid{Prefix: prefix, Origin: origin}, func(x, y Invalid) int {
		if c := rov.ComparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
	if found {
		i++
	}
	return i
}
