package main

import (
	"encoding/json"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/serve"
)

// convergeBound is how long watch may take to hold a cache's set once the
// cache is healthy: a reconnect (--rtr-retry 200 ms, doubling, the
// attempts while the cache was away included) plus one Reset Query.
const convergeBound = 30 * time.Second

// TestWatchHealthRTR runs watch against a cache that accepts and never
// answers, then the real Debian stayrtr serving 20,000 real VRPs (the
// shared rpki-client file, "expires" stripped), then stayrtr restarted with
// another 20,000 of the same size (a new session ID, or, when the restart
// falls within the second stayrtr started in, the same session ID and
// serial: see rtr.TestStayrtrRestartSameSecond). /healthz says 503 until the
// union holds the cache's set, which must happen within convergeBound of
// the cache becoming healthy, and the silent cache is declared down
// (rovimpact_rtr_up 0, a timeout counted and logged).
func TestWatchHealthRTR(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads the shared VRP file and runs stayrtr (about 10 s)")
	}
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	all := firstSharedVRPs(t, "vrp/vrps.rpki-client.20250720T093133Z.json.bz2", 40_000)
	setA, setB := all[:20_000], all[20_000:40_000]
	file := filepath.Join(t.TempDir(), "vrps.json")
	rtrAddr := freeLoopback(t)

	// 1. A cache that accepts and never answers.
	ln, err := net.Listen("tcp", rtrAddr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var silent []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			silent = append(silent, c)
			mu.Unlock()
		}
	}()
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--rtr", rtrAddr, "--rtr-retry", "200ms", "--rtr-timeout", "1s",
		"--http", freeLoopback(t), "--log-format", "json", "--interval", "100ms")
	router, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.Write(bmpPeerUp("192.0.2.5", 64496))
	run.logged(t, `"msg":"session_up"`, 1)

	health := func() (int, serve.Health) {
		code, body := run.get(t, "/healthz")
		var h serve.Health
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("/healthz %d %s: %v", code, body, err)
		}
		return code, h
	}
	src := `{source="` + rtrAddr + `"}`
	testutil.Eventually(t, 10*time.Second, "the silent cache declared down", func() (bool, string) {
		v, _ := run.metric(t, "rovimpact_rtr_timeouts_total"+src)
		return v >= 1, tail(run.logs.String(), 10)
	})
	run.logged(t, `"reason":"cache declared down: it did not answer in time"`, 1)
	if v, _ := run.metric(t, "rovimpact_rtr_up"+src); v != 0 {
		t.Errorf("rovimpact_rtr_up = %v for a cache that never answered, want 0", v)
	}
	code, h := health()
	if code != 503 || !strings.Contains(strings.Join(h.Reasons, "\n"), "no VRP source has delivered data") {
		t.Errorf("/healthz with a silent cache: %d %+v, want 503 and why", code, h)
	}

	// converge polls until the union is want, checking that /healthz says
	// 503 until then, and returns how long it took.
	converge := func(what string, want []rov.VRP, healthyBefore bool) time.Duration {
		t.Helper()
		start := time.Now()
		// A VRP without its trust anchor: what RTR and the Set compare.
		keyOfVRP := func(v rov.VRP) rov.VRP { v.TA = ""; return v }
		wantSet := map[rov.VRP]bool{}
		for _, v := range want {
			wantSet[keyOfVRP(v)] = true
		}
		for {
			code, h := health()
			union := run.w.VRPUnion()
			same := len(union) == len(wantSet)
			for _, v := range union {
				if !same {
					break
				}
				same = wantSet[keyOfVRP(v)]
			}
			if same {
				if code != 200 {
					t.Errorf("%s: converged but /healthz %d %v", what, code, h.Reasons)
				}
				return time.Since(start)
			}
			if code == 200 && !healthyBefore {
				t.Errorf("%s: /healthz 200 before the union holds the cache's set (%d of %d VRPs)", what, len(union), len(wantSet))
			}
			if time.Since(start) > convergeBound {
				t.Fatalf("%s: union %d VRPs, want the cache's %d, not within %v\n%s", what, len(union), len(wantSet), convergeBound, tail(run.logs.String(), 20))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// 2. stayrtr takes the silent cache's place.
	ln.Close()
	mu.Lock()
	for _, c := range silent {
		c.Close()
	}
	mu.Unlock()
	stayrtr.WriteVRPs(t, file, setA)
	stop := stayrtr.Start(t, bin, file, rtrAddr)
	t.Logf("first sync: converged %v after stayrtr started", converge("first sync", setA, false))
	// watch samples the caches' state every --interval: wait until it has
	// seen this one up, or a restart within one interval of the sync
	// leaves a single cache_up in the log for the two syncs.
	run.logged(t, `"msg":"cache_up"`, 1)
	if v, _ := run.metric(t, "rovimpact_rtr_up"+src); v != 1 {
		t.Errorf("rovimpact_rtr_up = %v after the sync, want 1", v)
	}
	if v, _ := run.metric(t, "rovimpact_vrp_union"); v != float64(len(run.w.VRPUnion())) {
		t.Errorf("rovimpact_vrp_union = %v", v)
	}
	if v, ok := run.metric(t, "rovimpact_vrp_source_last_sync_timestamp_seconds"+src); !ok || time.Since(time.Unix(int64(v), 0)) > time.Minute {
		t.Errorf("last sync timestamp %v (present %v)", v, ok)
	}

	// 3. stayrtr restarts with other data of the same size, possibly with
	// the same session ID and serial. The old data stays in use meanwhile
	// (it has not expired: RFC 8210 §6), so /healthz may stay 200.
	stop()
	stayrtr.WriteVRPs(t, file, setB)
	stayrtr.Start(t, bin, file, rtrAddr)
	t.Logf("restart: converged %v after stayrtr restarted", converge("restart", setB, true))
	run.logged(t, `"msg":"cache_up"`, 2)
}

// firstSharedVRPs reads the first n VRPs of a shared rpki-client JSON file
// (its "roas" array, in file order), without their "expires" (stayrtr
// drops VRPs whose "expires" has passed whatever -checktime says), and
// stops there: the whole file is 723k VRPs.
func firstSharedVRPs(t *testing.T, name string, n int) []rov.VRP {
	t.Helper()
	f, err := compressed.Open(testutil.SharedData(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object: %v %v", name, tok, err)
	}
	for {
		key, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: no roas array: %v", name, err)
		}
		if key == "roas" {
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("%s: roas is not an array: %v %v", name, tok, err)
	}
	out := make([]rov.VRP, 0, n)
	for len(out) < n && dec.More() {
		var roa struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength uint8  `json:"maxLength"`
		}
		if err := dec.Decode(&roa); err != nil {
			t.Fatalf("%s: roa %d: %v", name, len(out), err)
		}
		p, err := netip.ParsePrefix(roa.Prefix)
		if err != nil {
			t.Fatalf("%s: roa %d: %v", name, len(out), err)
		}
		out = append(out, rov.VRP{Prefix: p, MaxLen: roa.MaxLength, ASN: roa.ASN})
	}
	if len(out) < n {
		t.Fatalf("%s: only %d VRPs", name, len(out))
	}
	return out
}
