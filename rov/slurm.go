package rov

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// SLURM is one or more parsed and validated RFC 8416 (Simplified Local
// Internet Number Resource Management with the RPKI) files: local
// exceptions an operator applies to the validator's output.
//
// Parsing is strict: every JSON member must be one RFC 8416 defines (a
// misspelt "prefixFilter" would otherwise silently filter nothing), names
// match case-sensitively, and every value is checked as LoadVRPs checks
// VRPs. The "prefixFilters", "bgpsecFilters", "prefixAssertions" and
// "bgpsecAssertions" arrays may be omitted (meaning empty), which RFC 8416
// does not allow but hand-written files often do and which is harmless.
type SLURM struct {
	// Files names the files merged into this value, in order.
	Files            []string
	PrefixFilters    []SLURMPrefixFilter
	PrefixAssertions []SLURMPrefixAssertion
	// BGPsec entries are checked for shape and kept only so MergeSLURM
	// can apply the RFC 8416 §4.2 overlap rules; rovimpact validates
	// origins, not paths, so Apply ignores them and counts them.
	BGPsecFilters    []SLURMBGPsecFilter
	BGPsecAssertions []SLURMBGPsecAssertion
}

// SLURMPrefixFilter is one RFC 8416 §3.3.1 prefix filter. Prefix is
// invalid (the zero value) when absent, HasASN false when asn is absent;
// at least one is present.
type SLURMPrefixFilter struct {
	Prefix  netip.Prefix
	ASN     uint32
	HasASN  bool
	Comment string
	File    string // the file it came from
}

// SLURMPrefixAssertion is one RFC 8416 §3.4.1 prefix assertion; MaxLen is
// the prefix length when maxPrefixLength is absent.
type SLURMPrefixAssertion struct {
	Prefix  netip.Prefix
	MaxLen  uint8
	ASN     uint32
	Comment string
	File    string
}

// SLURMBGPsecFilter is one RFC 8416 §3.3.2 BGPsec filter.
type SLURMBGPsecFilter struct {
	ASN     uint32
	HasASN  bool
	SKI     string
	Comment string
	File    string
}

// SLURMBGPsecAssertion is one RFC 8416 §3.4.2 BGPsec assertion.
type SLURMBGPsecAssertion struct {
	ASN             uint32
	SKI             string
	RouterPublicKey string
	Comment         string
	File            string
}

// SLURMStats counts what Apply did. Removed counts input VRPs removed by a
// filter; Added counts asserted VRPs not already in the (filtered) input;
// BGPsecIgnored counts BGPsec filters and assertions, which do not affect
// origin validation.
type SLURMStats struct {
	Removed, Added int
	BGPsecIgnored  int
}

// SLURMTA is the TA name given to VRPs added by a SLURM prefix assertion.
const SLURMTA = "slurm"

// slObject decodes a JSON object into its members and rejects members not
// in allowed. The object's own location is where, for error messages.
func slObject(raw json.RawMessage, where string, allowed ...string) (map[string]json.RawMessage, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%s: want a JSON object", where)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("%s: unknown member %q (RFC 8416 defines %s)", where, k, strings.Join(allowed, ", "))
		}
	}
	return m, nil
}

// slArray decodes member key of m as an array of raw elements; absent or
// null means empty.
func slArray(m map[string]json.RawMessage, key, where string) ([]json.RawMessage, error) {
	raw, ok := m[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("%s.%s: want an array", where, key)
	}
	return a, nil
}

// slString decodes an optional string member.
func slString(m map[string]json.RawMessage, key, where string) (string, bool, error) {
	raw, ok := m[key]
	if !ok {
		return "", false, nil
	}
	var s string
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '"' {
		return "", false, fmt.Errorf("%s: %s is not a string", where, key)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%s: %s: %w", where, key, err)
	}
	return s, true, nil
}

// slNumber returns an optional member that must be a JSON number, as text.
func slNumber(m map[string]json.RawMessage, key, where string) ([]byte, bool, error) {
	raw, ok := m[key]
	if !ok {
		return nil, false, nil
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || !(t[0] == '-' || t[0] >= '0' && t[0] <= '9') {
		return nil, false, fmt.Errorf("%s: %s %s is not a number", where, key, t)
	}
	return t, true, nil
}

// slASN decodes an optional "asn" member: a JSON number in [0, 2^32-1]
// (RFC 8416 §3.3.1 and §3.4.1 use an unsigned 32-bit integer).
func slASN(m map[string]json.RawMessage, where string) (uint32, bool, error) {
	b, ok, err := slNumber(m, "asn", where)
	if err != nil || !ok {
		return 0, ok, err
	}
	asn, err := loadParseASNNumber(b)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", where, err)
	}
	return asn, true, nil
}

// slPrefix decodes an optional "prefix" member with the loaders' rules: a
// parsable prefix without host bits. A bad prefix is an error, never
// "match everything".
func slPrefix(m map[string]json.RawMessage, where string) (netip.Prefix, bool, error) {
	s, ok, err := slString(m, "prefix", where)
	if err != nil || !ok {
		return netip.Prefix{}, ok, err
	}
	p, err := loadParsePrefix([]byte(s))
	if err != nil {
		return netip.Prefix{}, false, fmt.Errorf("%s: %w", where, err)
	}
	return p, true, nil
}

// LoadSLURM reads and validates one RFC 8416 SLURM file from r; name is
// used in error messages and recorded in each entry's File. Errors name
// the JSON path of the offending entry:
// "slurm.json: validationOutputFilters.prefixFilters[2]: ...".
func LoadSLURM(r io.Reader, name string) (*SLURM, error) {
	data, err := io.ReadAll(r) // SLURM files are small, hand-written
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("%s: not valid JSON: %w", name, err)
	}
	top, err := slObject(data, name, "slurmVersion", "validationOutputFilters", "locallyAddedAssertions")
	if err != nil {
		return nil, err
	}
	// RFC 8416 §3.2: the three members are all required, and
	// "slurmVersion" is 1 for this specification.
	for _, k := range []string{"slurmVersion", "validationOutputFilters", "locallyAddedAssertions"} {
		if _, ok := top[k]; !ok {
			return nil, fmt.Errorf("%s: missing required member %q (RFC 8416 §3.2)", name, k)
		}
	}
	if v := string(bytes.TrimSpace(top["slurmVersion"])); v != "1" {
		return nil, fmt.Errorf("%s: slurmVersion %s is not supported, want 1 (RFC 8416 §3.2)", name, v)
	}
	s := &SLURM{Files: []string{name}}

	where := name + ": validationOutputFilters"
	vof, err := slObject(top["validationOutputFilters"], where, "prefixFilters", "bgpsecFilters")
	if err != nil {
		return nil, err
	}
	pfs, err := slArray(vof, "prefixFilters", where)
	if err != nil {
		return nil, err
	}
	for i, raw := range pfs {
		f, err := slPrefixFilter(raw, fmt.Sprintf("%s.prefixFilters[%d]", where, i))
		if err != nil {
			return nil, err
		}
		f.File = name
		s.PrefixFilters = append(s.PrefixFilters, f)
	}
	bfs, err := slArray(vof, "bgpsecFilters", where)
	if err != nil {
		return nil, err
	}
	for i, raw := range bfs {
		f, err := slBGPsecFilter(raw, fmt.Sprintf("%s.bgpsecFilters[%d]", where, i))
		if err != nil {
			return nil, err
		}
		f.File = name
		s.BGPsecFilters = append(s.BGPsecFilters, f)
	}

	where = name + ": locallyAddedAssertions"
	laa, err := slObject(top["locallyAddedAssertions"], where, "prefixAssertions", "bgpsecAssertions")
	if err != nil {
		return nil, err
	}
	pas, err := slArray(laa, "prefixAssertions", where)
	if err != nil {
		return nil, err
	}
	for i, raw := range pas {
		a, err := slPrefixAssertion(raw, fmt.Sprintf("%s.prefixAssertions[%d]", where, i))
		if err != nil {
			return nil, err
		}
		a.File = name
		s.PrefixAssertions = append(s.PrefixAssertions, a)
	}
	bas, err := slArray(laa, "bgpsecAssertions", where)
	if err != nil {
		return nil, err
	}
	for i, raw := range bas {
		a, err := slBGPsecAssertion(raw, fmt.Sprintf("%s.bgpsecAssertions[%d]", where, i))
		if err != nil {
			return nil, err
		}
		a.File = name
		s.BGPsecAssertions = append(s.BGPsecAssertions, a)
	}
	return s, nil
}

// slPrefixFilter checks RFC 8416 §3.3.1: "prefix" and "asn" are each
// optional but at least one must be present; "comment" is optional.
func slPrefixFilter(raw json.RawMessage, where string) (SLURMPrefixFilter, error) {
	m, err := slObject(raw, where, "prefix", "asn", "comment")
	if err != nil {
		return SLURMPrefixFilter{}, err
	}
	var f SLURMPrefixFilter
	var hasPrefix bool
	if f.Prefix, hasPrefix, err = slPrefix(m, where); err != nil {
		return f, err
	}
	if f.ASN, f.HasASN, err = slASN(m, where); err != nil {
		return f, err
	}
	if f.Comment, _, err = slString(m, "comment", where); err != nil {
		return f, err
	}
	if !hasPrefix && !f.HasASN {
		return f, fmt.Errorf("%s: prefix filter has neither prefix nor asn (RFC 8416 §3.3.1)", where)
	}
	return f, nil
}

// slBGPsecFilter checks RFC 8416 §3.3.2: at least one of "asn" and "SKI".
func slBGPsecFilter(raw json.RawMessage, where string) (SLURMBGPsecFilter, error) {
	m, err := slObject(raw, where, "asn", "SKI", "comment")
	if err != nil {
		return SLURMBGPsecFilter{}, err
	}
	var f SLURMBGPsecFilter
	var hasSKI bool
	if f.ASN, f.HasASN, err = slASN(m, where); err != nil {
		return f, err
	}
	if f.SKI, hasSKI, err = slString(m, "SKI", where); err != nil {
		return f, err
	}
	if f.Comment, _, err = slString(m, "comment", where); err != nil {
		return f, err
	}
	if !f.HasASN && !hasSKI {
		return f, fmt.Errorf("%s: BGPsec filter has neither asn nor SKI (RFC 8416 §3.3.2)", where)
	}
	return f, nil
}

// slPrefixAssertion checks RFC 8416 §3.4.1: "prefix" and "asn" are
// required; "maxPrefixLength" is optional and, when present, must be at
// least the prefix length and at most 32 (IPv4) or 128 (IPv6).
func slPrefixAssertion(raw json.RawMessage, where string) (SLURMPrefixAssertion, error) {
	m, err := slObject(raw, where, "prefix", "asn", "maxPrefixLength", "comment")
	if err != nil {
		return SLURMPrefixAssertion{}, err
	}
	var a SLURMPrefixAssertion
	var ok bool
	if a.Prefix, ok, err = slPrefix(m, where); err != nil {
		return a, err
	} else if !ok {
		return a, fmt.Errorf("%s: prefix assertion without prefix (RFC 8416 §3.4.1)", where)
	}
	if a.ASN, ok, err = slASN(m, where); err != nil {
		return a, err
	} else if !ok {
		return a, fmt.Errorf("%s: prefix assertion without asn (RFC 8416 §3.4.1)", where)
	}
	a.MaxLen = uint8(a.Prefix.Bits())
	if b, ok, err := slNumber(m, "maxPrefixLength", where); err != nil {
		return a, err
	} else if ok {
		n, err := loadParseUint(b, 1<<16, "maxPrefixLength")
		if err != nil {
			return a, fmt.Errorf("%s: %w", where, err)
		}
		if a.MaxLen, err = loadCheckMaxLen(a.Prefix, n); err != nil {
			return a, fmt.Errorf("%s: maxPrefixLength: %w (RFC 8416 §3.4.1)", where, err)
		}
	}
	if a.Comment, _, err = slString(m, "comment", where); err != nil {
		return a, err
	}
	return a, nil
}

// slBGPsecAssertion checks RFC 8416 §3.4.2: "asn", "SKI" and
// "routerPublicKey" are required. Their base64 content is not decoded:
// rovimpact never uses router keys (the RFC's own example has placeholder
// text there).
func slBGPsecAssertion(raw json.RawMessage, where string) (SLURMBGPsecAssertion, error) {
	m, err := slObject(raw, where, "asn", "SKI", "routerPublicKey", "comment")
	if err != nil {
		return SLURMBGPsecAssertion{}, err
	}
	var a SLURMBGPsecAssertion
	var ok bool
	if a.ASN, ok, err = slASN(m, where); err != nil {
		return a, err
	} else if !ok {
		return a, fmt.Errorf("%s: BGPsec assertion without asn (RFC 8416 §3.4.2)", where)
	}
	if a.SKI, ok, err = slString(m, "SKI", where); err != nil {
		return a, err
	} else if !ok {
		return a, fmt.Errorf("%s: BGPsec assertion without SKI (RFC 8416 §3.4.2)", where)
	}
	if a.RouterPublicKey, ok, err = slString(m, "routerPublicKey", where); err != nil {
		return a, err
	} else if !ok {
		return a, fmt.Errorf("%s: BGPsec assertion without routerPublicKey (RFC 8416 §3.4.2)", where)
	}
	if a.Comment, _, err = slString(m, "comment", where); err != nil {
		return a, err
	}
	return a, nil
}

// slFilterMatches reports whether prefix filter f removes v (RFC 8416
// §3.3.1): a filter with a prefix removes every VRP whose prefix is equal
// to or more specific than it; a filter with an asn removes VRPs of that
// ASN; a filter with both removes VRPs matching both.
func slFilterMatches(f *SLURMPrefixFilter, v VRP) bool {
	if f.HasASN && v.ASN != f.ASN {
		return false
	}
	if f.Prefix.IsValid() {
		return f.Prefix.Addr().BitLen() == v.Prefix.Addr().BitLen() &&
			f.Prefix.Bits() <= v.Prefix.Bits() &&
			f.Prefix.Contains(v.Prefix.Addr())
	}
	return true
}

// Apply returns vrps with the SLURM applied in RFC 8416 §4 order: first
// every VRP matched by a prefix filter is removed, then the prefix
// assertions are added (with TA "slurm"), so an assertion is never removed
// by a filter. The result is deduplicated and in canonical order (see
// MergeVRPs); of a VRP both in the input and asserted, the input's TA is
// kept. vrps is not modified.
//
// Cost: O(n·f) for n VRPs and f filters with a prefix; ASN-only filters are
// a map lookup per VRP.
func (s *SLURM) Apply(vrps []VRP) ([]VRP, SLURMStats) {
	st := SLURMStats{BGPsecIgnored: len(s.BGPsecFilters) + len(s.BGPsecAssertions)}
	asnOnly := map[uint32]bool{}
	var withPrefix []*SLURMPrefixFilter
	for i := range s.PrefixFilters {
		f := &s.PrefixFilters[i]
		if f.Prefix.IsValid() {
			withPrefix = append(withPrefix, f)
		} else {
			asnOnly[f.ASN] = true
		}
	}
	out := make([]VRP, 0, len(vrps)+len(s.PrefixAssertions))
next:
	for _, v := range vrps {
		if asnOnly[v.ASN] {
			st.Removed++
			continue
		}
		for _, f := range withPrefix {
			if slFilterMatches(f, v) {
				st.Removed++
				continue next
			}
		}
		out = append(out, v)
	}
	out, _ = dedupVRPs(out)
	kept := len(out)
	for _, a := range s.PrefixAssertions {
		out = append(out, VRP{Prefix: a.Prefix, MaxLen: a.MaxLen, ASN: a.ASN, TA: SLURMTA})
	}
	out, _ = dedupVRPs(out)
	st.Added = len(out) - kept
	return out, st
}

// ErrSLURMOverlap is wrapped by MergeSLURM's error when two files overlap.
var ErrSLURMOverlap = errors.New("SLURM files overlap")

// slPrefixesOverlap reports whether one prefix contains the other.
func slPrefixesOverlap(a, b netip.Prefix) bool {
	return a.IsValid() && b.IsValid() && a.Overlaps(b)
}

// MergeSLURM combines several SLURM files into one (RFC 8416 §4.2). Before
// combining, the RFC requires the relying party to check the files for
// overlap and not to use them if they overlap, because which file should
// win is undefined. Following §4.2, two files overlap when a prefix of a
// prefix filter or prefix assertion in one file equals, covers or is
// covered by such a prefix in the other, or when a BGPsec filter or
// assertion in each names the same ASN or the same SKI. The error wraps
// ErrSLURMOverlap and names both files and entries. Entries overlapping
// within one file are allowed. Nil arguments are skipped; with no files
// the result is an empty SLURM.
func MergeSLURM(files ...*SLURM) (*SLURM, error) {
	out := &SLURM{}
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := slCheckOverlap(out, f); err != nil {
			return nil, err
		}
		out.Files = append(out.Files, f.Files...)
		out.PrefixFilters = append(out.PrefixFilters, f.PrefixFilters...)
		out.PrefixAssertions = append(out.PrefixAssertions, f.PrefixAssertions...)
		out.BGPsecFilters = append(out.BGPsecFilters, f.BGPsecFilters...)
		out.BGPsecAssertions = append(out.BGPsecAssertions, f.BGPsecAssertions...)
	}
	return out, nil
}

// slEntry is one overlap-relevant item of a SLURM, for slCheckOverlap.
type slEntry struct {
	file, what string
	prefix     netip.Prefix
	asn        uint32
	hasASN     bool
	ski        string
}

func slPrefixEntries(s *SLURM) []slEntry {
	var es []slEntry
	for _, f := range s.PrefixFilters {
		if f.Prefix.IsValid() {
			es = append(es, slEntry{file: f.File, what: "prefix filter " + f.Prefix.String(), prefix: f.Prefix})
		}
	}
	for _, a := range s.PrefixAssertions {
		es = append(es, slEntry{file: a.File, what: "prefix assertion " + a.Prefix.String(), prefix: a.Prefix})
	}
	return es
}

func slBGPsecEntries(s *SLURM) []slEntry {
	var es []slEntry
	for _, f := range s.BGPsecFilters {
		es = append(es, slEntry{file: f.File, what: "BGPsec filter", asn: f.ASN, hasASN: f.HasASN, ski: f.SKI})
	}
	for _, a := range s.BGPsecAssertions {
		es = append(es, slEntry{file: a.File, what: "BGPsec assertion", asn: a.ASN, hasASN: true, ski: a.SKI})
	}
	return es
}

// slCheckOverlap checks the already merged acc against the next file f.
func slCheckOverlap(acc, f *SLURM) error {
	pa, pb := slPrefixEntries(acc), slPrefixEntries(f)
	for _, a := range pa {
		for _, b := range pb {
			if a.file != b.file && slPrefixesOverlap(a.prefix, b.prefix) {
				return fmt.Errorf("%w (RFC 8416 §4.2): %s in %s and %s in %s", ErrSLURMOverlap, a.what, a.file, b.what, b.file)
			}
		}
	}
	ba, bb := slBGPsecEntries(acc), slBGPsecEntries(f)
	for _, a := range ba {
		for _, b := range bb {
			if a.file == b.file {
				continue
			}
			if a.hasASN && b.hasASN && a.asn == b.asn {
				return fmt.Errorf("%w (RFC 8416 §4.2): %s for AS%d in %s and %s for AS%d in %s", ErrSLURMOverlap, a.what, a.asn, a.file, b.what, b.asn, b.file)
			}
			if a.ski != "" && a.ski == b.ski {
				return fmt.Errorf("%w (RFC 8416 §4.2): %s with SKI %q in %s and %s in %s", ErrSLURMOverlap, a.what, a.ski, a.file, b.what, b.file)
			}
		}
	}
	return nil
}
