package rtr

import (
	"cmp"
	"fmt"
	"slices"
)

// aspaKey identifies one ASPA record a cache holds: the customer AS in the
// low 32 bits and, above them, 0 for the current layout (one record per
// customer, draft-ietf-sidrops-8210bis-26 §5.12) or 1 + the AFI Flags octet
// for the legacy layout, where a record is one customer's providers for
// one address family (draft-ietf-sidrops-8210bis-11 §5.12: an announcement
// "with the same Customer Autonomous System Number and the same Address
// Family ... replaces the previous one"; stayrtr 0.5.1 sends AFI Flags 0
// for IPv4 and 1 for IPv6, the same providers under both).
type aspaKey uint64

func keyOfASPA(p *PDU) aspaKey {
	k := aspaKey(p.ASN)
	if p.ASPALegacy {
		k |= aspaKey(1+uint64(p.AFIFlags)) << 32
	}
	return k
}

func (k aspaKey) customer() uint32 { return uint32(k) }

// afiText names a legacy record's address family for messages.
func (k aspaKey) afiText() string {
	if k>>32 == 0 {
		return ""
	}
	return fmt.Sprintf(" (AFI Flags %d)", uint8(k>>32-1))
}

// countCustomers is the number of distinct customer ASes among held.
func countCustomers(held map[aspaKey][]uint32) int {
	var seen map[uint32]struct{}
	n := 0
	for k := range held {
		if k>>32 == 0 {
			n++
			continue
		}
		if seen == nil {
			seen = map[uint32]struct{}{}
		}
		seen[k.customer()] = struct{}{}
	}
	for c := range seen {
		if _, ok := held[aspaKey(c)]; !ok {
			n++
		}
	}
	return n
}

// mergeASPAs returns one ASPA per customer, sorted by customer. The
// verification draft (draft-ietf-sidrops-aspa-verification) and the ASPA
// profile today are address-family agnostic, so the legacy per-AFI records
// of a customer are joined: its providers are the union of every record's
// (as §5.2 of the verification draft unions a customer's ASPAs). The
// providers of a customer with one record are shared with the client's
// data and must not be modified.
func mergeASPAs(held map[aspaKey][]uint32) []ASPA {
	out := make([]ASPA, 0, len(held))
	for k, prov := range held {
		out = append(out, ASPA{Customer: k.customer(), Providers: prov})
	}
	slices.SortFunc(out, func(a, b ASPA) int { return cmp.Compare(a.Customer, b.Customer) })
	w := 0
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].Customer == out[i].Customer {
			j++
		}
		a := out[i]
		if j-i > 1 {
			var u []uint32
			for _, b := range out[i:j] {
				u = append(u, b.Providers...)
			}
			slices.Sort(u)
			u = slices.Compact(u)
			if len(u) > 1 && u[0] == 0 {
				// AS0 attests "no provider" only when it is all a
				// customer's records say (verification draft §5.2).
				u = u[1:]
			}
			a.Providers = u
		}
		out[w] = a
		w++
		i = j
	}
	return out[:w]
}
