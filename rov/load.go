package rov

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// LoadOptions controls LoadVRPs.
type LoadOptions struct {
	// Now is the time VRP expiry is judged against; the zero value means
	// never treat a VRP as expired (loaders take no clock).
	Now time.Time
	// DropExpired drops VRPs whose expires is before Now. By default they
	// are kept and counted in LoadStats.Expired, because a stale export is
	// still the best picture of what ROV would do and the caller should
	// warn rather than silently change the answer.
	DropExpired bool
	// ASPAsOnly skips the VRPs: the JSON "roas" array is scanned as JSON
	// (a syntax error still fails) but not decoded, and a CSV file, which
	// holds no ASPAs, is not read past its first byte. For callers that
	// verify AS paths only (aspa --path): the 723k ROAs of a full export
	// cost most of the load.
	ASPAsOnly bool
}

// LoadStats describes what LoadVRPs read and kept. Invariants:
// Loaded == Read - Duplicates - DroppedExpired, IPv4+IPv6 == Loaded and the
// ByTA values sum to Loaded.
type LoadStats struct {
	// Format is one of the Format* names: "rpki-client-json",
	// "routinator-json", "stayrtr-json", "rpki-client-csv",
	// "routinator-csv", "routinator-csvcompat", "routinator-csvext" (also
	// the RIPE NCC archive's roas.csv) or "csv".
	Format         string
	Read           int // VRP entries read
	Loaded         int // kept after dedup and expiry
	Duplicates     int // entries equal to an earlier one (Prefix, MaxLen, ASN)
	Expired        int // entries with expires < Now (kept unless DropExpired)
	DroppedExpired int // of Expired, dropped because of DropExpired
	IPv4, IPv6     int // of Loaded
	ByTA           map[string]int
	// BuildTime is when the exporter built the set, from the JSON
	// metadata: rpki-client "buildtime", Routinator "generatedTime" or
	// stayrtr/GoRTR and Routinator "generated" (Unix seconds). Zero when
	// the file does not say (CSV) or says it in a form not understood; the
	// caller then falls back to the file's modification time.
	BuildTime time.Time
}

// Format names reported in LoadStats.Format.
const (
	FormatRPKIClientJSON = "rpki-client-json"
	FormatRoutinatorJSON = "routinator-json"
	FormatStayRTRJSON    = "stayrtr-json"
	FormatRoutinatorCSV  = "routinator-csv"
	FormatCSV            = "csv"
	// FormatRPKIClientCSV is rpki-client's CSV, with an Expires column.
	FormatRPKIClientCSV = "rpki-client-csv"
	// FormatRoutinatorCSVCompat is Routinator's csvcompat: every field
	// quoted, as the RIPE NCC RPKI Validator wrote it.
	FormatRoutinatorCSVCompat = "routinator-csvcompat"
	// FormatRoutinatorCSVExt is Routinator's csvext, which is also the
	// RIPE NCC RPKI archive's roas.csv (URI and validity, no TA).
	FormatRoutinatorCSVExt = "routinator-csvext"
)

// LoadVRPs reads a VRP export from r and returns its VRPs, deduplicated and
// in canonical order (see MergeVRPs), with statistics. name is used only in
// error messages ("vrps.json: roas[17]: prefix ...").
//
// The format is detected from content: a first non-space byte '{' means
// JSON (rpki-client, Routinator json/jsonext or stayrtr/GoRTR; the variant
// is told from the metadata keys and the ASN notation), anything else CSV
// (rpki-client's, Routinator's csv, csvcompat and csvext, the RIPE NCC
// archive's roas.csv, or plain "prefix,maxlen,asn[,ta]"; see load_csv.go
// for each layout and where it is documented). A UTF-8 byte order mark is
// skipped and CRLF line ends accepted.
//
// One bad entry fails the whole load: a prefix with host bits set, an
// unparsable prefix, a maxLength outside [prefix length, 32/128], a bad ASN.
// Operators must learn that their file is bad rather than get a quietly
// partial answer.
//
// JSON is read by a streaming scanner that only decodes the fields it needs
// and allocates nothing per VRP besides the result slice (TA names are
// interned); r is read in 256 KiB chunks, never whole.
func LoadVRPs(r io.Reader, name string, opt LoadOptions) ([]VRP, LoadStats, error) {
	e, err := LoadExport(r, name, opt)
	return e.VRPs, e.Stats, err
}

// Export is what LoadExport reads from a validator export: its VRPs (as
// LoadVRPs returns them) and its ASPAs (JSON "aspas"; none from CSV).
type Export struct {
	VRPs  []VRP
	ASPAs []ASPA
	Stats LoadStats
}

// LoadExport is LoadVRPs keeping the export's ASPAs as well.
func LoadExport(r io.Reader, name string, opt LoadOptions) (Export, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	loadSkipBOM(br)
	first, err := loadFirstByte(br)
	if err != nil {
		return Export{}, fmt.Errorf("%s: %w", name, err)
	}
	l := newVRPLoader(name, opt)
	if opt.ASPAsOnly && first != '{' {
		return Export{Stats: LoadStats{ByTA: map[string]int{}}}, nil
	}
	if first == '{' {
		err = l.loadJSON(br)
	} else {
		err = l.loadCSV(br)
	}
	if err != nil {
		return Export{}, err
	}
	vrps, st := l.finish()
	return Export{VRPs: vrps, ASPAs: l.finishASPAs(), Stats: st}, nil
}

// loadSkipBOM drops a UTF-8 byte order mark at the start of the input:
// spreadsheets and Windows tools write one before CSV, and RFC 8259 §8.1
// lets a JSON parser ignore it.
func loadSkipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
}

// loadFirstByte returns the first non-whitespace byte without consuming it.
func loadFirstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return 0, errors.New("empty input: no VRPs")
		}
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		_ = br.UnreadByte()
		return c, nil
	}
}

// vrpLoader accumulates VRPs and statistics for one LoadVRPs call; the
// JSON and CSV readers feed it through add.
type vrpLoader struct {
	name    string
	opt     LoadOptions
	nowUnix int64
	vrps    []VRP
	st      LoadStats
	tas     map[string]string // interned TA names
	lastTA  string            // most recent intern result
	plainTA string            // the last TA ljFastROA read (see there)
	fields  ljFields          // JSON scanner scratch, reused per ROA
	aspas   []ASPA

	// What add learns as the VRPs arrive, so that finish need not pass
	// over them again for the usual export (in canonical order, no
	// duplicates): whether the order so far is canonical, whether any
	// VRP equals the one before it, and the per-family and per-TA counts
	// of what was kept (the TAs counted per run, the run in taRun).
	unordered, dupNext bool
	last               pfxkey.Key // of the last VRP kept, with its MaxLen and ASN
	lastMax            uint8
	lastASN            uint32
	n4, n6             int
	byTA               map[string]int
	taRun              string
	taRunN             int
}

func newVRPLoader(name string, opt LoadOptions) *vrpLoader {
	l := &vrpLoader{name: name, opt: opt, tas: map[string]string{}, byTA: map[string]int{}}
	if !opt.Now.IsZero() {
		l.nowUnix = opt.Now.Unix()
	}
	return l
}

// intern returns TA name b as a string shared by all VRPs of that TA; the
// map lookup with string(b) does not allocate.
func (l *vrpLoader) intern(b []byte) string {
	if string(b) == l.lastTA { // exports group VRPs by TA: skip the hash
		return l.lastTA
	}
	s, ok := l.tas[string(b)]
	if !ok {
		s = string(b)
		l.tas[s] = s
	}
	l.lastTA = s
	return s
}

// add records one parsed entry. expires is a Unix time, 0 meaning unknown.
func (l *vrpLoader) add(v VRP, expires int64) {
	l.st.Read++
	if expires != 0 && l.nowUnix != 0 && expires < l.nowUnix {
		l.st.Expired++
		if l.opt.DropExpired {
			l.st.DroppedExpired++
			return
		}
	}
	// The canonical order (vrpCompare) on keys: loaders give valid,
	// masked prefixes, for which the key orders as the address does.
	k := pfxkey.Of(v.Prefix)
	switch {
	case !v.Prefix.IsValid():
		l.unordered = true // not from a loader; dedupVRPs sorts it out
	case len(l.vrps) > 0 && !l.unordered:
		switch c := canonCompare(l.last, k, l.lastMax, v.MaxLen, l.lastASN, v.ASN); {
		case c > 0:
			l.unordered = true
		case c == 0:
			l.dupNext = true
		}
	}
	l.last, l.lastMax, l.lastASN = k, v.MaxLen, v.ASN
	if k.Fam == pfxkey.Fam4 {
		l.n4++
	} else {
		l.n6++
	}
	if v.TA != l.taRun {
		l.flushTA()
		l.taRun = v.TA
	}
	l.taRunN++
	l.vrps = append(l.vrps, v)
}

// canonCompare is vrpCompare given the prefixes' keys: address
// ascending, then longer prefix, larger MaxLen first, then ASN ascending.
func canonCompare(a, b pfxkey.Key, amax, bmax uint8, aasn, basn uint32) int {
	switch {
	case a.Fam != b.Fam:
		return cmp.Compare(a.Fam, b.Fam)
	case a.Hi != b.Hi:
		return cmp.Compare(a.Hi, b.Hi)
	case a.Lo != b.Lo:
		return cmp.Compare(a.Lo, b.Lo)
	case a.Bits != b.Bits:
		return cmp.Compare(b.Bits, a.Bits)
	case amax != bmax:
		return cmp.Compare(bmax, amax)
	}
	return cmp.Compare(aasn, basn)
}

func (l *vrpLoader) flushTA() {
	if l.taRunN > 0 {
		l.byTA[l.taRun] += l.taRunN
	}
	l.taRunN = 0
}

// finish deduplicates and computes the per-family and per-TA counts.
// Input in canonical order without duplicates (rpki-client's exports) is
// returned as read, with the counts add kept.
func (l *vrpLoader) finish() ([]VRP, LoadStats) {
	st := l.st
	l.flushTA()
	if !l.unordered && !l.dupNext {
		st.Loaded, st.IPv4, st.IPv6, st.ByTA = len(l.vrps), l.n4, l.n6, l.byTA
		return l.vrps, st
	}
	vrps, dups := dedupVRPs(l.vrps)
	st.Duplicates = dups
	st.Loaded = len(vrps)
	st.ByTA = map[string]int{}
	for i := range vrps {
		if vrps[i].Prefix.Addr().Is4() {
			st.IPv4++
		} else {
			st.IPv6++
		}
		st.ByTA[vrps[i].TA]++
	}
	return vrps, st
}

// loadBytesString views b as a string without copying. Only for calls
// that do not retain the string on success (netip.ParsePrefix); error
// paths re-parse from a copy so no error keeps a view of a reused buffer.
func loadBytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// loadParsePrefix parses a VRP prefix and rejects host bits: a VRP file
// with "192.0.2.1/24" is corrupt or hand-edited wrongly, and masking it
// silently would validate routes the ROA never authorised.
func loadParsePrefix(b []byte) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(loadBytesString(b))
	if err != nil {
		s := string(b)
		_, err = netip.ParsePrefix(s)
		return netip.Prefix{}, fmt.Errorf("prefix %q: %w", s, err)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("prefix %q has host bits set", string(b))
	}
	return p, nil
}

// loadCheckMaxLen applies the RFC 6482 §3.3 bounds: maxLength is at least
// the prefix length and at most the address length (32 or 128).
func loadCheckMaxLen(p netip.Prefix, m uint64) (uint8, error) {
	if m < uint64(p.Bits()) {
		return 0, fmt.Errorf("maxLength %d is below the prefix length of %s", m, p)
	}
	if m > uint64(p.Addr().BitLen()) {
		return 0, fmt.Errorf("maxLength %d exceeds %d for %s", m, p.Addr().BitLen(), p)
	}
	return uint8(m), nil
}

// loadParseUint parses a decimal integer of only ASCII digits, rejecting
// values above max; what names the field in errors.
func loadParseUint(b []byte, max uint64, what string) (uint64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%s is empty", what)
	}
	if b[0] == '-' {
		return 0, fmt.Errorf("%s %s is negative", what, b)
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s %q is not an integer", what, b)
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, fmt.Errorf("%s %s is out of range (max %d)", what, b, max)
		}
	}
	return n, nil
}

// loadParseASNText parses an ASN written as text: "AS13335", "as13335" or
// "13335" (Routinator and stayrtr write "AS13335"; RFC 5396 asplain).
func loadParseASNText(b []byte) (uint32, error) {
	d := b
	if len(d) >= 2 && (d[0] == 'A' || d[0] == 'a') && (d[1] == 'S' || d[1] == 's') {
		d = d[2:]
	}
	if len(d) == 0 || d[0] < '0' || d[0] > '9' {
		return 0, fmt.Errorf("ASN %q is not a number or AS<number>", b)
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("ASN %q is not a number or AS<number>", b)
		}
	}
	n, err := loadParseUint(d, 1<<32-1, "ASN")
	if err != nil {
		return 0, fmt.Errorf("ASN %q is out of range (max 4294967295)", b)
	}
	return uint32(n), nil
}

// loadParseASNNumber parses an ASN given as a JSON number: an integer in
// [0, 2^32-1] (RFC 6793); fractions and exponents are rejected.
func loadParseASNNumber(b []byte) (uint32, error) {
	n, err := loadParseUint(b, 1<<32-1, "ASN")
	return uint32(n), err
}

// loadParseExpires parses a Unix timestamp given as a JSON integer.
func loadParseExpires(b []byte) (int64, error) {
	n, err := strconv.ParseInt(loadBytesString(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("expires %q is not an integer Unix time", string(b))
	}
	return n, nil
}
