package rtr

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/rov"
)

func freeAddr(t testing.TB) string { return testutil.FreeLoopback(t) }

// jsonROA is one entry of the rpki-client / stayrtr JSON "roas" array,
// without "expires": stayrtr drops expired VRPs whatever -checktime says.
type jsonROA struct {
	Prefix    string `json:"prefix"`
	MaxLength uint8  `json:"maxLength"`
	ASN       string `json:"asn"`
	TA        string `json:"ta"`
}

// nextChange returns the next Update with a change (stayrtr bumps its
// serial on every file poll, so empty Updates arrive in between).
func nextChange(t *testing.T, c *Client, timeout time.Duration) Update {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case u := <-c.Updates():
			if len(u.Announced)+len(u.Withdrawn) > 0 {
				return u
			}
		case <-deadline:
			t.Fatalf("no change within %v; status %+v", timeout, c.Status())
		}
	}
}

// TestStayrtr runs the client against the real Debian stayrtr: initial
// sync, a file change arriving as a delta, and convergence after the cache
// restarts with a new session ID (stayrtr answers the stale Serial Query
// with Corrupt Data; the client resets).
func TestStayrtr(t *testing.T) {
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	addr := freeAddr(t)
	stayrtr.WriteVRPs(t, file, []rov.VRP{vA, vC})
	stop := stayrtr.Start(t, bin, file, addr)

	c := NewClient(Config{Addr: addr, Name: "cache-a", RetryInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range c.Updates() {
		}
		<-runDone
	})

	u := nextChange(t, c, 5*time.Second)
	checkUpdate(t, u, true, u.Serial, []rov.VRP{vA, vC}, nil)
	if u.Version != 2 || u.Expire != 10*time.Minute {
		t.Errorf("got version %d expire %v, want 2 (stayrtr 0.5.1 speaks 8210bis) and stayrtr's -rtr.expire 600 s", u.Version, u.Expire)
	}

	// stayrtr polls the file every second and notifies: a delta arrives.
	stayrtr.WriteVRPs(t, file, []rov.VRP{vA, vB, vC})
	u = nextChange(t, c, 5*time.Second)
	checkUpdate(t, u, false, u.Serial, []rov.VRP{vB}, nil)

	// Restart the cache with other data: converge.
	stop()
	stayrtr.WriteVRPs(t, file, []rov.VRP{vB, vD})
	stayrtr.Start(t, bin, file, addr)
	u = nextChange(t, c, 8*time.Second)
	checkUpdate(t, u, true, u.Serial, []rov.VRP{vB, vD}, []rov.VRP{vA, vC})
	if got, want := c.VRPs(), []rov.VRP{vB, vD}; !reflect.DeepEqual(got, want) {
		t.Errorf("VRPs after restart: got %v, want %v", got, want)
	}
	st := c.Status()
	if st.Connects < 2 || st.ResetSyncs != 2 {
		t.Errorf("status %+v: want 2 connections and 2 reset syncs", st)
	}
	t.Logf("status after restart: connects=%d protocolErrors=%d lastError=%q", st.Connects, st.ProtocolErrors, st.LastError)
}

// TestStayrtrRestartSameSecond restarts the real Debian stayrtr with other
// data within the UTC second of its start, when stayrtr 0.5.1 reuses its
// Session ID (seeded from the start time in whole seconds) and its serial
// (0): the client must hold the new data, as after any restart. A client
// resuming with a Serial Query got "no change" and kept the old data
// (TestClientRestartSameSessionID scripts the same exchange). Up to three
// restarts are tried to land one within the second; each must converge.
func TestStayrtrRestartSameSecond(t *testing.T) {
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	file := filepath.Join(t.TempDir(), "vrps.json")
	addr := freeAddr(t)
	c := NewClient(Config{Addr: addr, Name: "cache-a", RetryInterval: 20 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	go func() {
		for range c.Updates() {
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	holds := func(what string, want []rov.VRP) Status {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for !reflect.DeepEqual(c.VRPs(), want) || !c.Status().Established {
			if time.Now().After(deadline) {
				t.Fatalf("%s: client holds %v, the cache serves %v; status %+v", what, c.VRPs(), want, c.Status())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return c.Status()
	}
	sets := [][]rov.VRP{{vA, vC}, {vB, vD}}
	same := 0
	for i := range 3 {
		stayrtr.WriteVRPs(t, file, sets[0])
		// Start just after a second boundary, so that the sync and the
		// restart most likely fit in the same second.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
		started := time.Now().UTC().Unix()
		stop := stayrtr.Start(t, bin, file, addr)
		first := holds("first sync", sets[0])
		stop()
		stayrtr.WriteVRPs(t, file, sets[1])
		restarted := time.Now().UTC().Unix()
		stop = stayrtr.Start(t, bin, file, addr)
		second := holds("after the restart", sets[1])
		stop()
		t.Logf("attempt %d: session %d then %d (started in second %d, restarted in %d)", i, first.SessionID, second.SessionID, started, restarted)
		if first.SessionID == second.SessionID && first.Serial == second.Serial {
			same++
			break
		}
	}
	if same == 0 {
		t.Logf("no restart landed within stayrtr's start second (loaded machine?); the client converged after each")
	}
}

// TestStayrtrASPA runs the client against the real Debian stayrtr (0.5.1)
// serving ASPAs: it sends them in the draft-ietf-sidrops-8210bis-11 layout
// (zero header; Flags, AFI Flags, Provider AS Count; one PDU per customer
// and address family), which the client reads beside the -26 layout
// (decodeASPA). The initial sync, a changed provider list, and a removed
// customer arrive; the VRPs stay (before, the first ASPA PDU dropped the
// session, VRPs included).
func TestStayrtrASPA(t *testing.T) {
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	file := filepath.Join(t.TempDir(), "vrps.json")
	addr := freeAddr(t)
	aspas := []rov.ASPA{{CustomerASID: 945, Providers: []uint32{13213, 150369}}, {CustomerASID: 64500, Providers: []uint32{64501}}}
	stayrtr.Write(t, file, []rov.VRP{vA, vC}, aspas)
	stayrtr.Start(t, bin, file, addr)

	c := NewClient(Config{Addr: addr, Name: "cache-a", RetryInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	go func() {
		for range c.Updates() {
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	holds := func(what string, want []ASPA) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !reflect.DeepEqual(c.ASPAs(), want) || !reflect.DeepEqual(c.VRPs(), []rov.VRP{vA, vC}) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: client holds ASPAs %v, VRPs %v; want %v and %v; status %+v", what, c.ASPAs(), c.VRPs(), want, []rov.VRP{vA, vC}, c.Status())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	holds("initial sync", []ASPA{{945, []uint32{13213, 150369}}, {64500, []uint32{64501}}})
	if st := c.Status(); st.Version != 2 || st.ASPAs != 2 || st.ProtocolErrors != 0 {
		t.Errorf("status %+v: want version 2, 2 customers, no protocol error", st)
	}
	stayrtr.Write(t, file, []rov.VRP{vA, vC}, []rov.ASPA{{CustomerASID: 945, Providers: []uint32{13213}}})
	holds("after the file changed", []ASPA{{945, []uint32{13213}}})
	if st := c.Status(); st.ProtocolErrors != 0 || st.Syncs < 2 {
		t.Errorf("status %+v: want deltas applied without protocol errors", st)
	}
}
