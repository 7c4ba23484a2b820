package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

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
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--rtr", rtrAddr, "--rtr-retry", "200ms", "--http", freeLoopback(t), "--log-format", "json",
		"--peer-role", "174=peer", "--interval", "100ms")
	want := float64(rov.NewASPASet(e.ASPAs).Len())
	testutil.Eventually(t, 20*time.Second, "ASPAs over RTR", func() (bool, string) {
		v, ok := run.metric(t, "rovimpact_aspa_customers")
		per, _ := run.metric(t, `rovimpact_aspa_source_customers{source="`+rtrAddr+`"}`)
		vrps, _ := run.metric(t, `rovimpact_vrps{source="`+rtrAddr+`"}`)
		return ok && v == want && per == want && vrps > 0, fmt.Sprintf("aspa_customers %v (present %v), per source %v, vrps %v, want %v\n%s",
			v, ok, per, vrps, want, tail(run.logs.String(), 10))
	})

	// The paths a BMP router reports are verified against them: AS945's
	// ASPA (AS13213 AS150369) does not list AS174, so "174 945" is
	// invalid; AS64511 has no ASPA, so "174 64511" is unknown.
	send, _ := run.dialBMP(t)
	const peerAddr, peerAS = "192.0.2.5", 174
	send(bmpMust(bmp.NewBMPInitiation([]bmp.BMPInfoTLVInterface{bmp.NewBMPInfoTLVString(bmp.BMP_INIT_TLV_TYPE_SYS_NAME, "router1")}).Serialize()),
		bmpPeerUp(peerAddr, peerAS), bmpRoute(t, peerAddr, peerAS, annRoute{Prefix: "198.51.100.0/24", Path: "174 945"}, false),
		bmpRoute(t, peerAddr, peerAS, annRoute{Prefix: "203.0.113.0/24", Path: "174 64511"}, false))
	testutil.Eventually(t, 20*time.Second, "ASPA verdicts of the BMP paths", func() (bool, string) {
		inv, _ := run.metric(t, `rovimpact_aspa_paths{state="invalid"}`)
		unk, _ := run.metric(t, `rovimpact_aspa_paths{state="unknown"}`)
		dropped, _ := run.metric(t, `rovimpact_aspa_routes_dropped`)
		return inv == 1 && unk == 1 && dropped == 1, fmt.Sprintf("invalid %v unknown %v dropped %v\n%s", inv, unk, dropped, tail(run.logs.String(), 5))
	})
	code, body := run.get(t, "/api/summary")
	var doc struct {
		Summary struct {
			ASPA *struct {
				Customers int   `json:"customers"`
				Invalid   int64 `json:"invalid"`
				Unknown   int64 `json:"unknown"`
				Valid     int64 `json:"valid"`
			} `json:"aspa"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || code != 200 {
		t.Fatalf("/api/summary: %d %v", code, err)
	}
	if a := doc.Summary.ASPA; a == nil || a.Customers != int(want) || a.Invalid != 1 || a.Unknown != 1 || a.Valid != 0 {
		t.Errorf("/api/summary aspa: %s", body)
	}
}
