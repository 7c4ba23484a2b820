// Package snapshot stores a finished analysis in one file: the VRPs and
// the routes, each family sorted by prefix, every route's verdict and
// deciding VRPs, and the report metadata, with the source files they came
// from. Reading it back costs a checksum and one pass over fixed-size
// records instead of decompressing, parsing, sorting and validating again;
// a lookup then decodes only the records its queries reach (DecodeFor), so an
// ad-hoc lookup against a full table answers in a blink from a cold
// process.
//
// The file is written once (analyze --save, rovimpact snapshot) and read
// many times (lookup --snapshot). Layout (version 2), all integers
// little-endian, addresses in network order:
//
//	magic "ROVIMPSN" | version u32 | header length u32 | JSON header
//	sections, in this order, each: tag [4]byte | length u64 | body;
//	each body a u32 count and that many fixed-size records:
//	  VRP4  IPv4 VRPs in (prefix, maxLength, AS, id) order, 16 bytes:
//	        addr[4] length maxLength ta:u16 asn:u32 id:u32
//	  VRP6  IPv6 VRPs, same order, 28 bytes: addr[16] and the rest as VRP4
//	  VRPX  VRPs without a prefix, 12 bytes: maxLength 0 ta:u16 asn:u32 id:u32
//	  VIDX  per VRP id, where its record is (u32: VRP4, then VRP6, then VRPX)
//	  PEER  the table's peers: asn:u32 family:u8 addr[0|4|16]
//	  RUT4  IPv4 routes with their verdicts in (prefix, id) order, 32 bytes:
//	        addr[4] length kind state class flags 0 0 0 asn:u32 paths:u32
//	        id:u32 refs-offset:u32 refs-count:u32
//	  RUT6  IPv6 routes, same order, 44 bytes: addr[16] and the rest as RUT4
//	  RIDX  per route id, where its record is (u32: RUT4, then RUT6)
//	  BITS  words per route u32, count u32, the routes' peer bitsets (u64, route id order)
//	  ASET  the AS_SET unions of OriginNone routes: id:u32 count:u32 asn:u32...
//	  REFS  the deciding VRP ids of every route (u32, route id order)
//	CRC-32 (IEEE) of everything before it, u32
//
// Opening a file checks the checksum, then every record in one sequential
// pass: counts fit the sections exactly, prefixes are masked and in range,
// records strictly in order (so binary searches over them are exact), VRP
// and route ids each a permutation, and each verdict one its route's origin
// and the recorded policy allow. What a query then reaches through an id
// (VIDX, RIDX, REFS, BITS) is range-checked where it is read. A checksum is
// no authentication, so none of it trusts the bytes: a hand-made file with
// a valid checksum gives a *FormatError naming the file, the offset and
// what is wrong, never a panic; and since order and permutations are
// checked whole, it cannot make a search miss a record either.
//
// By job: snapshot.go (the format's constants and types), encode.go,
// decode.go (the checks of every record), select.go (which records a set
// of queries needs, and the analysis made of them), bytes.go (the byte
// writer and the bounded reader), file.go (atomic write, mapped read,
// GC-tuned load) and stale.go (what answers from a snapshot must be read
// with: changed sources, expired VRPs, options that differ from how it was
// made).
package snapshot

import (
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// Magic opens every snapshot file.
const Magic = "ROVIMPSN"

// Version is the format version Encode writes and Decode reads. Any change
// to the layout bumps it; Decode refuses other versions rather than guess,
// with an error that says to write the snapshot again (version 1, before
// the records were sorted and fixed-size, is refused so).
const Version = 2

const prologue = len(Magic) + 4 + 4 // magic, version, header length

// crcTable is CRC-32 (IEEE): the standard library folds it with
// carry-less multiplication, about 4x faster than CRC-32C's SSE4.2 path on
// a full-table snapshot (2 vs 8 ms), and either finds the damage a
// checksum is for.
var crcTable = crc32.IEEETable

// Header is what a snapshot records besides the analysis: when it was made,
// from what, and the report metadata (policy, VRP summary, inputs, skipped)
// a report from the snapshot shows. Meta.Policy also decides the analysis
// options the verdicts were made under (AS_SET policy, local AS, default
// route as cover), so Encode refuses a Meta that disagrees with them.
type Header struct {
	Created     time.Time      `json:"created"`
	Sources     []study.Source `json:"sources"`      // as they were before being read (study.Inputs.Stat)
	DropExpired bool           `json:"drop_expired"` // --drop-expired, which changes the VRP set
	Meta        reports.Meta   `json:"meta"`
}

// fileHeader is the JSON header as stored.
type fileHeader struct {
	Header
	TAs []string `json:"tas"` // trust anchor names, indexed by the VRPs
}

// Snapshot is a decoded snapshot file: ready to answer queries. Decoded
// for a set of queries (DecodeFor, LoadFor, OpenFor) its Analysis holds
// only what they read: it answers them as the whole would, and a report or
// other query made from it would be of that part only.
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

// optionsOf is the classify.Options a Meta's policy names.
func optionsOf(p reports.Policy) (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(p.ASSet)
	if err != nil {
		return classify.Options{}, err
	}
	return classify.Options{ASSet: pol, LocalAS: p.LocalAS, Impact: classify.ImpactOptions{CountDefault: p.CountDefault}}, nil
}
