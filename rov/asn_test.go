package rov

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
)

func TestParseASN(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr string
	}{
		{"64500", 64500, ""},
		{"AS64500", 64500, ""},
		{"as64500", 64500, ""},
		{"As64500", 64500, ""},
		{"0", 0, ""},                   // AS0 (RFC 7607): a valid number, callers decide
		{"4294967295", 4294967295, ""}, // RFC 6793: the largest 4-byte ASN
		{"AS4294967295", 4294967295, ""},
		{"4294967296", 0, `ASN "4294967296" is out of range (max 4294967295)`},
		{"AS99999999999999999999", 0, `ASN "AS99999999999999999999" is out of range (max 4294967295)`},
		{"", 0, `ASN "" is not a number or AS<number>`},
		{"AS", 0, `ASN "AS" is not a number or AS<number>`},
		{"-1", 0, `ASN "-1" is not a number or AS<number>`},
		{"+1", 0, `ASN "+1" is not a number or AS<number>`},
		{"AS-1", 0, `ASN "AS-1" is not a number or AS<number>`},
		{" 64500", 0, `ASN " 64500" is not a number or AS<number>`},
		{"AS 64500", 0, `ASN "AS 64500" is not a number or AS<number>`},
		{"1.10", 0, `ASN "1.10" is not a number or AS<number>`}, // asdot is not accepted
		{"0x10", 0, `ASN "0x10" is not a number or AS<number>`},
		{"ASN64500", 0, `ASN "ASN64500" is not a number or AS<number>`},
		{"６４５００", 0, `ASN "６４５００" is not a number or AS<number>`}, // fullwidth digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseASN(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseASN(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseASN(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			// Printing and parsing again gives the same number.
			if back, err := ParseASN(FormatASN(got)); err != nil || back != got {
				t.Fatalf("ParseASN(FormatASN(%d)) = %d, %v", got, back, err)
			}
		})
	}
}

func TestOriginString(t *testing.T) {
	tests := []struct {
		o    Origin
		want string
	}{
		{Origin{Kind: OriginAS, ASN: 15169}, "AS15169"},
		{Origin{Kind: OriginAS, ASN: 0}, "AS0"},
		{Origin{Kind: OriginAS, ASN: 4294967295}, "AS4294967295"},
		{Origin{Kind: OriginNone}, "NONE"},   // RFC 6811 §2: final AS_SET
		{Origin{Kind: OriginLocal}, "LOCAL"}, // RFC 6811 §2: empty path, local AS unknown
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.o, got, tt.want)
		}
		b, err := json.Marshal(tt.o)
		if err != nil || string(b) != `"`+tt.want+`"` {
			t.Errorf("json.Marshal(%+v) = %s, %v; want %q", tt.o, b, err, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = AppendASN(make([]byte, 0, 16), 64500) }); n > 1 {
		t.Errorf("AppendASN allocates %v times", n)
	}
}

// FuzzParseASN checks ParseASN against a regexp-and-strconv reference:
// it accepts exactly [Aa][Ss]?digits up to 2^32-1, and what it accepts
// prints (FormatASN) and parses back to the same number.
func FuzzParseASN(f *testing.F) {
	for _, s := range []string{"64500", "AS64500", "as64500", "aS0", "4294967295", "4294967296", "AS", "", "-1", "+1", "1.10", "AS 1", "００", "AS00012", "AS18446744073709551616"} {
		f.Add(s)
	}
	re := regexp.MustCompile(`^(?:[Aa][Ss])?([0-9]+)$`)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseASN(s)
		m := re.FindStringSubmatch(s)
		var want uint64
		ok := m != nil
		if ok {
			var perr error
			want, perr = strconv.ParseUint(m[1], 10, 32)
			ok = perr == nil
		}
		if (err == nil) != ok {
			t.Fatalf("ParseASN(%q) = %d, %v; reference accepts: %v", s, n, err, ok)
		}
		if err != nil {
			return
		}
		if uint64(n) != want {
			t.Fatalf("ParseASN(%q) = %d, want %d", s, n, want)
		}
		if back, err := ParseASN(FormatASN(n)); err != nil || back != n {
			t.Fatalf("ParseASN(FormatASN(%d)) = %d, %v", n, back, err)
		}
	})
}
