package rov

import (
	"strings"
	"testing"
	"time"
)

// TestLoadVRPsBuildTime: the exporter's build time is taken from the
// metadata each JSON exporter writes (issue 12 item 2: every report states
// the VRP set's age); files without one leave it zero for the caller's
// file-time fallback.
func TestLoadVRPsBuildTime(t *testing.T) {
	roas := `"roas":[{"asn":64500,"prefix":"192.0.2.0/24","maxLength":24,"ta":"test"}]`
	want := time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC)
	for _, tc := range []struct {
		name, doc string
		want      time.Time
	}{
		{"rpki-client buildtime", `{"metadata":{"buildmachine":"x","buildtime":"2025-07-20T10:01:43Z","vrps":1},` + roas + `}`, want},
		{"routinator generatedTime wins over generated", `{"metadata":{"generated":1,"generatedTime":"2025-07-20T10:01:43Z"},` + roas + `}`, want},
		{"routinator generatedTime then generated", `{"metadata":{"generatedTime":"2025-07-20T10:01:43Z","generated":1},` + roas + `}`, want},
		{"stayrtr generated (Unix seconds)", `{"metadata":{"counts":1,"generated":1753005703},` + roas + `}`, want},
		{"offset time zone", `{"metadata":{"buildtime":"2025-07-20T12:01:43+02:00"},` + roas + `}`, want},
		{"no metadata", `{` + roas + `}`, time.Time{}},
		{"unparsable buildtime", `{"metadata":{"buildtime":"yesterday"},` + roas + `}`, time.Time{}},
		{"buildtime not a string", `{"metadata":{"buildtime":12},` + roas + `}`, time.Time{}},
		{"CSV", "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,192.0.2.0/24,24,test\n", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st, err := LoadVRPs(strings.NewReader(tc.doc), "v", LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !st.BuildTime.Equal(tc.want) {
				t.Errorf("BuildTime %v, want %v", st.BuildTime, tc.want)
			}
		})
	}
}
