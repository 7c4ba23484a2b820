package rov

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The -update flag rewrites golden files. It is registered in init, and
// only if no other test file of the package registered it already, so
// two files may share it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func loadUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func lv(prefix string, maxLen uint8, asn uint32, ta string) VRP {
	return VRP{Prefix: netip.MustParsePrefix(prefix), MaxLen: maxLen, ASN: asn, TA: ta}
}

// loadSampleVRPs are the ten real entries (two per RIR, v4 and v6) of the
// shared rpki-client export that every sample file in testdata/load holds,
// in canonical order.
var loadSampleVRPs = []VRP{
	lv("1.0.0.0/24", 24, 13335, "apnic"),
	lv("1.178.0.0/24", 24, 7224, "arin"),
	lv("1.178.112.0/20", 24, 12975, "ripe"),
	lv("24.152.4.0/22", 32, 270494, "lacnic"),
	lv("41.0.0.0/16", 24, 36994, "afrinic"),
	lv("2001:200::/32", 32, 2500, "apnic"),
	lv("2001:400::/32", 32, 293, "arin"),
	lv("2001:608::/32", 32, 5539, "ripe"),
	lv("2001:1201::/48", 48, 28498, "lacnic"),
	lv("2001:4200::/32", 64, 2018, "afrinic"),
}

func loadWithoutTA(vs []VRP) []VRP {
	out := make([]VRP, len(vs))
	for i, v := range vs {
		v.TA = ""
		out[i] = v
	}
	return out
}

// sampleBuildTimes are the build times in the samples' metadata (CSV
// files have none).
var sampleBuildTimes = map[string]time.Time{
	"rpki-client.json":        time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC),
	"routinator.json":         time.Date(2025, 7, 20, 8, 1, 43, 0, time.UTC),
	"routinator-jsonext.json": time.Date(2025, 7, 20, 8, 1, 43, 0, time.UTC),
	"stayrtr.json":            time.Date(2025, 7, 20, 8, 1, 43, 0, time.UTC),
}

func TestLoadVRPsSamples(t *testing.T) {
	byTA := map[string]int{"apnic": 2, "arin": 2, "ripe": 2, "lacnic": 2, "afrinic": 2}
	tests := []struct {
		file   string
		format string
		read   int
		dups   int
		want   []VRP
		byTA   map[string]int
	}{
		// rpki-client repeats 1.0.0.0/24 AS13335 under "ripe" right after
		// the apnic one: dedup keeps the first TA.
		{"rpki-client.json", FormatRPKIClientJSON, 11, 1, loadSampleVRPs, byTA},
		{"routinator.json", FormatRoutinatorJSON, 10, 0, loadSampleVRPs, byTA},
		{"routinator-jsonext.json", FormatRoutinatorJSON, 10, 0, loadSampleVRPs, byTA},
		{"stayrtr.json", FormatStayRTRJSON, 10, 0, loadSampleVRPs, byTA},
		{"routinator.csv", FormatRoutinatorCSV, 10, 0, loadSampleVRPs, byTA},
		{"plain.csv", FormatCSV, 10, 0, loadWithoutTA(loadSampleVRPs), map[string]int{"": 10}},
		{"plain-header.csv", FormatCSV, 10, 0, loadSampleVRPs, byTA},
		{"rpki-client.csv", FormatRPKIClientCSV, 10, 0, loadSampleVRPs, byTA},
		{"rpki-client-bom-crlf.csv", FormatRPKIClientCSV, 10, 0, loadSampleVRPs, byTA},
		{"routinator-csvcompat.csv", FormatRoutinatorCSVCompat, 10, 0, loadSampleVRPs, byTA},
		{"routinator-csvext.csv", FormatRoutinatorCSVExt, 10, 0, loadWithoutTA(loadSampleVRPs), map[string]int{"": 10}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "load", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, st, err := LoadVRPs(f, tt.file, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("VRPs:\n got %v\nwant %v", got, tt.want)
			}
			want := LoadStats{Format: tt.format, Read: tt.read, Loaded: 10, Duplicates: tt.dups, IPv4: 5, IPv6: 5, ByTA: tt.byTA,
				BuildTime: sampleBuildTimes[tt.file]}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("stats: got %+v, want %+v", st, want)
			}
		})
	}
}

// TestLoadVRPsRules pins each acceptance rule with a minimal input.
func TestLoadVRPsRules(t *testing.T) {
	j := func(roa string) string { return `{"roas":[` + roa + `]}` }
	tests := []struct {
		name    string
		in      string
		want    []VRP  // on success
		wantErr string // substring of the error, "" for success
	}{
		// Prefix rules (STYLE habit 2; RFC 6482 §3.3 addresses are prefixes).
		{"host bits set v4", j(`{"prefix":"1.0.0.1/24","maxLength":24,"asn":1}`), nil, `roas[0]: prefix "1.0.0.1/24" has host bits set`},
		{"host bits set v6", j(`{"prefix":"2001:db8::1/32","maxLength":48,"asn":1}`), nil, `has host bits set`},
		{"unparsable prefix", j(`{"prefix":"1.0.0/24","maxLength":24,"asn":1}`), nil, `roas[0]: prefix "1.0.0/24": `},
		{"prefix without length", j(`{"prefix":"1.0.0.0","maxLength":24,"asn":1}`), nil, `prefix "1.0.0.0": `},
		{"prefix not a string", j(`{"prefix":16843008,"maxLength":24,"asn":1}`), nil, `prefix is a number, want a string`},
		{"missing prefix", j(`{"maxLength":24,"asn":1}`), nil, `missing "prefix"`},
		// maxLength bounds, RFC 6482 §3.3: prefix length <= maxLength <= 32/128.
		{"maxLength /0 v4 ok", j(`{"prefix":"0.0.0.0/0","maxLength":0,"asn":1}`), []VRP{lv("0.0.0.0/0", 0, 1, "")}, ""},
		{"maxLength 32 v4 ok", j(`{"prefix":"0.0.0.0/0","maxLength":32,"asn":1}`), []VRP{lv("0.0.0.0/0", 32, 1, "")}, ""},
		{"maxLength 33 v4", j(`{"prefix":"0.0.0.0/0","maxLength":33,"asn":1}`), nil, `maxLength 33 exceeds 32 for 0.0.0.0/0`},
		{"maxLength 128 v6 ok", j(`{"prefix":"::/0","maxLength":128,"asn":1}`), []VRP{lv("::/0", 128, 1, "")}, ""},
		{"maxLength 129 v6", j(`{"prefix":"::/0","maxLength":129,"asn":1}`), nil, `maxLength 129 exceeds 128 for ::/0`},
		{"maxLength below length", j(`{"prefix":"10.0.0.0/16","maxLength":15,"asn":1}`), nil, `maxLength 15 is below the prefix length of 10.0.0.0/16`},
		{"maxLength negative", j(`{"prefix":"10.0.0.0/16","maxLength":-1,"asn":1}`), nil, `maxLength -1 is negative`},
		{"maxLength fraction", j(`{"prefix":"10.0.0.0/16","maxLength":24.0,"asn":1}`), nil, `maxLength "24.0" is not an integer`},
		{"maxLength huge", j(`{"prefix":"10.0.0.0/16","maxLength":99999999999999999999,"asn":1}`), nil, `out of range`},
		{"maxLength string", j(`{"prefix":"10.0.0.0/16","maxLength":"24","asn":1}`), nil, `maxLength is a string, want a number`},
		{"missing maxLength", j(`{"prefix":"10.0.0.0/16","asn":1}`), nil, `missing "maxLength"`},
		// ASN forms: number (rpki-client), "AS…" string (Routinator,
		// stayrtr), plain digit string; 32-bit range (RFC 6793).
		{"ASN number", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":4294967295}`), []VRP{lv("10.0.0.0/8", 8, 4294967295, "")}, ""},
		{"ASN AS string", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS64500"}`), []VRP{lv("10.0.0.0/8", 8, 64500, "")}, ""},
		{"ASN lower as string", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"as64500"}`), []VRP{lv("10.0.0.0/8", 8, 64500, "")}, ""},
		{"ASN digit string", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"64500"}`), []VRP{lv("10.0.0.0/8", 8, 64500, "")}, ""},
		{"ASN 0 kept (RFC 6483 §4 AS0 ROA)", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":0}`), []VRP{lv("10.0.0.0/8", 8, 0, "")}, ""},
		{"ASN too big", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":4294967296}`), nil, `ASN 4294967296 is out of range`},
		{"ASN negative", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":-1}`), nil, `ASN -1 is negative`},
		{"ASN fraction", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":1.5}`), nil, `ASN "1.5" is not an integer`},
		{"ASN AS garbage", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS12x"}`), nil, `ASN "AS12x" is not a number or AS<number>`},
		{"ASN AS only", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS"}`), nil, `ASN "AS" is not a number or AS<number>`},
		{"ASN AS too big", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS4294967296"}`), nil, `ASN "AS4294967296" is out of range`},
		{"ASN AS negative", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS-1"}`), nil, `is not a number or AS<number>`},
		{"ASN bool", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":true}`), nil, `asn is a boolean, want a number or string`},
		{"missing ASN", j(`{"prefix":"10.0.0.0/8","maxLength":8}`), nil, `missing "asn"`},
		// Structure.
		{"error names index", `{"roas":[{"prefix":"10.0.0.0/8","maxLength":8,"asn":1},{"prefix":"10.0.0.1/8","maxLength":8,"asn":1}]}`, nil, `x.json: roas[1]: prefix "10.0.0.1/8" has host bits set`},
		{"roa not an object", j(`[1]`), nil, `roas[0]: not an object`},
		{"no roas", `{"metadata":{}}`, nil, `no "roas" array`},
		{"roas not an array", `{"roas":{}}`, nil, `"roas" is an object, want an array`},
		{"duplicate roas", `{"roas":[],"roas":[]}`, nil, `duplicate "roas" member`},
		{"trailing data", `{"roas":[]} x`, nil, `after top-level value`},
		{"truncated", `{"roas":[{"prefix":"10.0.0.0/8"`, nil, `truncated JSON`},
		{"unknown members skipped", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":1,"x":{"y":[1,2,{"z":null}]},"ta":"t"}`), []VRP{lv("10.0.0.0/8", 8, 1, "t")}, ""},
		{"escaped strings", j(`{"pre\u0066ix":"10.0.0.0\/8","maxLength":8,"asn":1,"ta":"r\u0069pe"}`), []VRP{lv("10.0.0.0/8", 8, 1, "ripe")}, ""},
		{"last duplicate member wins", j(`{"prefix":"10.0.0.1/8","prefix":"10.0.0.0/8","maxLength":8,"asn":1}`), []VRP{lv("10.0.0.0/8", 8, 1, "")}, ""},
		{"jsonext source tal", j(`{"prefix":"10.0.0.0/8","maxLength":8,"asn":"AS1","source":[{"tal":"arin"},{"tal":"ripe"}]}`), []VRP{lv("10.0.0.0/8", 8, 1, "arin")}, ""},
		// CSV.
		{"csv host bits", "prefix,maxlen,asn\n10.0.0.0/8,8,1\n10.0.0.1/8,8,1\n", nil, `x.json:3: prefix "10.0.0.1/8" has host bits set`},
		{"csv field count", "10.0.0.0/8,8\n", nil, `x.json:1: want 3 or 4 fields`},
		{"csv routinator field count", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8\n", nil, `x.json:2: want 4 fields, got 3`},
		{"csv bad header", "foo,bar,baz\n", nil, `unrecognised header`},
		{"csv comments only", "# nothing\n", nil, `no VRP lines`},
		{"csv ASN garbage", "10.0.0.0/8,8,ASx\n", nil, `ASN "ASx" is not a number`},
		{"csv maxlen empty", "10.0.0.0/8,,1\n", nil, `maxLength is empty`},
		{"csv no trailing newline", "10.0.0.0/8,8,1", []VRP{lv("10.0.0.0/8", 8, 1, "")}, ""},
		{"empty input", "  \n", nil, `empty input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := LoadVRPs(strings.NewReader(tt.in), "x.json", LoadOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if st.Loaded != len(got) || st.IPv4+st.IPv6 != st.Loaded {
				t.Errorf("stats don't add up: %+v", st)
			}
		})
	}
}

// TestLoadVRPsErrorsGolden loads each bad file in testdata/load_errors and
// compares the full error text with its .golden file (-update rewrites).
func TestLoadVRPsErrorsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "load_errors", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		n++
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, _, lerr := LoadVRPs(f, name, LoadOptions{})
			if lerr == nil {
				t.Fatalf("%s loaded without error, want an error", name)
			}
			got := lerr.Error() + "\n"
			golden := path + ".golden"
			if loadUpdating() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("error text:\n got %q\nwant %q", got, want)
			}
		})
	}
	if n < 10 {
		t.Errorf("found %d bad input files in testdata/load_errors, want at least 10", n)
	}
}

// TestLoadVRPsExpiry pins the expiry rule: entries whose expires is before
// Now are counted, kept by default and dropped with DropExpired; a zero
// Now or a missing expires never expires.
func TestLoadVRPsExpiry(t *testing.T) {
	in := `{"roas":[
	{"prefix":"10.0.0.0/8","maxLength":8,"asn":1,"expires":1000},
	{"prefix":"10.0.0.0/8","maxLength":8,"asn":1,"expires":1000},
	{"prefix":"11.0.0.0/8","maxLength":8,"asn":1,"expires":2000},
	{"prefix":"12.0.0.0/8","maxLength":8,"asn":1}]}`
	tests := []struct {
		name                               string
		opt                                LoadOptions
		loaded, expired, dropped, dup, v4s int
	}{
		{"zero Now: never expired", LoadOptions{}, 3, 0, 0, 1, 3},
		{"expires == Now is not expired", LoadOptions{Now: time.Unix(1000, 0)}, 3, 0, 0, 1, 3},
		{"kept and counted", LoadOptions{Now: time.Unix(1500, 0)}, 3, 2, 0, 1, 3},
		{"dropped before dedup", LoadOptions{Now: time.Unix(1500, 0), DropExpired: true}, 2, 2, 2, 0, 2},
		{"all with expires dropped", LoadOptions{Now: time.Unix(5000, 0), DropExpired: true}, 1, 3, 3, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := LoadVRPs(strings.NewReader(in), "x.json", tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if st.Loaded != tt.loaded || st.Expired != tt.expired || st.DroppedExpired != tt.dropped || st.Duplicates != tt.dup || st.IPv4 != tt.v4s || len(got) != tt.loaded {
				t.Errorf("got %+v (len %d), want loaded %d expired %d dropped %d dups %d", st, len(got), tt.loaded, tt.expired, tt.dropped, tt.dup)
			}
			if st.Read != 4 || st.Read-st.Duplicates-st.DroppedExpired != st.Loaded {
				t.Errorf("Read %d, Duplicates %d, DroppedExpired %d don't add up to Loaded %d", st.Read, st.Duplicates, st.DroppedExpired, st.Loaded)
			}
		})
	}
}

func TestMergeVRPs(t *testing.T) {
	a := []VRP{lv("10.0.0.0/8", 8, 1, "ripe"), lv("2001:db8::/32", 48, 2, "ripe")}
	b := []VRP{lv("2001:db8::/32", 48, 2, "arin"), lv("10.0.0.0/16", 24, 1, "arin"), lv("10.0.0.0/8", 8, 1, "arin"), lv("10.0.0.0/8", 8, 3, "arin")}
	want := []VRP{
		lv("10.0.0.0/16", 24, 1, "arin"), // longer prefix first at equal address
		lv("10.0.0.0/8", 8, 1, "ripe"),   // TA of the first set
		lv("10.0.0.0/8", 8, 3, "arin"),
		lv("2001:db8::/32", 48, 2, "ripe"), // IPv6 after IPv4
	}
	got := MergeVRPs(a, b)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeVRPs(a, b):\n got %v\nwant %v", got, want)
	}
	if a[0].TA != "ripe" || b[0].TA != "arin" || len(b) != 4 {
		t.Errorf("inputs modified: %v %v", a, b)
	}
	if got := MergeVRPs(); len(got) != 0 {
		t.Errorf("MergeVRPs() = %v, want empty", got)
	}
	// Deterministic: the other argument order gives the same VRPs, TAs
	// from b first.
	got2 := MergeVRPs(b, a)
	if len(got2) != 4 || got2[1].TA != "arin" || got2[3].TA != "arin" {
		t.Errorf("MergeVRPs(b, a) = %v", got2)
	}
	// Same order as the loaders use: rpki-client's export order.
	if fmt.Sprint(got) != "[10.0.0.0/16-24 AS1 10.0.0.0/8 AS1 10.0.0.0/8 AS3 2001:db8::/32-48 AS2]" {
		t.Errorf("order: %v", got)
	}
}

// TestLoadVRPsRIPEArchive loads a RIPE NCC RPKI archive roas.csv (the
// csvext layout, one TA per file, no TA column) built from real RIPE
// entries of the shared rpki-client export, and checks that its Not After
// column is the expiry LoadOptions.Now is judged against.
func TestLoadVRPsRIPEArchive(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "load", "ripe-archive-roas.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []VRP{
		lv("1.178.112.0/20", 24, 12975, ""), lv("1.178.112.0/20", 24, 19905, ""), lv("1.178.128.0/20", 24, 19905, ""),
		lv("2.48.28.0/22", 22, 5384, ""), lv("63.142.12.0/24", 24, 48582, ""), lv("159.224.57.0/24", 24, 13188, ""),
		lv("2001:1a40:110::/48", 48, 5416, ""), lv("2a0d:ff00::/29", 29, 204877, ""),
	}
	// 63.142.12.0/24 expires 2025-07-21 01:01:13 UTC, the others at 04:00:25.
	now := time.Date(2025, 7, 21, 2, 0, 0, 0, time.UTC)
	got, st, err := LoadVRPs(strings.NewReader(string(b)), "roas.csv", LoadOptions{Now: now, DropExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	wantKept := append(append([]VRP(nil), want[:4]...), want[5:]...)
	if !reflect.DeepEqual(got, wantKept) {
		t.Errorf("VRPs:\n got %v\nwant %v", got, wantKept)
	}
	if st.Format != FormatRoutinatorCSVExt || st.Read != 8 || st.Expired != 1 || st.DroppedExpired != 1 {
		t.Errorf("stats %+v: want routinator-csvext, 8 read, 1 expired and dropped", st)
	}
}

// TestLoadVRPsCSVForms pins the CSV syntax rules: quoting (RFC 4180 §2),
// BOM, CRLF, expiry columns and UTF-8 text fields, with the error each
// bad form gives (file:line, column, value).
func TestLoadVRPsCSVForms(t *testing.T) {
	now := time.Unix(1753100000, 0)
	tests := []struct {
		name    string
		in      string
		want    []VRP
		expired int
		wantErr string
	}{
		{"csvcompat AS-prefixed ASN (Routinator's tests)", "\"ASN\",\"IP Prefix\",\"Max Length\",\"Trust Anchor\"\n\"AS1234\",\"12.34.56.0/24\",\"24\",\"N/A\"\n",
			[]VRP{lv("12.34.56.0/24", 24, 1234, "N/A")}, 0, ""},
		{"quoted TA with comma and escaped quote", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,\"a, \"\"b\"\"\"\n",
			[]VRP{lv("10.0.0.0/8", 8, 1, `a, "b"`)}, 0, ""},
		{"spaces around quoted fields", "ASN,IP Prefix,Max Length,Trust Anchor\r\n \"AS1\" , \"10.0.0.0/8\" ,8,ripe\r\n",
			[]VRP{lv("10.0.0.0/8", 8, 1, "ripe")}, 0, ""},
		{"BOM before a headerless file", "\xef\xbb\xbf10.0.0.0/8,8,1\n", []VRP{lv("10.0.0.0/8", 8, 1, "")}, 0, ""},
		{"BOM before JSON (RFC 8259 §8.1 may ignore)", "\xef\xbb\xbf{\"roas\":[{\"prefix\":\"10.0.0.0/8\",\"maxLength\":8,\"asn\":1}]}",
			[]VRP{lv("10.0.0.0/8", 8, 1, "")}, 0, ""},
		{"rpki-client expires counted", "ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS1,10.0.0.0/8,8,ripe,1753099999\nAS2,11.0.0.0/8,8,ripe,1753100000\n",
			[]VRP{lv("10.0.0.0/8", 8, 1, "ripe"), lv("11.0.0.0/8", 8, 2, "ripe")}, 1, ""},
		{"csvext N/A validity never expires", "URI,ASN,IP Prefix,Max Length,Not Before,Not After\nN/A,AS1234,12.34.56.0/24,24,N/A,N/A\n",
			[]VRP{lv("12.34.56.0/24", 24, 1234, "")}, 0, ""},
		{"UTF-8 TA accepted", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,réseau\n", []VRP{lv("10.0.0.0/8", 8, 1, "réseau")}, 0, ""},

		{"Latin-1 byte in TA", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,r\xe9seau\n", nil, 0,
			`f.csv:2: column 19: invalid UTF-8 byte 0xe9 in the "Trust Anchor" column ("r\xe9seau")`},
		{"bad byte in quoted TA", "\"ASN\",\"IP Prefix\",\"Max Length\",\"Trust Anchor\"\n\"1\",\"10.0.0.0/8\",\"8\",\"ripe\xff\"\n", nil, 0,
			`f.csv:2: column 27: invalid UTF-8 byte 0xff in the "Trust Anchor" column ("ripe\xff")`},
		{"bad byte in URI", "URI,ASN,IP Prefix,Max Length,Not Before,Not After\nrsync://x/\xc3.roa,AS1,10.0.0.0/8,8,N/A,N/A\n", nil, 0,
			`f.csv:2: column 11: invalid UTF-8 byte 0xc3 in the "URI" column ("rsync://x/\xc3.roa")`},
		{"bad byte in headerless TA", "10.0.0.0/8,8,1,\x80\n", nil, 0, `f.csv:1: column 16: invalid UTF-8 byte 0x80 in the column 4 ("\x80")`},
		{"unclosed quote", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,\"ripe\n", nil, 0, `f.csv:2: column 18: quoted field not closed on this line`},
		{"text after closing quote", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,\"ri\"pe\n", nil, 0, `f.csv:2: column 22: 'p' after a quoted field, want a comma`},
		{"quote inside unquoted field", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,ri\"pe\n", nil, 0, `f.csv:2: column 20: quote inside an unquoted field "ri\"pe"`},
		{"rpki-client expires not a number", "ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS1,10.0.0.0/8,8,ripe,soon\n", nil, 0, `f.csv:2: expires "soon" is not an integer Unix time`},
		{"csvext bad Not After", "URI,ASN,IP Prefix,Max Length,Not Before,Not After\nN/A,AS1,10.0.0.0/8,8,N/A,2025-07-21T00:00:00Z\n", nil, 0,
			`f.csv:2: Not After "2025-07-21T00:00:00Z": want YYYY-MM-DD hh:mm:ss (UTC) or N/A`},
		{"rpki-client row missing Expires", "ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS1,10.0.0.0/8,8,ripe\n", nil, 0, `f.csv:2: want 5 fields, got 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := LoadVRPs(strings.NewReader(tt.in), "f.csv", LoadOptions{Now: now})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) || st.Expired != tt.expired {
				t.Errorf("got %v (%d expired), want %v (%d expired)", got, st.Expired, tt.want, tt.expired)
			}
		})
	}
}

// TestLoadExportASPAs pins the "aspas" forms of rpki-client (numbers,
// customer_asid, expires) and Routinator ("AS…" strings, customer, ta),
// and the errors for bad entries.
func TestLoadExportASPAs(t *testing.T) {
	roa := `"roas":[{"prefix":"10.0.0.0/8","maxLength":8,"asn":1}]`
	tests := []struct {
		name    string
		aspas   string
		want    []ASPA
		wantErr string
	}{
		{"rpki-client", `[{ "customer_asid": 11358, "expires": 1753087655, "providers": [ 835, 924, 6939, 20473, 34927 ] },
			{ "customer_asid": 945, "expires": 1753070425, "providers": [ 13213, 150369 ] }]`,
			[]ASPA{{CustomerASID: 945, Providers: []uint32{13213, 150369}, Expires: 1753070425},
				{CustomerASID: 11358, Providers: []uint32{835, 924, 6939, 20473, 34927}, Expires: 1753087655}}, ""},
		{"routinator", `[{ "customer": "AS1234", "providers": ["AS1", "AS2", "AS3", "AS4"], "ta": "N/A" }]`,
			[]ASPA{{CustomerASID: 1234, Providers: []uint32{1, 2, 3, 4}, TA: "N/A"}}, ""},
		{"routinator jsonext source ignored", `[{ "customer": "AS1234", "providers": ["AS1"], "source": [ { "type": "exception", "path": null }] }]`,
			[]ASPA{{CustomerASID: 1234, Providers: []uint32{1}}}, ""},
		{"empty", `[]`, nil, ""},
		{"customer_asid wins over customer", `[{"customer":"AS1","customer_asid":2,"providers":[]}]`, []ASPA{{CustomerASID: 2}}, ""},
		{"last providers wins", `[{"customer_asid":2,"providers":[1],"providers":[3,4]}]`, []ASPA{{CustomerASID: 2, Providers: []uint32{3, 4}}}, ""},
		{"missing customer", `[{"providers":[1]}]`, nil, `f: aspas[0]: missing "customer_asid" (or "customer")`},
		{"bad provider", `[{"customer_asid":2,"providers":[1,"ASx"]}]`, nil, `f: aspas[0]: providers[1]: ASN "ASx" is not a number or AS<number>`},
		{"provider object", `[{"customer_asid":2,"providers":[{"asid":1}]}]`, nil, `f: aspas[0]: providers[0] is an object, want a number or string`},
		{"provider too big", `[{"customer_asid":2,"providers":[4294967296]}]`, nil, `f: aspas[0]: providers[0]: ASN 4294967296 is out of range (max 4294967295)`},
		{"not an object", `[1]`, nil, `f: aspas[0]: not an object`},
		{"not an array", `{}`, nil, `f: offset 64: "aspas" is an object, want an array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadExport(strings.NewReader(`{`+roa+`,"aspas":`+tt.aspas+`}`), "f", LoadOptions{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e.ASPAs, tt.want) || len(e.VRPs) != 1 {
				t.Errorf("ASPAs %+v (%d VRPs), want %+v", e.ASPAs, len(e.VRPs), tt.want)
			}
		})
	}
}

// TestLoadVRPsJSONInvalidUTF8: a TA name (or any string) with a byte that
// is not UTF-8 is refused at its offset (RFC 8259 §8.1), where
// encoding/json would have made it "ripe\uFFFD", a TA of its own.
func TestLoadVRPsJSONInvalidUTF8(t *testing.T) {
	in := `{"roas":[{"prefix":"10.0.0.0/8","maxLength":8,"asn":1,"ta":"ripe` + "\xff" + `"}]}`
	_, _, err := LoadVRPs(strings.NewReader(in), "vrps.json", LoadOptions{})
	want := `vrps.json: offset 64: invalid UTF-8 byte 0xff in string`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if in[64] != '\xff' {
		t.Fatalf("offset 64 holds %q", in[64])
	}
}

// TestLoadExportSharedASPAs loads the shared rpki-client export and
// checks its 100 ASPAs against its own metadata count.
func TestLoadExportSharedASPAs(t *testing.T) {
	e, err := LoadExport(bytes.NewReader(loadRealJSON(t)), loadRealFile, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ASPAs) != 100 || len(e.VRPs) != 723524 {
		t.Fatalf("%d ASPAs, %d VRPs; want 100 (metadata uniquevaps) and 723524", len(e.ASPAs), len(e.VRPs))
	}
	first := ASPA{CustomerASID: 945, Providers: []uint32{13213, 150369}, Expires: 1753070425}
	if !reflect.DeepEqual(e.ASPAs[0], first) {
		t.Errorf("first ASPA %+v, want %+v", e.ASPAs[0], first)
	}
	for _, a := range e.ASPAs {
		if a.CustomerASID == 0 || len(a.Providers) == 0 || a.Expires == 0 {
			t.Errorf("ASPA %+v: customer, providers and expires must be set", a)
		}
	}
}

// TestLoadExportASPAsOnly: with ASPAsOnly the ROAs are skipped (no VRP
// decoded, a bad ROA entry not noticed) but JSON syntax inside "roas"
// still fails, "roas" must still be an array, and the ASPAs are the same
// as a full load's. A CSV file (no ASPAs) gives nothing.
func TestLoadExportASPAsOnly(t *testing.T) {
	aspas := `"aspas":[{"customer_asid":945,"providers":[13213]}]`
	opt := LoadOptions{ASPAsOnly: true}
	e, err := LoadExport(strings.NewReader(`{"roas":[{"prefix":"10.0.0.0/8","maxLength":7,"asn":1}],`+aspas+`}`), "f", opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []ASPA{{CustomerASID: 945, Providers: []uint32{13213}}}
	if !reflect.DeepEqual(e.ASPAs, want) || len(e.VRPs) != 0 {
		t.Fatalf("ASPAs %+v, %d VRPs; want %+v and none", e.ASPAs, len(e.VRPs), want)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"roas":[{"prefix":}],` + aspas + `}`, "f: offset 19: invalid character '}' looking for beginning of value"},
		{`{"roas":{},` + aspas + `}`, `f: offset 8: "roas" is an object, want an array`},
		{`{` + aspas + `}`, `f: no "roas" array: not a VRP export`},
	} {
		if _, err := LoadExport(strings.NewReader(bad.in), "f", opt); err == nil || err.Error() != bad.want {
			t.Errorf("%s: err = %v, want %s", bad.in, err, bad.want)
		}
	}
	e, err = LoadExport(strings.NewReader("ASN,IP Prefix,Max Length,Trust Anchor\nAS1,10.0.0.0/8,8,ripe\n"), "f.csv", opt)
	if err != nil || len(e.VRPs)+len(e.ASPAs) != 0 {
		t.Fatalf("CSV: %+v, %v; want nothing", e, err)
	}
	full, err := LoadExport(bytes.NewReader(loadRealJSON(t)), loadRealFile, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	only, err := LoadExport(bytes.NewReader(loadRealJSON(t)), loadRealFile, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(full.ASPAs, only.ASPAs) || len(only.VRPs) != 0 {
		t.Fatalf("shared export: ASPAsOnly gave %d ASPAs (%d VRPs), full load %d", len(only.ASPAs), len(only.VRPs), len(full.ASPAs))
	}
}
