package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/rov"
)

// TestWatchASPAsFromStayrtr: the shared 2025-07-20 export's 100 ASPAs,
// served by the real Debian stayrtr over RTR version 2 (its default), reach
// rovimpact_aspa_customers. The file is rewritten without "expires"
// (stayrtr drops expired entries whatever -checktime says; every entry of
// the 2025 export has expired) and with only its first 1000 ROAs, which is
// enough to show the VRPs arrive beside the ASPAs.
func TestWatchASPAsFromStayrtr(t *testing.T) {
	stayrtrBin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	src := testutil.SharedData(t, "vrp/vrps.rpki-client.20250720T093133Z.json.bz2")
	f, err := compressed.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	e, err := rov.LoadExport(f, src, rov.LoadOptions{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ASPAs) != 100 {
		t.Fatalf("%s: %d ASPAs, want the 100 the issue cites", src, len(e.ASPAs))
	}
	type roa struct {
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		ASN       uint32 `json:"asn"`
		TA        string `json:"ta"`
	}
	type aspa struct {
		Customer  uint32   `json:"customer_asid"`
		Providers []uint32 `json:"providers"`
	}
	// stayrtr 0.5.1 (Debian) reads ASPAs from rpki-client's earlier
	// layout, per address family, not from the "aspas" array of today's
	// rpki-client: {"provider_authorizations": {"ipv4": [...], "ipv6": [...]}}.
	type pas struct {
		IPv4 []aspa `json:"ipv4"`
		IPv6 []aspa `json:"ipv6"`
	}
	var doc struct {
		ROAs  []roa `json:"roas"`
		ASPAs pas   `json:"provider_authorizations"`
	}
	for _, v := range e.VRPs[:1000] {
		doc.ROAs = append(doc.ROAs, roa{v.Prefix.String(), v.MaxLen, v.ASN, v.TA})
	}
	for _, a := range e.ASPAs {
		doc.ASPAs.IPv4 = append(doc.ASPAs.IPv4, aspa{a.CustomerASID, a.Providers})
		doc.ASPAs.IPv6 = append(doc.ASPAs.IPv6, aspa{a.CustomerASID, a.Providers})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "vrps.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rtrAddr := freeLoopback(t)
	stayrtr.Start(t, stayrtrBin, file, rtrAddr)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--rtr", rtrAddr, "--rtr-retry", "200ms", "--http", freeLoopback(t), "--log-format", "json")
	want := float64(rov.NewASPASet(e.ASPAs).Len())
	// Debian's stayrtr 0.5.1 writes the ASPA PDU of draft-ietf-sidrops-
	// 8210bis-10/11 (header octets 2-3 zero; then Flags, AFI Flags, a
	// 16-bit Provider AS Count, the customer, the providers), which rtr.Client,
	// written to the later layout (Flags in the header, no count), reads as
	// a withdrawal of a customer it never saw and drops the session: no
	// VRPs either. Known and reported; until rtr accepts the older layout
	// (or a newer stayrtr is packaged) this test stops here, saying so.
	const oldLayout = "ASPA Provider List Error: ASPA withdrawal for AS16777"
	eventually(t, 20*time.Second, "ASPAs over RTR", func() (bool, string) {
		if logs := run.logs.String(); strings.Contains(logs, oldLayout) {
			t.Skipf("KNOWN BROKEN: stayrtr sends the draft-8210bis-11 ASPA PDU layout, which rtr.Client rejects:\n%s", tail(logs, 3))
		}
		v, ok := run.metric(t, "rovimpact_aspa_customers")
		per, _ := run.metric(t, `rovimpact_aspa_source_customers{source="`+rtrAddr+`"}`)
		vrps, _ := run.metric(t, `rovimpact_vrps{source="`+rtrAddr+`"}`)
		return ok && v == want && per == want && vrps > 0, fmt.Sprintf("aspa_customers %v (present %v), per source %v, vrps %v, want %v\n%s",
			v, ok, per, vrps, want, tail(run.logs.String(), 10))
	})
}
