package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Decode decodes a snapshot; name is only for errors. It checks the magic,
// the version and the checksum before anything else, so a truncated or
// bit-flipped file is refused as such. The Snapshot keeps no reference to
// data. Cost: linear in the file, plus classify.Assemble's coverage index.
func Decode(data []byte, name string) (*Snapshot, error) {
	if err := checkPrologue(data, name); err != nil {
		return nil, err
	}
	if len(data) < prologue+4 {
		return nil, &FormatError{File: name, Offset: int64(len(data)), What: "truncated: no checksum", Err: io.ErrUnexpectedEOF}
	}
	body := data[:len(data)-4]
	if want, got := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return nil, &FormatError{File: name, Offset: int64(len(body)), What: fmt.Sprintf("checksum %08x, computed %08x: the file is damaged or truncated", want, got)}
	}
	return decode(body, name)
}

func checkPrologue(data []byte, name string) error {
	if !HasMagic(data) {
		return &FormatError{File: name, Offset: 0, What: fmt.Sprintf("no %q magic: %v", Magic, ErrNotSnapshot), Err: ErrNotSnapshot}
	}
	if len(data) < prologue {
		return &FormatError{File: name, Offset: int64(len(data)), What: "truncated in the file header", Err: io.ErrUnexpectedEOF}
	}
	if v := binary.LittleEndian.Uint32(data[len(Magic):]); v != Version {
		return &FormatError{File: name, Offset: int64(len(Magic)), What: fmt.Sprintf("format version %d, this rovimpact reads version %d (write the snapshot again)", v, Version)}
	}
	return nil
}

// decode reads body, a snapshot without its checksum. The fuzz target calls
// it directly so that mutated inputs reach the structural checks.
func decode(body []byte, name string) (*Snapshot, error) {
	if err := checkPrologue(body, name); err != nil {
		return nil, err
	}
	r := &reader{b: body, off: len(Magic) + 4, name: name}
	hlen := int(r.u32())
	hj := r.bytes(hlen)
	if r.err != nil {
		return nil, r.err
	}
	var fh fileHeader
	if err := json.Unmarshal(hj, &fh); err != nil {
		return nil, &FormatError{File: name, Offset: int64(prologue), What: fmt.Sprintf("JSON header: %v", err), Err: err}
	}
	opt, err := optionsOf(fh.Meta.Policy)
	if err != nil {
		return nil, &FormatError{File: name, Offset: int64(prologue), What: fmt.Sprintf("JSON header: policy: %v", err), Err: err}
	}

	// Every section is located first (a length each), then the VRP half
	// and the table half decode at once: neither reads the other.
	tags := [...]string{"VRPS", "ORD4", "ORD6", "ORDA", "PEER", "ROUT", "BITS", "ASET", "OUTC"}
	var sec [len(tags)]*reader
	for i, tag := range tags {
		sec[i] = r.section(tag)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(body) {
		return nil, &FormatError{File: name, Offset: int64(r.off), What: fmt.Sprintf("%d bytes after the last section", len(body)-r.off)}
	}
	// The VRP half (VRPs, index) and the table half (table, verdicts,
	// coverage) decode at once; the verdicts need only the VRP count.
	var (
		ix    *rov.Index
		ixErr error
		nvrps = make(chan int, 1)
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ix, ixErr = decodeIndex(sec[0], sec[1], sec[2], sec[3], fh.TAs, nvrps)
	}()
	a, tabErr := decodeAnalysis(sec[4:], opt, nvrps)
	wg.Wait()
	// Errors in file order, whichever half finished first.
	if ixErr != nil {
		return nil, ixErr
	}
	if tabErr != nil {
		return nil, tabErr
	}
	a.Index = ix
	return &Snapshot{Header: fh.Header, Analysis: a}, nil
}

// decodeAnalysis restores the table, reads the verdicts (once the VRP half
// sent the VRP count, or closed nvrps on error) and assembles the analysis
// without its index: classify.Assemble only stores the index, so the
// caller sets Analysis.Index when the other half is done, and the coverage
// index is built meanwhile.
func decodeAnalysis(sec []*reader, opt classify.Options, nvrps <-chan int) (*classify.Analysis, error) {
	t, err := decodeTable(sec[0], sec[1], sec[2], sec[3])
	if err != nil {
		return nil, err
	}
	n, ok := <-nvrps
	if !ok {
		return nil, nil // the VRP half failed and reports why
	}
	outcomes, offs, refs := decodeOutcomes(sec[4], t.Routes(), n, opt)
	if sec[4].err != nil {
		return nil, sec[4].err
	}
	return classify.Assemble(t, nil, opt, outcomes, func(id int) []uint32 { return refs[offs[id]:offs[id+1]] }), nil
}

// decodeIndex reads the VRPs and the index orders and rebuilds the index.
func decodeIndex(vs, o4, o6, oa *reader, tas []string, nvrps chan<- int) (*rov.Index, error) {
	vrps := decodeVRPs(vs, tas)
	if vs.err != nil {
		close(nvrps)
		return nil, vs.err
	}
	nvrps <- len(vrps)
	var orders [3][]uint32
	for i, s := range []*reader{o4, o6, oa} {
		orders[i] = s.u32s()
		s.done()
		if s.err != nil {
			return nil, s.err
		}
	}
	ix, err := rov.NewIndexOrdered(vrps, orders[0], orders[1], orders[2])
	if err != nil {
		at := vs.start
		var oe *rov.OrderError
		if errors.As(err, &oe) {
			switch oe.Order {
			case "ipv4":
				at = o4.start + 4 + 4*oe.Pos
			case "ipv6":
				at = o6.start + 4 + 4*oe.Pos
			case "asn":
				at = oa.start + 4 + 4*oe.Pos
			}
		}
		return nil, &FormatError{File: vs.name, Offset: int64(at), What: err.Error(), Err: err}
	}
	return ix, nil
}

// decodeTable reads the peers, routes, bitsets and AS_SETs and restores
// the table.
func decodeTable(ps, rs, bs, as *reader) (*table.Table, error) {
	var parts table.Parts
	parts.Peers = decodePeers(ps)
	parts.Routes = decodeRoutes(rs)
	parts.Words = int(bs.u32())
	if n := bs.count(8); bs.err == nil {
		parts.Bits = make([]uint64, n)
		for i := range parts.Bits {
			parts.Bits[i] = binary.LittleEndian.Uint64(bs.b[bs.off+8*i:])
		}
		bs.off += 8 * n
	}
	bs.done()
	parts.ASSets = decodeASSets(as)
	for _, s := range []*reader{ps, rs, bs, as} {
		if s.err != nil {
			return nil, s.err
		}
	}
	t, err := table.Restore(parts)
	if err != nil {
		return nil, &FormatError{File: ps.name, Offset: int64(ps.start - 12), What: err.Error(), Err: err}
	}
	return t, nil
}

func decodeVRPs(s *reader, tas []string) []rov.VRP {
	n := s.count(9)
	if s.err != nil {
		return nil
	}
	vrps := make([]rov.VRP, n)
	for i := range vrps {
		at := s.off
		h, a, ok := s.record(9) // fam, bits, maxLen, ta u16, asn u32
		if !ok {
			return nil
		}
		bits, maxLen, ta, asn := h[1], h[2], binary.LittleEndian.Uint16(h[3:]), binary.LittleEndian.Uint32(h[5:])
		if int(ta) >= len(tas) {
			s.failAt(at, "VRP %d: trust anchor %d, the header names %d", i, ta, len(tas))
			return nil
		}
		p, ok := s.prefix(at, a, bits)
		if !ok {
			return nil
		}
		if a.IsValid() && (maxLen < bits || int(maxLen) > a.BitLen()) {
			s.failAt(at, "VRP %d: maxLength %d outside %d..%d for %s", i, maxLen, bits, a.BitLen(), p)
			return nil
		}
		vrps[i] = rov.VRP{Prefix: p, MaxLen: maxLen, ASN: asn, TA: tas[ta]}
	}
	s.done()
	return vrps
}

func decodePeers(s *reader) []route.PeerKey {
	n := s.count(5)
	if s.err != nil {
		return nil
	}
	peers := make([]route.PeerKey, n)
	for i := range peers {
		asn, fam := s.u32(), s.u8()
		peers[i] = route.PeerKey{AS: asn, IP: s.addr(fam)}
	}
	s.done()
	return peers
}

func decodeRoutes(s *reader) []table.Route {
	n := s.count(11)
	if s.err != nil {
		return nil
	}
	routes := make([]table.Route, n)
	for i := range routes {
		at := s.off
		h, a, ok := s.record(11) // fam, bits, kind, asn u32, paths u32
		if !ok {
			return nil
		}
		if !a.IsValid() {
			s.failAt(at, "route %d: no prefix", i)
			return nil
		}
		p, ok := s.prefix(at, a, h[1])
		if !ok {
			return nil
		}
		o, ok := s.origin(at, h[2], binary.LittleEndian.Uint32(h[3:]))
		if !ok {
			return nil
		}
		routes[i] = table.Route{Prefix: p, Origin: o, Paths: binary.LittleEndian.Uint32(h[7:])}
	}
	s.done()
	return routes
}

func decodeASSets(s *reader) map[uint32][]uint32 {
	n := s.count(8)
	if s.err != nil {
		return nil
	}
	sets := make(map[uint32][]uint32, n)
	prev := -1
	for range n {
		at := s.off
		id := s.u32()
		set := s.u32s()
		if s.err != nil {
			return nil
		}
		if int(id) <= prev {
			s.failAt(at, "AS_SET of route %d after route %d: not in route order", id, prev)
			return nil
		}
		prev = int(id)
		sets[id] = set
	}
	s.done()
	return sets
}

// decodeOutcomes reads the verdicts and checks each is one ClassifyRoute
// could have given route id under opt: its origin is the route's resolved
// with the local AS, a local origin is unvalidated and kept, Dropped follows
// the AS_SET policy, a class and AS0 only for invalid routes, and deciding
// VRPs exist.
func decodeOutcomes(s *reader, routes []table.Route, nvrps int, opt classify.Options) ([]classify.Outcome, []uint32, []uint32) {
	n := s.count(12)
	if s.err != nil {
		return nil, nil, nil
	}
	if n != len(routes) {
		s.fail("%d verdicts for %d routes", n, len(routes))
		return nil, nil, nil
	}
	outcomes := make([]classify.Outcome, n)
	offs := make([]uint32, n+1)
	for id := range outcomes {
		at := s.off
		kind, asn, state, class, flags, nrefs := s.u8(), s.u32(), s.u8(), s.u8(), s.u8(), s.u32()
		if s.err != nil {
			return nil, nil, nil
		}
		o, ok := s.origin(at, kind, asn)
		if !ok {
			return nil, nil, nil
		}
		out := classify.Outcome{Origin: o, State: rov.State(state), Class: classify.Class(class),
			AS0: flags&flagAS0 != 0, Unvalidated: flags&flagUnvalidated != 0, Dropped: flags&flagDropped != 0}
		var bad string
		switch {
		case flags&^flagMask != 0:
			bad = fmt.Sprintf("unknown flags %#x", flags)
		case state > uint8(rov.Invalid):
			bad = fmt.Sprintf("unknown state %d", state)
		case class > uint8(classify.Both):
			bad = fmt.Sprintf("unknown class %d", class)
		case o != routes[id].Origin.WithLocalAS(opt.LocalAS):
			bad = fmt.Sprintf("origin %v, the route's is %v with local AS %d", o, routes[id].Origin, opt.LocalAS)
		case out.Unvalidated != (o.Kind == rov.OriginLocal):
			bad = "unvalidated flag does not match a local origin"
		case out.Unvalidated && (out.State != rov.NotFound || out.Dropped || nrefs != 0):
			bad = "an unvalidated route with a verdict"
		case !out.Unvalidated && out.Dropped != classify.Dropped(out.State, o, opt.ASSet):
			bad = fmt.Sprintf("dropped=%v contradicts state %v under AS_SET policy %v", out.Dropped, out.State, opt.ASSet)
		case out.State != rov.Invalid && (out.Class != classify.None || out.AS0):
			bad = fmt.Sprintf("class %v / AS0 on a %v route", out.Class, out.State)
		case out.State == rov.Invalid && out.Class == classify.None:
			bad = "an invalid route without a class"
		}
		if bad != "" {
			s.failAt(at, "verdict of route %d: %s", id, bad)
			return nil, nil, nil
		}
		outcomes[id] = out
		if uint64(offs[id])+uint64(nrefs) > uint64(len(s.b)) {
			s.failAt(at, "verdict of route %d: %d deciding VRPs, more than the section holds", id, nrefs)
			return nil, nil, nil
		}
		offs[id+1] = offs[id] + nrefs
	}
	at := s.off
	refs := s.u32s()
	if s.err != nil {
		return nil, nil, nil
	}
	if uint32(len(refs)) != offs[n] {
		s.failAt(at, "%d deciding VRPs, the verdicts count %d", len(refs), offs[n])
		return nil, nil, nil
	}
	for j, v := range refs {
		if int(v) >= nvrps {
			s.failAt(at+4+4*j, "deciding VRP %d out of range (%d VRPs)", v, nvrps)
			return nil, nil, nil
		}
	}
	s.done()
	return outcomes, offs, refs
}
