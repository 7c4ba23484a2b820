package main

import (
	"fmt"
	"path/filepath"
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
	file := filepath.Join(t.TempDir(), "vrps.json")
	// stayrtr 0.5.1 (Debian) reads ASPAs from rpki-client's earlier
	// layout, per address family ("provider_authorizations"), and sends
	// them in the draft-ietf-sidrops-8210bis-11 PDU layout, which rtr
	// reads beside the -26 one (rtr/pdu.go decodeASPA).
	stayrtr.Write(t, file, e.VRPs[:1000], e.ASPAs)
	rtrAddr := freeLoopback(t)
	stayrtr.Start(t, stayrtrBin, file, rtrAddr)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--rtr", rtrAddr, "--rtr-retry", "200ms", "--http", freeLoopback(t), "--log-format", "json")
	want := float64(rov.NewASPASet(e.ASPAs).Len())
	eventually(t, 20*time.Second, "ASPAs over RTR", func() (bool, string) {
		v, ok := run.metric(t, "rovimpact_aspa_customers")
		per, _ := run.metric(t, `rovimpact_aspa_source_customers{source="`+rtrAddr+`"}`)
		vrps, _ := run.metric(t, `rovimpact_vrps{source="`+rtrAddr+`"}`)
		return ok && v == want && per == want && vrps > 0, fmt.Sprintf("aspa_customers %v (present %v), per source %v, vrps %v, want %v\n%s",
			v, ok, per, vrps, want, tail(run.logs.String(), 10))
	})
}
