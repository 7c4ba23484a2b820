package rov

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// loadOracleJSON is the slow, obviously-correct reference for the JSON
// scanner: encoding/json validates the document and splits it into
// members, and the same per-value rules (loadParsePrefix, loadParseASN*,
// ...) and the same dedup are applied. It shares no scanning code with
// loadJSON, so the two agreeing means the scanner tokenises, skips and
// unescapes as encoding/json does.
func loadOracleJSON(data []byte, name string, opt LoadOptions) (Export, error) {
	vrps, aspas, st, err := loadOracleJSON1(data, name, opt)
	return Export{VRPs: vrps, ASPAs: aspas, Stats: st}, err
}

func loadOracleJSON1(data []byte, name string, opt LoadOptions) ([]VRP, []ASPA, LoadStats, error) {
	if !json.Valid(data) {
		return nil, nil, LoadStats{}, errors.New("oracle: invalid JSON")
	}
	// RFC 8259 §8.1: the loader refuses invalid UTF-8 that encoding/json
	// would turn into U+FFFD.
	if !utf8.Valid(data) {
		return nil, nil, LoadStats{}, errors.New("oracle: invalid UTF-8")
	}
	var seenASPAs bool
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, LoadStats{}, errors.New("oracle: not an object")
	}
	l := newVRPLoader(name, opt)
	var (
		hint                   string
		seen, sawSource, first bool
		firstASNText           bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, LoadStats{}, err
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, LoadStats{}, err
		}
		switch key {
		case "roas":
			if seen {
				return nil, nil, LoadStats{}, errors.New("oracle: duplicate roas")
			}
			seen = true
			var elems []json.RawMessage
			if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
				return nil, nil, LoadStats{}, errors.New("oracle: roas not an array")
			}
			for i, e := range elems {
				f, err := loadOracleROA(l, e)
				if err != nil {
					return nil, nil, LoadStats{}, fmt.Errorf("roas[%d]: %w", i, err)
				}
				v, exp, err := f.vrp()
				if err != nil {
					return nil, nil, LoadStats{}, fmt.Errorf("roas[%d]: %w", i, err)
				}
				sawSource = sawSource || f.hasSource
				if !first {
					first, firstASNText = true, f.asnText
				}
				l.add(v, exp)
			}
		case "aspas":
			if seenASPAs {
				return nil, nil, LoadStats{}, errors.New("oracle: duplicate aspas")
			}
			seenASPAs = true
			var elems []json.RawMessage
			if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
				return nil, nil, LoadStats{}, errors.New("oracle: aspas not an array")
			}
			for i, e := range elems {
				a, err := loadOracleASPA(l, e)
				if err != nil {
					return nil, nil, LoadStats{}, fmt.Errorf("aspas[%d]: %w", i, err)
				}
				l.aspas = append(l.aspas, a)
			}
		case "metadata":
			if raw[0] != '{' {
				continue
			}
			md := json.NewDecoder(bytes.NewReader(raw))
			md.Token()
			for md.More() {
				k, _ := md.Token()
				var skip json.RawMessage
				md.Decode(&skip)
				if h := ljFormatHint(k.(string)); h != "" && hint == "" {
					hint = h
				}
				switch c := loadOracleKind(skip); k.(string) {
				case "buildtime", "generatedTime":
					var s string
					if c == '"' && json.Unmarshal(skip, &s) == nil {
						if t, err := time.Parse(time.RFC3339, s); err == nil {
							l.st.BuildTime = t.UTC()
						}
					}
				case "generated":
					if n, err := loadParseUint(bytes.TrimSpace(skip), 1<<40, "generated"); err == nil && l.st.BuildTime.IsZero() {
						l.st.BuildTime = time.Unix(int64(n), 0).UTC()
					}
				}
			}
		}
	}
	if !seen {
		return nil, nil, LoadStats{}, errors.New("oracle: no roas")
	}
	l.st.Format = ljFormat(hint, sawSource, firstASNText)
	vrps, st := l.finish()
	return vrps, l.finishASPAs(), st, nil
}

// loadOracleASPA decodes one "aspas" element through encoding/json maps.
func loadOracleASPA(l *vrpLoader, raw json.RawMessage) (ASPA, error) {
	var m map[string]json.RawMessage
	if loadOracleKind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return ASPA{}, errors.New("not an object")
	}
	isNum := func(c byte) bool { return c == '-' || c >= '0' && c <= '9' }
	asn := func(r json.RawMessage, field string) (uint32, bool, error) {
		switch c := loadOracleKind(r); {
		case c == 'n':
			return 0, false, nil
		case c == '"':
			var str string
			json.Unmarshal(r, &str)
			n, err := loadParseASNText([]byte(str))
			return n, true, err
		case isNum(c):
			n, err := loadParseASNNumber(bytes.TrimSpace(r))
			return n, true, err
		default:
			return 0, true, ljTypeErr(field, c, "a number or string")
		}
	}
	var f ljASPA
	if r, ok := m["customer"]; ok {
		f.cust, f.hasCust, f.custErr = asn(r, "customer")
	}
	if r, ok := m["customer_asid"]; ok {
		f.custAsid, f.hasCustAsid, f.asidErr = asn(r, "customer_asid")
	}
	if r, ok := m["providers"]; ok {
		switch c := loadOracleKind(r); {
		case c == '[':
			var elems []json.RawMessage
			json.Unmarshal(r, &elems)
			for j, e := range elems {
				field := fmt.Sprintf("providers[%d]", j)
				c := loadOracleKind(e)
				n, _, err := asn(e, field)
				if c == 'n' {
					err = ljTypeErr(field, c, "a number or string")
				}
				if err != nil && f.provErr == nil {
					if c == '"' || isNum(c) {
						err = fmt.Errorf("%s: %w", field, err)
					}
					f.provErr = err
				}
				f.providers = append(f.providers, n)
			}
		case c != 'n':
			f.provErr = ljTypeErr("providers", c, "an array")
		}
	}
	if r, ok := m["expires"]; ok {
		switch c := loadOracleKind(r); {
		case isNum(c):
			f.expires, f.expErr = loadParseExpires(bytes.TrimSpace(r))
		case c != 'n':
			f.expErr = ljTypeErr("expires", c, "a number")
		}
	}
	if r, ok := m["ta"]; ok {
		switch c := loadOracleKind(r); {
		case c == '"':
			var str string
			json.Unmarshal(r, &str)
			f.ta = l.intern([]byte(str))
		case c != 'n':
			f.taErr = ljTypeErr("ta", c, "a string")
		}
	}
	return f.aspa()
}

func loadOracleKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func loadOracleROA(l *vrpLoader, raw json.RawMessage) (*ljFields, error) {
	var m map[string]json.RawMessage
	if loadOracleKind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, errors.New("not an object")
	}
	f := &ljFields{}
	str := func(r json.RawMessage) []byte {
		var s string
		json.Unmarshal(r, &s)
		return []byte(s)
	}
	num := func(r json.RawMessage) []byte { return bytes.TrimSpace(r) }
	isNum := func(c byte) bool { return c == '-' || c >= '0' && c <= '9' }
	if r, ok := m["prefix"]; ok {
		switch c := loadOracleKind(r); {
		case c == '"':
			f.hasPrefix = true
			f.prefix, f.prefixErr = loadParsePrefix(str(r))
		case c != 'n':
			f.hasPrefix, f.prefixErr = true, ljTypeErr("prefix", c, "a string")
		}
	}
	if r, ok := m["asn"]; ok {
		switch c := loadOracleKind(r); {
		case c == '"':
			f.hasASN, f.asnText = true, true
			f.asn, f.asnErr = loadParseASNText(str(r))
		case isNum(c):
			f.hasASN = true
			f.asn, f.asnErr = loadParseASNNumber(num(r))
		case c != 'n':
			f.hasASN, f.asnErr = true, ljTypeErr("asn", c, "a number or string")
		}
	}
	if r, ok := m["maxLength"]; ok {
		switch c := loadOracleKind(r); {
		case isNum(c):
			f.hasMaxLen = true
			f.maxLen, f.maxLenErr = loadParseUint(num(r), 1<<16, "maxLength")
		case c != 'n':
			f.hasMaxLen, f.maxLenErr = true, ljTypeErr("maxLength", c, "a number")
		}
	}
	if r, ok := m["ta"]; ok {
		switch c := loadOracleKind(r); {
		case c == '"':
			f.ta = l.intern(str(r))
		case c != 'n':
			f.taErr = ljTypeErr("ta", c, "a string")
		}
	}
	if r, ok := m["expires"]; ok {
		switch c := loadOracleKind(r); {
		case isNum(c):
			f.expires, f.expiresErr = loadParseExpires(num(r))
		case c != 'n':
			f.expiresErr = ljTypeErr("expires", c, "a number")
		}
	}
	if r, ok := m["source"]; ok {
		switch c := loadOracleKind(r); {
		case c == '[':
			f.hasSource = true
			var elems []json.RawMessage
			json.Unmarshal(r, &elems)
			found := false
			for i, e := range elems {
				var em map[string]json.RawMessage
				if loadOracleKind(e) != '{' || json.Unmarshal(e, &em) != nil {
					if f.srcErr == nil {
						f.srcErr = ljTypeErr(fmt.Sprintf("source[%d]", i), loadOracleKind(e), "an object")
					}
					continue
				}
				t, ok := em["tal"]
				if !ok {
					continue
				}
				switch c := loadOracleKind(t); {
				case c == '"':
					if !found {
						f.srcTA, found = l.intern(str(t)), true
					}
				case c != 'n':
					if f.srcErr == nil {
						f.srcErr = ljTypeErr(fmt.Sprintf("source[%d].tal", i), c, "a string")
					}
				}
			}
		case c != 'n':
			f.srcErr = ljTypeErr("source", c, "an array")
		}
	}
	return f, nil
}

// loadCheckInvariants checks what every successful load must satisfy.
func loadCheckInvariants(t *testing.T, vrps []VRP, st LoadStats) {
	t.Helper()
	for _, v := range vrps {
		if !v.Prefix.IsValid() || v.Prefix.Masked() != v.Prefix {
			t.Fatalf("VRP %v: prefix not valid and masked", v)
		}
		if int(v.MaxLen) < v.Prefix.Bits() || int(v.MaxLen) > v.Prefix.Addr().BitLen() {
			t.Fatalf("VRP %v: MaxLen out of [%d, %d]", v, v.Prefix.Bits(), v.Prefix.Addr().BitLen())
		}
	}
	if st.Loaded != len(vrps) || st.IPv4+st.IPv6 != st.Loaded || st.Read-st.Duplicates-st.DroppedExpired != st.Loaded || st.DroppedExpired > st.Expired {
		t.Fatalf("stats don't add up: %+v, len %d", st, len(vrps))
	}
	sum := 0
	for _, n := range st.ByTA {
		sum += n
	}
	if sum != st.Loaded {
		t.Fatalf("ByTA sums to %d, Loaded %d", sum, st.Loaded)
	}
	for i := 1; i < len(vrps); i++ {
		if vrpCompare(vrps[i-1], vrps[i]) >= 0 {
			t.Fatalf("not sorted and unique at %d: %v, %v", i, vrps[i-1], vrps[i])
		}
	}
}

func loadFuzzSeeds(f *testing.F) {
	for _, dir := range []string{"load", "load_errors"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, p := range files {
			if strings.HasSuffix(p, ".golden") {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// Real lines of the shared export, alone and with edge cases.
	f.Add([]byte(`{"roas":[{ "asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic", "expires": 1753453058 }]}`))
	f.Add([]byte(`{"roas":[{ "asn": 2018, "prefix": "2001:4200::/32", "maxLength": 64, "ta": "afrinic", "expires": 1753142776 }],"aspas":[{ "customer_asid": 945, "expires": 1753070425, "providers": [ 13213, 150369 ] }]}`))
	f.Add([]byte(`{"roas":[{"asn":"AS1","prefix":"10.0.0.0/8","maxLength":8,"source":[{"tal":"a"},{"tal":"b"}],"ta":null}],"metadata":{"counts":1}}`))
	f.Add([]byte(`{"roas":[{"pre\u0066ix":"10.0.0.0\/8","maxLength":8e0,"asn":"\u00c5S1"}]}`))
	f.Add([]byte("AS13335,1.0.0.0/24,24,apnic\n"))
	// Routinator's ASPA form and a BOM-prefixed rpki-client CSV line.
	f.Add([]byte(`{"roas":[],"aspas":[{ "customer": "AS1234", "providers": ["AS1", "AS2", "AS3", "AS4"], "ta": "N/A" }]}`))
	f.Add([]byte("\xef\xbb\xbfASN,IP Prefix,Max Length,Trust Anchor,Expires\r\nAS13335,1.0.0.0/24,24,apnic,1753453058\r\n"))
	f.Add([]byte("1.0.0.0/24,24,13335\n# c\n2001:200::/32,32,2500\n"))
	// The edges of the JSON fast path (load_json_fast_test.go), each after
	// a plain element so a TA is remembered.
	for _, c := range ljFastCases {
		f.Add([]byte(`{"roas":[{ "asn": 7, "prefix": "9.0.0.0/8", "maxLength": 8, "ta": "apnic" },` + c + `]}`))
	}
}

// FuzzLoadVRPs checks the loader's invariants on arbitrary input, that
// 1-byte reads (every token split across buffer refills) give the same
// result, that the JSON scanner agrees with loadOracleJSON on
// accept/reject and on the VRPs, ASPAs and stats, and that an accepted
// file's VRPs written out in every CSV layout load back unchanged (the CSV
// reader and the formats' column rules agree with each other).
func FuzzLoadVRPs(f *testing.F) {
	loadFuzzSeeds(f)
	opt := LoadOptions{Now: time.Unix(1753100000, 0)}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := LoadExport(bytes.NewReader(data), "f", opt)
		if err == nil {
			loadCheckInvariants(t, e.VRPs, e.Stats)
			loadCheckCSVRoundTrip(t, e.VRPs)
		}
		e1, err1 := LoadExport(iotest.OneByteReader(bytes.NewReader(data)), "f", opt)
		if (err == nil) != (err1 == nil) || !reflect.DeepEqual(e, e1) {
			t.Fatalf("1-byte reads differ: err %v vs %v", err, err1)
		}
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return
		}
		o, oerr := loadOracleJSON(data, "f", opt)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("scanner error %v, oracle error %v", err, oerr)
		}
		if err == nil && !reflect.DeepEqual(e, o) {
			t.Fatalf("scanner and oracle differ:\n %+v\n %+v", e, o)
		}
	})
}

// loadCheckCSVRoundTrip writes vrps in each CSV layout the loader reads
// (as the producers write them) and checks that each loads back to vrps,
// with the TA where the layout has a TA column.
func loadCheckCSVRoundTrip(t *testing.T, vrps []VRP) {
	t.Helper()
	csvQuote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	layouts := []struct {
		format, header string
		row            func(v VRP) string
		hasTA          bool
	}{
		{FormatRPKIClientCSV, "ASN,IP Prefix,Max Length,Trust Anchor,Expires", func(v VRP) string {
			return fmt.Sprintf("AS%d,%s,%d,%s,1753453058", v.ASN, v.Prefix, v.MaxLen, csvQuote(v.TA))
		}, true},
		{FormatRoutinatorCSVCompat, `"ASN","IP Prefix","Max Length","Trust Anchor"`, func(v VRP) string {
			return fmt.Sprintf(`"%d","%s","%d",%s`, v.ASN, v.Prefix, v.MaxLen, csvQuote(v.TA))
		}, true},
		{FormatRoutinatorCSVExt, "URI,ASN,IP Prefix,Max Length,Not Before,Not After", func(v VRP) string {
			return fmt.Sprintf("rsync://rpki.example/%d.roa,AS%d,%s,%d,2024-07-20 10:01:43,2025-07-25 14:17:38", v.ASN, v.ASN, v.Prefix, v.MaxLen)
		}, false},
	}
	// A CSV line cannot hold a line break (the loader reads quoted fields
	// within one line) nor exceed its 256 KiB line buffer: TA names that
	// JSON can carry but CSV cannot are left out of the TA layouts.
	csvTA := !slices.ContainsFunc(vrps, func(v VRP) bool { return strings.ContainsAny(v.TA, "\r\n") || len(v.TA) > 1<<10 })
	for _, lay := range layouts {
		if lay.hasTA && !csvTA {
			continue
		}
		var b strings.Builder
		b.WriteString("\xef\xbb\xbf" + lay.header + "\r\n")
		for _, v := range vrps {
			b.WriteString(lay.row(v) + "\r\n")
		}
		got, st, err := LoadVRPs(strings.NewReader(b.String()), "rt.csv", LoadOptions{})
		if err != nil {
			t.Fatalf("%s round trip: %v", lay.format, err)
		}
		want := vrps
		if !lay.hasTA {
			want = loadWithoutTA(vrps)
			// Dropping the TA can make two VRPs equal.
			want = MergeVRPs(want)
		}
		if len(want) == 0 {
			want = nil
		}
		if len(got) == 0 {
			got = nil
		}
		if st.Format != lay.format || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s round trip: format %s\n got %v\nwant %v", lay.format, st.Format, got, want)
		}
	}
}

// TestLoadVRPsSmallReads loads every sample through a 1-byte reader, so
// each token straddles a buffer refill, and compares with the oracle.
func TestLoadVRPsSmallReads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "load", "*.json"))
	if len(files) < 4 {
		t.Fatalf("found %d JSON samples", len(files))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := LoadExport(iotest.OneByteReader(bytes.NewReader(b)), p, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want, err := loadOracleJSON(b, p, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: oracle: %v", p, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: scanner %+v, oracle %+v", p, got, want)
		}
	}
}

// FuzzLoadSLURM checks that accepted SLURM files obey the RFC 8416 rules
// they were validated against, that Apply keeps its promises, and the
// §4.2 overlap rule when a file is merged with a copy of itself.
func FuzzLoadSLURM(f *testing.F) {
	for _, n := range []string{"rfc8416-example.json", "rfc8416-empty.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "slurm", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(slDoc(`{"prefix":"10.0.0.0/8","asn":1}`, `{"SKI":""}`, `{"asn":1,"prefix":"::/0","maxPrefixLength":128}`, "")))
	f.Add([]byte(`{"slurmVersion":1,"validationOutputFilters":{},"locallyAddedAssertions":{}}`))
	in := []VRP{lv("10.0.0.0/8", 8, 1, "a"), lv("192.0.2.0/24", 24, 64496, "b"), lv("2001:db8::/32", 48, 64497, "c"), lv("198.51.100.0/24", 24, 64497, "d")}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadSLURM(bytes.NewReader(data), "a")
		if err != nil {
			return
		}
		overlapping := false
		for _, p := range s.PrefixFilters {
			if !p.Prefix.IsValid() && !p.HasASN {
				t.Fatalf("filter with neither prefix nor asn: %+v", p)
			}
			if p.Prefix.IsValid() {
				overlapping = true
				if p.Prefix.Masked() != p.Prefix {
					t.Fatalf("filter prefix not masked: %v", p.Prefix)
				}
			}
		}
		for _, a := range s.PrefixAssertions {
			overlapping = true
			if !a.Prefix.IsValid() || a.Prefix.Masked() != a.Prefix || int(a.MaxLen) < a.Prefix.Bits() || int(a.MaxLen) > a.Prefix.Addr().BitLen() {
				t.Fatalf("bad assertion accepted: %+v", a)
			}
		}
		for _, b := range s.BGPsecFilters {
			overlapping = overlapping || b.HasASN || b.SKI != ""
		}
		for _, b := range s.BGPsecAssertions {
			overlapping = true
			_ = b
		}
		out, st := s.Apply(in)
		if st.Removed > len(in) || st.BGPsecIgnored != len(s.BGPsecFilters)+len(s.BGPsecAssertions) {
			t.Fatalf("stats %+v", st)
		}
		if len(out) != len(in)-st.Removed+st.Added {
			t.Fatalf("len(out) %d != %d - %d + %d", len(out), len(in), st.Removed, st.Added)
		}
		for i := 1; i < len(out); i++ {
			if vrpCompare(out[i-1], out[i]) >= 0 {
				t.Fatalf("Apply output not sorted/unique: %v", out)
			}
		}
		for _, a := range s.PrefixAssertions {
			if !slices.ContainsFunc(out, func(v VRP) bool { return v.Prefix == a.Prefix && v.MaxLen == a.MaxLen && v.ASN == a.ASN }) {
				t.Fatalf("assertion %+v missing from Apply output", a)
			}
		}
		s2, err := LoadSLURM(bytes.NewReader(data), "b")
		if err != nil {
			t.Fatalf("second load failed: %v", err)
		}
		_, err = MergeSLURM(s, s2)
		if overlapping != (err != nil) {
			t.Fatalf("merge with own copy: overlapping %v, err %v", overlapping, err)
		}
	})
}
