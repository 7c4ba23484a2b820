package snapshot

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// Encode writes analysis a with header h as a snapshot. Created is stored
// in UTC to the second. Cost: one pass over the VRPs, routes and verdicts
// plus a sort of each family's VRPs and routes by prefix (linear when the
// routes are in prefix order already, as a table.Ingester leaves them);
// the result is about 25 bytes per VRP and 40 per route.
func Encode(h Header, a *classify.Analysis) ([]byte, error) {
	opt, err := optionsOf(h.Meta.Policy)
	if err != nil {
		return nil, fmt.Errorf("snapshot: meta policy: %w", err)
	}
	if opt.ASSet != a.Options.ASSet || opt.LocalAS != a.Options.LocalAS || opt.Impact != a.Options.Impact {
		return nil, fmt.Errorf("snapshot: meta policy %+v disagrees with the analysis options %+v", h.Meta.Policy, a.Options)
	}
	h.Created = h.Created.UTC().Truncate(time.Second)
	vrps := a.Index.VRPs()
	fh := fileHeader{Header: h, TAs: []string{}}
	taIndex := map[string]int{}
	for _, v := range vrps {
		if _, ok := taIndex[v.TA]; !ok {
			taIndex[v.TA] = len(fh.TAs)
			fh.TAs = append(fh.TAs, v.TA)
		}
	}
	if len(fh.TAs) > 1<<16 {
		return nil, fmt.Errorf("snapshot: %d trust anchor names, at most %d", len(fh.TAs), 1<<16)
	}
	hj, err := json.Marshal(fh)
	if err != nil {
		return nil, fmt.Errorf("snapshot: header: %w", err)
	}
	t := a.Table
	parts := t.Parts()
	routes := parts.Routes
	nrefs := 0
	for id := range routes {
		nrefs += len(a.VRPs(id))
	}
	w := writer{b: make([]byte, 0, prologue+len(hj)+len(vrps)*(vrp6Size+4)+len(routes)*(rut6Size+4+8*parts.Words)+4*nrefs+16*12+64)}
	w.b = append(w.b, Magic...)
	w.u32(Version)
	w.u32(uint32(len(hj)))
	w.b = append(w.b, hj...)

	// The VRPs, each family in prefix order (the index's own orders), and
	// where each VRP id's record is.
	v4, v6, byASN := a.Index.Orders()
	var inv []uint32
	for _, i := range byASN {
		if !vrps[i].Prefix.IsValid() {
			inv = append(inv, i)
		}
	}
	slices.SortFunc(inv, func(x, y uint32) int {
		return cmp.Or(cmp.Compare(vrps[x].MaxLen, vrps[y].MaxLen), cmp.Compare(vrps[x].ASN, vrps[y].ASN), cmp.Compare(x, y))
	})
	vpos := make([]uint32, len(vrps))
	pos := uint32(0)
	for _, sec := range []struct {
		tag   string
		order []uint32
	}{{"VRP4", v4}, {"VRP6", v6}, {"VRPX", inv}} {
		s := w.section(sec.tag)
		w.u32(uint32(len(sec.order)))
		for _, i := range sec.order {
			v := vrps[i]
			if sec.tag != "VRPX" {
				w.addr(v.Prefix.Addr())
				w.u8(uint8(v.Prefix.Bits()))
			}
			w.u8(v.MaxLen)
			if sec.tag == "VRPX" {
				w.u8(0)
			}
			w.u16(uint16(taIndex[v.TA]))
			w.u32(v.ASN)
			w.u32(i)
			vpos[i] = pos
			pos++
		}
		w.end(s)
	}
	if int(pos) != len(vrps) {
		return nil, fmt.Errorf("snapshot: the index orders hold %d of %d VRPs", pos, len(vrps))
	}
	s := w.section("VIDX")
	w.u32s(vpos)
	w.end(s)

	s = w.section("PEER")
	w.u32(uint32(len(parts.Peers)))
	for _, p := range parts.Peers {
		if p.IP.Zone() != "" {
			return nil, fmt.Errorf("snapshot: peer AS%d %s: addresses with a zone cannot be stored", p.AS, p.IP)
		}
		w.u32(p.AS)
		w.u8(famOf(p.IP))
		w.addr(p.IP)
	}
	w.end(s)

	// The routes with their verdicts, each family in (prefix, id) order;
	// their deciding VRPs in REFS in route id order.
	refOff := make([]uint32, len(routes))
	off := uint32(0)
	for id := range routes {
		refOff[id] = off
		off += uint32(len(a.VRPs(id)))
	}
	ids := make([]uint32, len(routes))
	for i := range ids {
		ids[i] = uint32(i)
	}
	ordered := true
	for i := 1; i < len(routes) && ordered; i++ {
		ordered = rov.ComparePrefix(routes[i-1].Prefix, routes[i].Prefix) <= 0
	}
	if !ordered {
		slices.SortStableFunc(ids, func(x, y uint32) int { return rov.ComparePrefix(routes[x].Prefix, routes[y].Prefix) })
	}
	split := 0 // IPv4 prefixes sort before IPv6 ones
	for _, r := range routes {
		if r.Prefix.Addr().Is4() {
			split++
		}
	}
	rpos := make([]uint32, len(routes))
	for i, id := range ids {
		rpos[id] = uint32(i)
	}
	for _, sec := range []struct {
		tag string
		ids []uint32
	}{{"RUT4", ids[:split]}, {"RUT6", ids[split:]}} {
		s := w.section(sec.tag)
		w.u32(uint32(len(sec.ids)))
		for _, id := range sec.ids {
			r, o := routes[id], a.Outcomes[id]
			if !r.Prefix.IsValid() {
				return nil, fmt.Errorf("snapshot: route %d has no prefix", id)
			}
			w.addr(r.Prefix.Addr())
			w.u8(uint8(r.Prefix.Bits()))
			w.u8(uint8(r.Origin.Kind))
			w.u8(uint8(o.State))
			w.u8(uint8(o.Class))
			w.u8(flagsOf(o))
			w.b = append(w.b, 0, 0, 0)
			w.u32(r.Origin.ASN)
			w.u32(r.Paths)
			w.u32(id)
			w.u32(refOff[id])
			w.u32(uint32(len(a.VRPs(int(id)))))
		}
		w.end(s)
	}
	s = w.section("RIDX")
	w.u32s(rpos)
	w.end(s)

	s = w.section("BITS")
	w.u32(uint32(parts.Words))
	w.u32(uint32(len(parts.Bits)))
	for _, x := range parts.Bits {
		w.b = binary.LittleEndian.AppendUint64(w.b, x)
	}
	w.end(s)

	s = w.section("ASET")
	asIDs := make([]uint32, 0, len(parts.ASSets))
	for id := range parts.ASSets {
		asIDs = append(asIDs, id)
	}
	slices.Sort(asIDs)
	w.u32(uint32(len(asIDs)))
	for _, id := range asIDs {
		w.u32(id)
		w.u32s(parts.ASSets[id])
	}
	w.end(s)

	s = w.section("REFS")
	w.u32(off)
	for id := range routes {
		for _, r := range a.VRPs(id) {
			w.u32(r)
		}
	}
	w.end(s)

	w.u32(crc32.Checksum(w.b, crcTable))
	return w.b, nil
}

const (
	flagAS0 = 1 << iota
	flagUnvalidated
	flagDropped
	flagMask = flagAS0 | flagUnvalidated | flagDropped
)

func flagsOf(o classify.Outcome) uint8 {
	var f uint8
	if o.AS0 {
		f |= flagAS0
	}
	if o.Unvalidated {
		f |= flagUnvalidated
	}
	if o.Dropped {
		f |= flagDropped
	}
	return f
}

// famOf is the stored family code: 4, 6, or 0 for the zero (invalid)
// address, which carries no address bytes.
func famOf(a netip.Addr) uint8 {
	switch {
	case a.Is4():
		return 4
	case a.Is6():
		return 6
	}
	return 0
}
