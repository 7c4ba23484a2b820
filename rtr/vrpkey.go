package rtr

import (
	"slices"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
)

// vkey is a VRP as RTR carries it, with no pointer (the prefix as a
// pfxkey.Key, the ASN in its ID): 32 bytes, so that a 700k-entry map of
// them is half the size of one keyed by rov.VRP and costs the garbage
// collector nothing to scan. RTR carries no trust anchor, so none is kept.
type vkey struct {
	k      pfxkey.Key
	maxLen uint8
}

func keyOfPDU(p *PDU) vkey {
	k := vkey{k: pfxkey.Of(p.Prefix), maxLen: p.MaxLen}
	k.k.ID = p.ASN
	return k
}

func keyOf(v rov.VRP) vkey {
	k := vkey{k: pfxkey.Of(v.Prefix), maxLen: v.MaxLen}
	k.k.ID = v.ASN
	return k
}

func (k vkey) vrp() rov.VRP {
	return rov.VRP{Prefix: k.k.Prefix(), MaxLen: k.maxLen, ASN: k.k.ID}
}

// sortedVRPs converts a key set to a sorted VRP slice (nil when empty).
func sortedVRPs[V any](m map[vkey]V) []rov.VRP {
	if len(m) == 0 {
		return nil
	}
	out := make([]rov.VRP, 0, len(m))
	for k := range m {
		out = append(out, k.vrp())
	}
	slices.SortFunc(out, rov.CompareVRP)
	return out
}
