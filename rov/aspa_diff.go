package rov

import "slices"

// ChangedCustomers returns, sorted, the customer ASes whose U-SPAS entry
// differs between a and b: present in one only, or with other providers.
// Verification reads a set only through authorized(x, y) with x an AS of
// the path (§5.2), so a path none of whose ASes is among them has the same
// outcome under a and b: a live table re-verifies only the paths that
// contain one. Either set may be nil (no entry at all).
func ChangedCustomers(a, b *ASPASet) []uint32 {
	var ac, bc []uint32
	if a != nil {
		ac = a.customers
	}
	if b != nil {
		bc = b.customers
	}
	var out []uint32
	i, j := 0, 0
	for i < len(ac) || j < len(bc) {
		switch {
		case j == len(bc) || i < len(ac) && ac[i] < bc[j]:
			out = append(out, ac[i])
			i++
		case i == len(ac) || bc[j] < ac[i]:
			out = append(out, bc[j])
			j++
		default:
			if !slices.Equal(a.prov[a.off[i]:a.off[i+1]], b.prov[b.off[j]:b.off[j+1]]) {
				out = append(out, ac[i])
			}
			i++
			j++
		}
	}
	return out
}
