// Package snapshot stores a finished analysis in one file: the VRPs with
// the index's sort orders, the route table, every route's verdict and the
// report metadata, with the source files they came from. Reading it back
// costs a file read and a few linear passes instead of decompressing,
// parsing, sorting and validating again, so an ad-hoc lookup against a full
// table answers in a fraction of a second from a cold process.
//
// The file is written once (analyze --save, rovimpact snapshot) and read
// many times (lookup --snapshot). Layout, all integers little-endian:
//
//	magic "ROVIMPSN" | version u32 | header length u32 | JSON header
//	sections, in this order, each: tag [4]byte | length u64 | body
//	  VRPS  the VRPs, in index order (VRP i of every reference)
//	  ORD4  IPv4 VRPs in prefix order  (rov.Index.Orders)
//	  ORD6  IPv6 VRPs in prefix order
//	  ORDA  every VRP in ASN order
//	  PEER  the table's peers
//	  ROUT  the table's routes, in route-id order
//	  BITS  the routes' peer bitsets
//	  ASET  the AS_SET unions of OriginNone routes
//	  OUTC  every route's verdict and deciding VRPs
//	CRC-32C (Castagnoli) of everything before it, u32
//
// Decode trusts nothing: every count is bounded by the bytes left, every
// reference is range-checked, the stored orders are checked in one pass each
// (rov.NewIndexOrdered) and each verdict must be the one its route's origin
// and the recorded policy allow; a damaged file is a *FormatError naming
// the file, the offset and what is wrong.
package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Magic opens every snapshot file.
const Magic = "ROVIMPSN"

// Version is the format version Encode writes and Decode reads. Any change
// to the layout bumps it; Decode refuses other versions rather than guess.
const Version = 1

const prologue = len(Magic) + 4 + 4 // magic, version, header length

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Source is one input file as it was when the snapshot was made, so that a
// reader can tell the snapshot is stale.
type Source struct {
	Role    string `json:"role"` // "vrps", "slurm", "routes" or "updates"
	Name    string `json:"name"`
	Size    int64  `json:"size"`     // -1: not a regular file (standard input)
	ModTime int64  `json:"mtime_ns"` // Unix nanoseconds; 0 with Size -1
}

// StatSources records names (of one role) as they are now, by absolute
// path so that a lookup from another directory checks the same files. A
// name that is not a regular file ("-" for standard input, a pipe) gets
// Size -1 and is never reported as changed.
func StatSources(role string, names []string) []Source {
	out := make([]Source, 0, len(names))
	for _, n := range names {
		s := Source{Role: role, Name: n, Size: -1}
		if st, err := os.Stat(n); err == nil && st.Mode().IsRegular() {
			s.Size, s.ModTime = st.Size(), st.ModTime().UnixNano()
			if abs, err := filepath.Abs(n); err == nil {
				s.Name = abs
			}
		}
		out = append(out, s)
	}
	return out
}

// Changed says how the source differs from what was recorded ("" when it
// does not, or when it was not a regular file).
func (s Source) Changed() string {
	if s.Size < 0 {
		return ""
	}
	st, err := os.Stat(s.Name)
	if err != nil {
		return fmt.Sprintf("no longer readable (%v)", err)
	}
	var what []string
	if st.Size() != s.Size {
		what = append(what, fmt.Sprintf("size %d, was %d", st.Size(), s.Size))
	}
	if m := st.ModTime().UnixNano(); m != s.ModTime {
		what = append(what, fmt.Sprintf("modified %s, was %s", st.ModTime().UTC().Format(time.RFC3339), time.Unix(0, s.ModTime).UTC().Format(time.RFC3339)))
	}
	if len(what) == 0 {
		return ""
	}
	out := what[0]
	for _, w := range what[1:] {
		out += "; " + w
	}
	return out
}

// Header is what a snapshot records besides the analysis: when it was made,
// from what, and the report metadata (policy, VRP summary, inputs, skipped)
// a report from the snapshot shows. Meta.Policy also decides the analysis
// options the verdicts were made under (AS_SET policy, local AS, default
// route as cover), so Encode refuses a Meta that disagrees with them.
type Header struct {
	Created     time.Time    `json:"created"`
	Sources     []Source     `json:"sources"`
	DropExpired bool         `json:"drop_expired"` // --drop-expired, which changes the VRP set
	Meta        reports.Meta `json:"meta"`
}

// fileHeader is the JSON header as stored.
type fileHeader struct {
	Header
	TAs []string `json:"tas"` // trust anchor names, indexed by the VRPs
}

// Snapshot is a decoded snapshot file: ready to answer queries.
type Snapshot struct {
	Header
	Analysis *classify.Analysis
}

// FormatError is a snapshot file that cannot be read: what is wrong, at
// which byte offset.
type FormatError struct {
	File   string
	Offset int64
	What   string
	Err    error // the underlying error, when there is one
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("snapshot %s: offset %d: %s", e.File, e.Offset, e.What)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrNotSnapshot is wrapped by the error for a file without the magic.
var ErrNotSnapshot = errors.New("not a rovimpact snapshot")

// HasMagic reports whether b starts like a snapshot file.
func HasMagic(b []byte) bool { return len(b) >= len(Magic) && string(b[:len(Magic)]) == Magic }

// IsFile reports whether the file name starts like a snapshot; false when
// it cannot be read.
func IsFile(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(Magic))
	_, err = io.ReadFull(f, b)
	return err == nil && HasMagic(b)
}

// optionsOf is the classify.Options a Meta's policy names.
func optionsOf(p reports.Policy) (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(p.ASSet)
	if err != nil {
		return classify.Options{}, err
	}
	return classify.Options{ASSet: pol, LocalAS: p.LocalAS, Impact: classify.ImpactOptions{CountDefault: p.CountDefault}}, nil
}

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

type writer struct{ b []byte }

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

func (w *writer) u32s(v []uint32) {
	w.u32(uint32(len(v)))
	for _, x := range v {
		w.u32(x)
	}
}

func (w *writer) addr(a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		w.b = append(w.b, b[:]...)
	case a.Is6():
		b := a.As16()
		w.b = append(w.b, b[:]...)
	}
}

// section starts a section; end patches its length.
func (w *writer) section(tag string) int {
	w.b = append(w.b, tag...)
	w.b = append(w.b, make([]byte, 8)...)
	return len(w.b)
}

func (w *writer) end(start int) {
	binary.LittleEndian.PutUint64(w.b[start-8:start], uint64(len(w.b)-start))
}

// ReadFile reads and decodes the snapshot file name in one read.
func ReadFile(name string) (*Snapshot, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Decode(data, name)
}

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

// reader is a cursor over a snapshot, or one section of it, with a sticky
// error: after the first failure every read returns zero, so decoders check
// once per record.
type reader struct {
	b    []byte // up to the end of the current section
	off  int
	name string
	tag  string
	err  *FormatError
	// start is where a section's body begins.
	start int
}

func (r *reader) failAt(off int, format string, args ...any) {
	if r.err != nil {
		return
	}
	what := fmt.Sprintf(format, args...)
	if r.tag != "" {
		what = "section " + r.tag + ": " + what
	}
	r.err = &FormatError{File: r.name, Offset: int64(off), What: what}
}

func (r *reader) fail(format string, args ...any) { r.failAt(r.off, format, args...) }

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("truncated: %d bytes needed, %d left", n, len(r.b)-r.off)
		r.err.Err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// count reads a u32 count of records of at least size bytes each, refusing
// one the bytes left cannot hold (so a damaged count never allocates).
func (r *reader) count(size int) int {
	at := r.off
	n := int(r.u32())
	if r.err == nil && n > (len(r.b)-r.off)/size {
		r.failAt(at, "count %d needs at least %d bytes, %d left", n, n*size, len(r.b)-r.off)
	}
	if r.err != nil {
		return 0
	}
	return n
}

func (r *reader) u32s() []uint32 {
	n := r.count(4)
	if r.err != nil {
		return nil
	}
	v := make([]uint32, n)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(r.b[r.off+4*i:])
	}
	r.off += 4 * n
	return v
}

func (r *reader) addr(fam uint8) netip.Addr {
	switch fam {
	case 0:
		return netip.Addr{}
	case 4:
		if !r.need(4) {
			return netip.Addr{}
		}
		r.off += 4
		return netip.AddrFrom4([4]byte(r.b[r.off-4 : r.off]))
	case 6:
		if !r.need(16) {
			return netip.Addr{}
		}
		r.off += 16
		return netip.AddrFrom16([16]byte(r.b[r.off-16 : r.off]))
	}
	r.fail("address family %d (want 4, 6 or 0)", fam)
	return netip.Addr{}
}

// record reads a record's fixed head of n bytes, whose first byte is an
// address family, and the address after it: one bounds check each.
func (r *reader) record(n int) ([]byte, netip.Addr, bool) {
	if !r.need(n) {
		return nil, netip.Addr{}, false
	}
	h := r.b[r.off : r.off+n]
	r.off += n
	a := r.addr(h[0])
	return h, a, r.err == nil
}

// prefix makes a prefix of a (from the record at at) and bits; the zero
// address with 0 bits is the invalid prefix. Host bits are refused: every
// source masks prefixes and the index and impact walks rely on it.
func (r *reader) prefix(at int, a netip.Addr, bits uint8) (netip.Prefix, bool) {
	if !a.IsValid() {
		if bits != 0 {
			r.failAt(at, "prefix length %d without an address", bits)
			return netip.Prefix{}, false
		}
		return netip.Prefix{}, true
	}
	if int(bits) > a.BitLen() {
		r.failAt(at, "prefix length %d beyond %d bits", bits, a.BitLen())
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(a, int(bits))
	if !masked(a, bits) {
		r.failAt(at, "prefix %s has host bits set", p)
		return netip.Prefix{}, false
	}
	return p, true
}

// masked reports whether a has no bits set past the first bits: Masked
// without building a second prefix (a quarter of the decode time).
func masked(a netip.Addr, bits uint8) bool {
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:])<<bits == 0
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	if bits <= 64 {
		return hi<<bits == 0 && lo == 0
	}
	return lo<<(bits-64) == 0
}

func (r *reader) origin(at int, kind uint8, asn uint32) (rov.Origin, bool) {
	o := rov.Origin{Kind: rov.OriginKind(kind), ASN: asn}
	if o.Kind > rov.OriginLocal {
		r.failAt(at, "unknown origin kind %d", kind)
		return o, false
	}
	if o.Kind != rov.OriginAS && asn != 0 {
		r.failAt(at, "origin kind %d with AS %d", kind, asn)
		return o, false
	}
	return o, true
}

// section reads the next section's tag and length, moves past the section
// and returns a reader bounded by it. Section readers keep their own error,
// so sections can be decoded concurrently.
func (r *reader) section(tag string) *reader {
	s := &reader{name: r.name, tag: tag}
	if r.err != nil {
		s.err = r.err
		return s
	}
	at := r.off
	got := r.bytes(4)
	n := r.u64()
	if r.err != nil {
		s.err = r.err
		return s
	}
	if string(got) != tag {
		r.failAt(at, "section %q where %q belongs", got, tag)
		s.err = r.err
		return s
	}
	if n > uint64(len(r.b)-r.off) {
		r.failAt(at+4, "section %s: length %d, only %d bytes left", tag, n, len(r.b)-r.off)
		r.err.Err = io.ErrUnexpectedEOF
		s.err = r.err
		return s
	}
	s.b, s.off, s.start = r.b[:r.off+int(n)], r.off, r.off
	r.off += int(n)
	return s
}

// done checks the section was read to its end.
func (r *reader) done() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d bytes left over at the end of the section", len(r.b)-r.off)
	}
}
