package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"runtime/debug"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Decode decodes a whole snapshot; name is only for errors. It checks the
// magic, the version and the checksum before anything else, so a truncated
// or bit-flipped file is refused as such, then every record (parse). The
// Snapshot keeps no reference to data. Cost: linear in the file, plus the
// index and coverage of every VRP and route; a lookup needs only the
// records its queries reach (DecodeFor).
func Decode(data []byte, name string) (*Snapshot, error) {
	return DecodeFor(data, name, nil)
}

// DecodeFor is Decode for a set of queries: the Snapshot's Analysis holds
// only the VRPs and routes they reach (selectFor), so it answers exactly those
// queries as the whole analysis would, and nothing else (its reports and
// other queries would be of the part). nil queries, or more than
// maxSelected of them: the whole analysis.
func DecodeFor(data []byte, name string, queries []reports.Query) (*Snapshot, error) {
	if err := checkPrologue(data, name); err != nil {
		return nil, err
	}
	if len(data) < prologue+4 {
		return nil, &FormatError{File: name, Offset: int64(len(data)), What: "truncated: no checksum", Err: io.ErrUnexpectedEOF}
	}
	body := data[:len(data)-4]
	if want, got := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, crcTable); want != got {
		return nil, &FormatError{File: name, Offset: int64(len(body)), What: fmt.Sprintf("checksum %08x, computed %08x: the file is damaged or truncated", want, got)}
	}
	return decodeFor(body, name, queries)
}

func checkPrologue(data []byte, name string) error {
	if !HasMagic(data) {
		return &FormatError{File: name, Offset: 0, What: fmt.Sprintf("no %q magic: %v", Magic, ErrNotSnapshot), Err: ErrNotSnapshot}
	}
	if len(data) < prologue {
		return &FormatError{File: name, Offset: int64(len(data)), What: "truncated in the file header", Err: io.ErrUnexpectedEOF}
	}
	if v := binary.LittleEndian.Uint32(data[len(Magic):]); v != Version {
		return &FormatError{File: name, Offset: int64(len(Magic)), What: fmt.Sprintf("format version %d, this rovimpact reads version %d (write the snapshot again: rovimpact snapshot, or analyze --save)", v, Version)}
	}
	return nil
}

// decode reads body, a snapshot without its checksum, whole. The fuzz
// target calls it directly so that mutated inputs reach the record checks.
func decode(body []byte, name string) (*Snapshot, error) { return decodeFor(body, name, nil) }

func decodeFor(body []byte, name string, queries []reports.Query) (*Snapshot, error) {
	f, err := parse(body, name)
	if err != nil {
		return nil, err
	}
	var s *selection
	if queries == nil || len(queries) > maxSelected {
		s = f.selectAll()
	} else {
		s = f.selectFor(queries)
	}
	a, err := f.build(s)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Header: f.fh.Header, Analysis: a}, nil
}

// maxSelected is the most queries DecodeFor selects records for; more are
// answered from the whole analysis. A prefix query costs some sixty binary
// searches (~30 µs on a full table), the whole decode about as much as
// 15,000 of them: a batch of 115,540 prefixes took 1.7x the CPU time of
// the whole decode when selected.
const maxSelected = 4096

// Record sizes (see the layout in the package comment).
const (
	vrp4Size = 16
	vrp6Size = 28
	vrpXSize = 12
	rut4Size = 32
	rut6Size = 44
)

// Families of records: VRP4/RUT4, VRP6/RUT6, VRPX.
const (
	fam4 = iota
	fam6
	famX
)

// records is one section's fixed-size records.
type records struct {
	b    []byte // exactly n*size bytes
	n    int
	size int
	at   int // offset of record 0 in the file
}

func (r records) rec(i int) []byte { return r.b[i*r.size : (i+1)*r.size : (i+1)*r.size] }

func (r records) u32(i int) uint32 { return binary.LittleEndian.Uint32(r.b[4*i:]) }

// file is a snapshot whose every record has been checked (parse): its
// sections still as bytes, ready for a selection of them to be decoded.
type file struct {
	name  string
	fh    fileHeader
	opt   classify.Options
	vrp   [3]records // VRP4, VRP6, VRPX
	nv    int        // VRPs
	vidx  records
	peers []route.PeerKey
	rut   [2]records // RUT4, RUT6
	nr    int        // routes
	ridx  records
	words int
	bits  records // u64 words, route id order
	asets map[uint32][]uint32
	refs  records
}

// vrpRec is a VRP record's fields.
type vrpRec struct {
	k      pfxkey.Key
	maxLen uint8
	ta     uint16
	asn    uint32
	id     uint32
}

// routeRec is a route record's fields.
type routeRec struct {
	k                  pfxkey.Key
	kind, state, class uint8
	flags              uint8
	pad                [3]byte
	asn, paths, id     uint32
	refOff, nrefs      uint32
	fam, pos           int // where the record is
}

func keyOf(fam int, addr []byte, bits uint8) pfxkey.Key {
	if fam == fam4 {
		return pfxkey.Key{Hi: uint64(binary.BigEndian.Uint32(addr)) << 32, Bits: bits, Fam: pfxkey.Fam4}
	}
	return pfxkey.Key{Hi: binary.BigEndian.Uint64(addr), Lo: binary.BigEndian.Uint64(addr[8:]), Bits: bits, Fam: pfxkey.Fam6}
}

// vrpAt reads record i of family fam (records are checked by parse).
func (f *file) vrpAt(fam, i int) vrpRec {
	b := f.vrp[fam].rec(i)
	var v vrpRec
	switch fam {
	case famX:
		v.maxLen = b[0]
		b = b[2:]
	case fam4:
		v.k = keyOf(fam, b, b[4])
		v.maxLen = b[5]
		b = b[6:]
	default:
		v.k = keyOf(fam, b, b[16])
		v.maxLen = b[17]
		b = b[18:]
	}
	v.ta, v.asn, v.id = binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint32(b[2:]), binary.LittleEndian.Uint32(b[6:])
	return v
}

// routeAt reads record i of family fam.
func (f *file) routeAt(fam, i int) routeRec {
	b := f.rut[fam].rec(i)
	n := 4
	if fam == fam6 {
		n = 16
	}
	r := routeRec{k: keyOf(fam, b, b[n]), kind: b[n+1], state: b[n+2], class: b[n+3], flags: b[n+4], fam: fam, pos: i}
	copy(r.pad[:], b[n+5:n+8])
	t := b[n+8:]
	r.asn, r.paths, r.id = binary.LittleEndian.Uint32(t), binary.LittleEndian.Uint32(t[4:]), binary.LittleEndian.Uint32(t[8:])
	r.refOff, r.nrefs = binary.LittleEndian.Uint32(t[12:]), binary.LittleEndian.Uint32(t[16:])
	return r
}

// parse locates every section of body and checks every record: the
// counts fill the sections exactly, prefixes are masked and fit their
// family, VRP lengths and trust anchors are in range, each family's records
// are strictly in order, the VRP ids and the route ids are each a
// permutation (every id once), every verdict is one its route's origin and
// the policy allow, and deciding VRP references are in range. The index
// sections (VIDX, RIDX) and the bitsets are checked where they are read.
func parse(body []byte, name string) (*file, error) {
	if err := checkPrologue(body, name); err != nil {
		return nil, err
	}
	r := &reader{b: body, off: len(Magic) + 4, name: name}
	hlen := int(r.u32())
	hj := r.bytes(hlen)
	if r.err != nil {
		return nil, r.err
	}
	f := &file{name: name}
	if err := json.Unmarshal(hj, &f.fh); err != nil {
		return nil, &FormatError{File: name, Offset: int64(prologue), What: fmt.Sprintf("JSON header: %v", err), Err: err}
	}
	opt, err := optionsOf(f.fh.Meta.Policy)
	if err != nil {
		return nil, &FormatError{File: name, Offset: int64(prologue), What: fmt.Sprintf("JSON header: policy: %v", err), Err: err}
	}
	f.opt = opt
	tags := [...]string{"VRP4", "VRP6", "VRPX", "VIDX", "PEER", "RUT4", "RUT6", "RIDX", "BITS", "ASET", "REFS"}
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
	f.vrp[fam4] = sec[0].records(vrp4Size)
	f.vrp[fam6] = sec[1].records(vrp6Size)
	f.vrp[famX] = sec[2].records(vrpXSize)
	f.vidx = sec[3].records(4)
	f.peers = decodePeers(sec[4])
	f.rut[fam4] = sec[5].records(rut4Size)
	f.rut[fam6] = sec[6].records(rut6Size)
	f.ridx = sec[7].records(4)
	f.words = int(sec[8].u32())
	f.bits = sec[8].records(8)
	f.asets = decodeASSets(sec[9])
	f.refs = sec[10].records(4)
	for _, s := range sec {
		if s.err != nil {
			return nil, s.err
		}
	}
	f.nv = f.vidx.n
	f.nr = f.ridx.n
	if n := f.vrp[fam4].n + f.vrp[fam6].n + f.vrp[famX].n; n != f.nv {
		return nil, f.errAt(sec[3].start, "VIDX: %d VRPs, the VRP sections hold %d", f.nv, n)
	}
	if n := f.rut[fam4].n + f.rut[fam6].n; n != f.nr {
		return nil, f.errAt(sec[7].start, "RIDX: %d routes, the route sections hold %d", f.nr, n)
	}
	if words := max(1, (len(f.peers)+63)/64); f.words != words || f.bits.n != f.nr*words {
		return nil, f.errAt(sec[8].start, "BITS: %d words per route and %d words, want %d per route for %d peers and %d routes", f.words, f.bits.n, words, len(f.peers), f.nr)
	}
	for id := range f.asets {
		if int(id) >= f.nr {
			return nil, f.errAt(sec[9].start, "ASET: AS_SET of route %d, only %d routes", id, f.nr)
		}
	}
	// The two halves share nothing: check them at once.
	vrpErr := make(chan error, 1)
	go func() { vrpErr <- faultsAsErrors(f.name, f.checkVRPs) }()
	routeErr := f.checkRoutes()
	if err := <-vrpErr; err != nil {
		return nil, err
	}
	if routeErr != nil {
		return nil, routeErr
	}
	return f, nil
}

// faultsAsErrors runs check on a goroutine of its own reading a mapped
// file: a fault there (the file cut meanwhile) is an error, as in
// ReadFileFor, rather than a crash.
func faultsAsErrors(name string, check func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = &FormatError{File: name, What: fmt.Sprintf("the file changed while it was read (%v): read it again", r)}
		}
	}()
	return check()
}

func (f *file) errAt(off int, format string, args ...any) *FormatError {
	return &FormatError{File: f.name, Offset: int64(off), What: fmt.Sprintf(format, args...)}
}

// checkVRPs checks every VRP record in one pass per family: fastVRPs,
// and where it finds fault slowVRPs, which says what the fault is.
func (f *file) checkVRPs() error {
	if f.fastVRPs() {
		return nil
	}
	if err := f.slowVRPs(); err != nil {
		return err
	}
	return f.errAt(f.vrp[fam4].at, "VRP records: inconsistent") // the two checks disagree: a bug, said rather than trusted
}

// fastVRPs is slowVRPs' checks on packed integers, without messages: the
// pass every open of a full table makes over 723k VRPs.
func (f *file) fastVRPs() bool {
	seen := make([]uint64, (f.nv+63)/64)
	ok := func(ta uint16, id uint32) bool {
		if int(ta) >= len(f.fh.TAs) || int(id) >= f.nv || seen[id/64]&(1<<(id%64)) != 0 {
			return false
		}
		seen[id/64] |= 1 << (id % 64)
		return true
	}
	{
		b := f.vrp[fam4].b
		var phi, plo uint64
		for i := 0; i+vrp4Size <= len(b); i += vrp4Size {
			r := b[i : i+vrp4Size : i+vrp4Size]
			addr, bits, maxLen := binary.BigEndian.Uint32(r), r[4], r[5]
			asn, id := binary.LittleEndian.Uint32(r[8:]), binary.LittleEndian.Uint32(r[12:])
			if bits > 32 || addr<<bits != 0 || maxLen < bits || maxLen > 32 || !ok(binary.LittleEndian.Uint16(r[6:]), id) {
				return false
			}
			hi, lo := uint64(addr)<<32|uint64(bits)<<8|uint64(maxLen), uint64(asn)<<32|uint64(id)
			if i > 0 && (hi < phi || hi == phi && lo <= plo) {
				return false
			}
			phi, plo = hi, lo
		}
	}
	{
		b := f.vrp[fam6].b
		var pa, pb, pc, pd uint64
		for i := 0; i+vrp6Size <= len(b); i += vrp6Size {
			r := b[i : i+vrp6Size : i+vrp6Size]
			ahi, alo, bits, maxLen := binary.BigEndian.Uint64(r), binary.BigEndian.Uint64(r[8:]), r[16], r[17]
			asn, id := binary.LittleEndian.Uint32(r[20:]), binary.LittleEndian.Uint32(r[24:])
			if bits > 128 || maxLen < bits || maxLen > 128 || !ok(binary.LittleEndian.Uint16(r[18:]), id) {
				return false
			}
			if m := (pfxkey.Key{Hi: ahi, Lo: alo}).Supernet(bits); m.Hi != ahi || m.Lo != alo {
				return false
			}
			c, d := uint64(bits)<<8|uint64(maxLen), uint64(asn)<<32|uint64(id)
			if i > 0 && (ahi < pa || ahi == pa && (alo < pb || alo == pb && (c < pc || c == pc && d <= pd))) {
				return false
			}
			pa, pb, pc, pd = ahi, alo, c, d
		}
	}
	{
		b := f.vrp[famX].b
		var pk uint64
		var pid uint32
		for i := 0; i+vrpXSize <= len(b); i += vrpXSize {
			r := b[i : i+vrpXSize : i+vrpXSize]
			asn, id := binary.LittleEndian.Uint32(r[4:]), binary.LittleEndian.Uint32(r[8:])
			if r[1] != 0 || !ok(binary.LittleEndian.Uint16(r[2:]), id) {
				return false
			}
			k := uint64(r[0])<<32 | uint64(asn)
			if i > 0 && (k < pk || k == pk && id <= pid) {
				return false
			}
			pk, pid = k, id
		}
	}
	return true
}

// slowVRPs checks every VRP record, saying what is wrong with the first
// that fails.
func (f *file) slowVRPs() error {
	seen := make([]uint64, (f.nv+63)/64)
	for fam, tag := range [...]string{"VRP4", "VRP6", "VRPX"} {
		recs := f.vrp[fam]
		var prev vrpRec
		for i := range recs.n {
			at := recs.at + i*recs.size
			v := f.vrpAt(fam, i)
			width := 32
			if fam == fam6 {
				width = 128
			}
			switch {
			case fam == famX && recs.rec(i)[1] != 0:
				return f.errAt(at, "%s record %d: padding byte %d", tag, i, recs.rec(i)[1])
			case fam != famX && int(v.k.Bits) > width:
				return f.errAt(at, "%s record %d: prefix length %d beyond %d bits", tag, i, v.k.Bits, width)
			case fam != famX && v.k.Supernet(v.k.Bits) != v.k:
				return f.errAt(at, "%s record %d: prefix %s has host bits set", tag, i, v.k.Prefix())
			case fam != famX && (v.maxLen < v.k.Bits || int(v.maxLen) > width):
				return f.errAt(at, "%s record %d: maxLength %d outside %d..%d for %s", tag, i, v.maxLen, v.k.Bits, width, v.k.Prefix())
			case int(v.ta) >= len(f.fh.TAs):
				return f.errAt(at, "%s record %d: trust anchor %d, the header names %d", tag, i, v.ta, len(f.fh.TAs))
			case int(v.id) >= f.nv:
				return f.errAt(at, "%s record %d: VRP id %d out of range (%d VRPs)", tag, i, v.id, f.nv)
			case seen[v.id/64]&(1<<(v.id%64)) != 0:
				return f.errAt(at, "%s record %d: VRP id %d repeats", tag, i, v.id)
			case i > 0 && compareVRPRec(prev, v) >= 0:
				return f.errAt(at, "%s record %d: VRP %d does not sort after VRP %d", tag, i, v.id, prev.id)
			}
			seen[v.id/64] |= 1 << (v.id % 64)
			prev = v
		}
	}
	return nil
}

// compareVRPRec is the order of VRP records: prefix, maxLength, AS, id
// (the index's prefix order; for VRPX the prefix is the same zero key).
func compareVRPRec(a, b vrpRec) int {
	if c := a.k.Compare(b.k); c != 0 {
		return c
	}
	switch {
	case a.maxLen != b.maxLen:
		return cmpU(uint32(a.maxLen), uint32(b.maxLen))
	case a.asn != b.asn:
		return cmpU(a.asn, b.asn)
	}
	return cmpU(a.id, b.id)
}

func cmpU(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkRoutes checks every route record and its verdict in one pass per
// family, and every deciding VRP reference: fastRoutes, and where it
// finds fault slowRoutes, which says what the fault is.
func (f *file) checkRoutes() error {
	if f.fastRoutes() {
		return nil
	}
	if err := f.slowRoutes(); err != nil {
		return err
	}
	return f.errAt(f.rut[fam4].at, "route records: inconsistent") // the two checks disagree: a bug, said rather than trusted
}

// fastRoutes is slowRoutes' checks on packed integers, without messages;
// verdicts are checked once per combination of origin kind, state, class
// and flags (verdictProblem decides each).
func (f *file) fastRoutes() bool {
	seen := make([]uint64, (f.nr+63)/64)
	// verdict[kind][state][class][flags][refs>0]: 0 unknown, 1 good, 2 bad.
	var verdict [3][4][8][8][2]uint8
	nrefs := uint64(f.refs.n)
	for fam, size := range [...]int{rut4Size, rut6Size} {
		b := f.rut[fam].b
		n := 4
		if fam == fam6 {
			n = 16
		}
		var pa, pb, pc uint64
		for i := 0; i+size <= len(b); i += size {
			r := b[i : i+size : i+size]
			var ahi, alo uint64
			if fam == fam4 {
				ahi = uint64(binary.BigEndian.Uint32(r)) << 32
			} else {
				ahi, alo = binary.BigEndian.Uint64(r), binary.BigEndian.Uint64(r[8:])
			}
			bits, kind, state, class, flags := r[n], r[n+1], r[n+2], r[n+3], r[n+4]
			t := r[n+8:]
			asn, paths, id := binary.LittleEndian.Uint32(t), binary.LittleEndian.Uint32(t[4:]), binary.LittleEndian.Uint32(t[8:])
			refOff, nr := binary.LittleEndian.Uint32(t[12:]), binary.LittleEndian.Uint32(t[16:])
			if int(bits) > 8*n || r[n+5]|r[n+6]|r[n+7] != 0 || kind > uint8(rov.OriginLocal) || kind != uint8(rov.OriginAS) && asn != 0 ||
				paths == 0 || int(id) >= f.nr || seen[id/64]&(1<<(id%64)) != 0 || uint64(refOff)+uint64(nr) > nrefs ||
				state >= 4 || class >= 8 || flags >= 8 {
				return false
			}
			if m := (pfxkey.Key{Hi: ahi, Lo: alo}).Supernet(bits); m.Hi != ahi || m.Lo != alo {
				return false
			}
			hasRefs := min(nr, 1)
			v := &verdict[kind][state][class][flags][hasRefs]
			if *v == 0 {
				*v = 1
				if f.verdictProblem(routeRec{kind: kind, state: state, class: class, flags: flags, nrefs: nr}) != "" {
					*v = 2
				}
			}
			if *v != 1 {
				return false
			}
			c := uint64(bits)<<32 | uint64(id)
			if i > 0 && (ahi < pa || ahi == pa && (alo < pb || alo == pb && c <= pc)) {
				return false
			}
			seen[id/64] |= 1 << (id % 64)
			pa, pb, pc = ahi, alo, c
		}
	}
	for j := range f.refs.n {
		if int(f.refs.u32(j)) >= f.nv {
			return false
		}
	}
	return true
}

// slowRoutes checks every route record, saying what is wrong with the
// first that fails.
func (f *file) slowRoutes() error {
	seen := make([]uint64, (f.nr+63)/64)
	for fam, tag := range [...]string{"RUT4", "RUT6"} {
		recs := f.rut[fam]
		var prev routeRec
		for i := range recs.n {
			at := recs.at + i*recs.size
			r := f.routeAt(fam, i)
			width := 32
			if fam == fam6 {
				width = 128
			}
			what := ""
			switch {
			case int(r.k.Bits) > width:
				what = fmt.Sprintf("prefix length %d beyond %d bits", r.k.Bits, width)
			case r.k.Supernet(r.k.Bits) != r.k:
				what = fmt.Sprintf("prefix %s has host bits set", r.k.Prefix())
			case r.pad != [3]byte{}:
				what = fmt.Sprintf("padding bytes %v", r.pad)
			case r.kind > uint8(rov.OriginLocal):
				what = fmt.Sprintf("unknown origin kind %d", r.kind)
			case r.kind != uint8(rov.OriginAS) && r.asn != 0:
				what = fmt.Sprintf("origin kind %d with AS %d", r.kind, r.asn)
			case r.paths == 0:
				what = "no paths"
			case int(r.id) >= f.nr:
				what = fmt.Sprintf("route id %d out of range (%d routes)", r.id, f.nr)
			case seen[r.id/64]&(1<<(r.id%64)) != 0:
				what = fmt.Sprintf("route id %d repeats", r.id)
			case i > 0 && (prev.k.Compare(r.k) > 0 || prev.k == r.k && prev.id >= r.id):
				what = fmt.Sprintf("route %d does not sort after route %d", r.id, prev.id)
			case uint64(r.refOff)+uint64(r.nrefs) > uint64(f.refs.n):
				what = fmt.Sprintf("deciding VRPs %d..%d beyond the %d in REFS", r.refOff, uint64(r.refOff)+uint64(r.nrefs), f.refs.n)
			default:
				what = f.verdictProblem(r)
			}
			if what != "" {
				return f.errAt(at, "%s record %d: %s", tag, i, what)
			}
			seen[r.id/64] |= 1 << (r.id % 64)
			prev = r
		}
	}
	for j := range f.refs.n {
		if v := f.refs.u32(j); int(v) >= f.nv {
			return f.errAt(f.refs.at+4*j, "REFS: deciding VRP %d out of range (%d VRPs)", v, f.nv)
		}
	}
	return nil
}

// verdictProblem says what is wrong with r's verdict, or "": it must be one
// ClassifyRoute could have given r under f's options: a local origin is
// unvalidated and kept, Dropped follows the AS_SET policy, a class and AS0
// only for invalid routes.
func (f *file) verdictProblem(r routeRec) string {
	o := r.origin().WithLocalAS(f.opt.LocalAS)
	out := r.outcome(o)
	switch {
	case r.flags&^flagMask != 0:
		return fmt.Sprintf("unknown flags %#x", r.flags)
	case r.state > uint8(rov.Invalid):
		return fmt.Sprintf("unknown state %d", r.state)
	case r.class > uint8(classify.Both):
		return fmt.Sprintf("unknown class %d", r.class)
	case out.Unvalidated != (o.Kind == rov.OriginLocal):
		return "unvalidated flag does not match a local origin"
	case out.Unvalidated && (out.State != rov.NotFound || out.Dropped || r.nrefs != 0):
		return "an unvalidated route with a verdict"
	case !out.Unvalidated && out.Dropped != classify.Dropped(out.State, o, f.opt.ASSet):
		return fmt.Sprintf("dropped=%v contradicts state %v under AS_SET policy %v", out.Dropped, out.State, f.opt.ASSet)
	case out.State != rov.Invalid && (out.Class != classify.None || out.AS0):
		return fmt.Sprintf("class %v / AS0 on a %v route", out.Class, out.State)
	case out.State == rov.Invalid && out.Class == classify.None:
		return "an invalid route without a class"
	}
	return ""
}

func (r routeRec) origin() rov.Origin { return rov.Origin{Kind: rov.OriginKind(r.kind), ASN: r.asn} }

// outcome is r's verdict with origin o (the route's with the local AS).
func (r routeRec) outcome(o rov.Origin) classify.Outcome {
	return classify.Outcome{Origin: o, State: rov.State(r.state), Class: classify.Class(r.class),
		AS0: r.flags&flagAS0 != 0, Unvalidated: r.flags&flagUnvalidated != 0, Dropped: r.flags&flagDropped != 0}
}

// vrpByID finds VRP id's record through VIDX, which must point at the
// record carrying that id (ids being a permutation, that is the one).
func (f *file) vrpByID(id uint32) (vrpRec, error) {
	at := f.vidx.at + 4*int(id)
	if int(id) >= f.nv {
		return vrpRec{}, f.errAt(f.vidx.at, "VRP %d out of range (%d VRPs)", id, f.nv)
	}
	pos := int(f.vidx.u32(int(id)))
	fam := fam4
	for fam < famX && pos >= f.vrp[fam].n {
		pos -= f.vrp[fam].n
		fam++
	}
	if pos >= f.vrp[fam].n {
		return vrpRec{}, f.errAt(at, "VIDX: VRP %d at record %d, beyond the %d VRPs", id, f.vidx.u32(int(id)), f.nv)
	}
	v := f.vrpAt(fam, pos)
	if v.id != id {
		return vrpRec{}, f.errAt(at, "VIDX: VRP %d points at the record of VRP %d", id, v.id)
	}
	return v, nil
}

// routeByID finds route id's record through RIDX, checked like vrpByID.
func (f *file) routeByID(id uint32) (routeRec, error) {
	at := f.ridx.at + 4*int(id)
	if int(id) >= f.nr {
		return routeRec{}, f.errAt(f.ridx.at, "route %d out of range (%d routes)", id, f.nr)
	}
	pos := int(f.ridx.u32(int(id)))
	fam := fam4
	if pos >= f.rut[fam4].n {
		pos -= f.rut[fam4].n
		fam = fam6
	}
	if pos >= f.rut[fam].n {
		return routeRec{}, f.errAt(at, "RIDX: route %d at record %d, beyond the %d routes", id, f.ridx.u32(int(id)), f.nr)
	}
	r := f.routeAt(fam, pos)
	if r.id != id {
		return routeRec{}, f.errAt(at, "RIDX: route %d points at the record of route %d", id, r.id)
	}
	return r, nil
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
