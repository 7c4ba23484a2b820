package alert

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// Filter selects the events a receiver is told. Empty lists select all.
// Prefixes and ASNs are the operator's own space: a route event matches
// when its prefix covers or is covered by one of Prefixes, or its origin is
// one of ASNs (either, when both are given). Events without a prefix (a
// peer, a cache) are about the service, not about anyone's space: Prefixes
// and ASNs do not hold them back; Events does.
type Filter struct {
	Prefixes []netip.Prefix
	ASNs     []uint32
	Classes  []classify.Class
	Impacts  []classify.Impact
	Events   []string
	// MinCount: a message goes only when at least this many events are
	// due together (held-down events wait for company).
	MinCount int
}

// Match reports whether e passes the filter (MinCount aside).
func (f *Filter) Match(e Event) bool {
	if len(f.Events) > 0 && !slices.Contains(f.Events, e.Name) {
		return false
	}
	if e.InitialLoad && len(f.Prefixes) == 0 && len(f.ASNs) == 0 {
		return false // the initial_load summary tells it
	}
	if e.Prefix.IsValid() && (len(f.Prefixes) > 0 || len(f.ASNs) > 0) {
		mine := slices.ContainsFunc(f.Prefixes, e.Prefix.Overlaps)
		if !mine && e.Origin != nil && e.Origin.Kind == rov.OriginAS {
			mine = slices.Contains(f.ASNs, e.Origin.ASN)
		}
		if !mine {
			return false
		}
	}
	if len(f.Classes) > 0 && !slices.Contains(f.Classes, e.Class) && !slices.Contains(f.Classes, e.OldClass) {
		return false
	}
	if len(f.Impacts) > 0 && !slices.Contains(f.Impacts, e.Impact) && !slices.Contains(f.Impacts, e.OldImpact) {
		return false
	}
	return true
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
