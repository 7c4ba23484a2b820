package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/classify"
)

// Encode writes analysis a with header h as a snapshot. Created is stored
// in UTC to the second. Cost: one pass over the VRPs, routes and verdicts;
// the result is about 40 bytes per VRP and route.
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
	w := writer{b: make([]byte, 0, prologue+len(hj)+len(vrps)*37+len(parts.Routes)*35+len(parts.Bits)*8+64*9)}
	w.b = append(w.b, Magic...)
	w.u32(Version)
	w.u32(uint32(len(hj)))
	w.b = append(w.b, hj...)

	s := w.section("VRPS")
	w.u32(uint32(len(vrps)))
	for _, v := range vrps {
		w.u8(famOf(v.Prefix.Addr()))
		w.u8(uint8(max(0, v.Prefix.Bits())))
		w.u8(v.MaxLen)
		w.u16(uint16(taIndex[v.TA]))
		w.u32(v.ASN)
		w.addr(v.Prefix.Addr())
	}
	w.end(s)
	v4, v6, byASN := a.Index.Orders()
	for _, o := range []struct {
		tag   string
		order []uint32
	}{{"ORD4", v4}, {"ORD6", v6}, {"ORDA", byASN}} {
		s := w.section(o.tag)
		w.u32s(o.order)
		w.end(s)
	}

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

	s = w.section("ROUT")
	w.u32(uint32(len(parts.Routes)))
	for _, r := range parts.Routes {
		w.u8(famOf(r.Prefix.Addr()))
		w.u8(uint8(max(0, r.Prefix.Bits())))
		w.u8(uint8(r.Origin.Kind))
		w.u32(r.Origin.ASN)
		w.u32(r.Paths)
		w.addr(r.Prefix.Addr())
	}
	w.end(s)

	s = w.section("BITS")
	w.u32(uint32(parts.Words))
	w.u32(uint32(len(parts.Bits)))
	for _, x := range parts.Bits {
		w.b = binary.LittleEndian.AppendUint64(w.b, x)
	}
	w.end(s)

	s = w.section("ASET")
	ids := make([]uint32, 0, len(parts.ASSets))
	for id := range parts.ASSets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	w.u32(uint32(len(ids)))
	for _, id := range ids {
		w.u32(id)
		w.u32s(parts.ASSets[id])
	}
	w.end(s)

	s = w.section("OUTC")
	w.u32(uint32(len(a.Outcomes)))
	total := 0
	for id, o := range a.Outcomes {
		w.u8(uint8(o.Origin.Kind))
		w.u32(o.Origin.ASN)
		w.u8(uint8(o.State))
		w.u8(uint8(o.Class))
		w.u8(flagsOf(o))
		n := len(a.VRPs(id))
		w.u32(uint32(n))
		total += n
	}
	w.u32(uint32(total))
	for id := range a.Outcomes {
		for _, r := range a.VRPs(id) {
			w.u32(r)
		}
	}
	w.end(s)

	w.u32(crc32.Checksum(w.b, castagnoli))
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
