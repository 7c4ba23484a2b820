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
//
// By job: snapshot.go (the format's constants and types), encode.go,
// decode.go (with every consistency check), bytes.go (the byte writer and
// the bounded reader), file.go (atomic write, read, GC-tuned load) and
// stale.go (what answers from a snapshot must be read with: changed sources,
// expired VRPs, options that differ from how it was made).
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
// to the layout bumps it; Decode refuses other versions rather than guess.
const Version = 1

const prologue = len(Magic) + 4 + 4 // magic, version, header length

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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

// optionsOf is the classify.Options a Meta's policy names.
func optionsOf(p reports.Policy) (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(p.ASSet)
	if err != nil {
		return classify.Options{}, err
	}
	return classify.Options{ASSet: pol, LocalAS: p.LocalAS, Impact: classify.ImpactOptions{CountDefault: p.CountDefault}}, nil
}
