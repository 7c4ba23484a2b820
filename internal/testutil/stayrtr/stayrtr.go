// Package stayrtr runs the Debian stayrtr RPKI-RTR cache for tests (apart
// from testutil because it needs rov, whose own tests use testutil).
package stayrtr

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// WriteVRPs writes vrps as stayrtr JSON, atomically (rename), so
// that stayrtr never reads half a file. It writes no "expires": stayrtr
// silently drops VRPs whose expires has passed.
func WriteVRPs(tb testing.TB, path string, vrps []rov.VRP) {
	tb.Helper()
	Write(tb, path, vrps, nil)
}

// Write writes vrps and aspas as stayrtr JSON, as WriteVRPs does. stayrtr
// 0.5.1 reads ASPAs only from rpki-client's earlier layout, per address
// family, "provider_authorizations": {"ipv4": [...], "ipv6": [...]}, not
// from today's "aspas" array; each ASPA is written under both families, as
// rpki-client wrote an address-family-agnostic ASPA there. Without
// "expires": stayrtr drops expired entries.
func Write(tb testing.TB, path string, vrps []rov.VRP, aspas []rov.ASPA) {
	tb.Helper()
	type roa struct {
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		ASN       string `json:"asn"`
		TA        string `json:"ta"`
	}
	type aspa struct {
		Customer  uint32   `json:"customer_asid"`
		Providers []uint32 `json:"providers"`
	}
	type pas struct {
		IPv4 []aspa `json:"ipv4"`
		IPv6 []aspa `json:"ipv6"`
	}
	var doc struct {
		ROAs  []roa `json:"roas"`
		ASPAs *pas  `json:"provider_authorizations,omitempty"`
	}
	if len(aspas) > 0 {
		doc.ASPAs = &pas{}
		for _, a := range aspas {
			doc.ASPAs.IPv4 = append(doc.ASPAs.IPv4, aspa{a.CustomerASID, a.Providers})
			doc.ASPAs.IPv6 = append(doc.ASPAs.IPv6, aspa{a.CustomerASID, a.Providers})
		}
	}
	for _, v := range vrps {
		doc.ROAs = append(doc.ROAs, roa{Prefix: v.Prefix.String(), MaxLength: v.MaxLen, ASN: fmt.Sprintf("AS%d", v.ASN), TA: "test"})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// Start runs the Debian stayrtr at bin on addr serving file,
// re-reading it every second (and with 1-second RTR refresh and retry
// timers, so that tests see changes quickly). It is killed when the test
// ends, or earlier by stop, which may be called more than once. Its output
// is shown with go test -v only.
func Start(tb testing.TB, bin, file, addr string) (stop func()) {
	tb.Helper()
	cmd := exec.Command(bin, "-cache", file, "-bind", addr, "-metrics.addr", "127.0.0.1:0",
		"-checktime=false", "-refresh", "1", "-rtr.refresh", "1", "-rtr.retry", "1", "-rtr.expire", "600",
		"-log.verbose=false", "-loglevel", "warn")
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting stayrtr: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cmd.Process.Kill(); <-done }) }
	tb.Cleanup(stop)
	return stop
}
