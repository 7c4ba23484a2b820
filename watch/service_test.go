package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil/fixture"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"

	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// TestSessionsEdges pins what a session event does to the session list,
// the log and so the rovimpact_bgp_sessions metric.
func TestSessionsEdges(t *testing.T) {
	a := route.Peer{AS: 64500, IP: netip.MustParseAddr("192.0.2.1")}
	b := route.Peer{AS: 64501, IP: netip.MustParseAddr("192.0.2.2")}
	up := func(p route.Peer) collector.SessionEvent {
		return collector.SessionEvent{Peer: p, State: collector.SessionEstablished}
	}
	down := func(p route.Peer, reason string) collector.SessionEvent {
		return collector.SessionEvent{Peer: p, State: collector.SessionIdle, Reason: reason}
	}
	type ev struct {
		source string
		e      collector.SessionEvent
	}
	tests := []struct {
		name     string
		events   []ev
		logs     []string // msg and reason of each line
		up, down int
	}{
		{
			// RFC 4271 §8.2.2: Established is up, routes or not.
			name:   "up without routes",
			events: []ev{{"bgp", up(a)}},
			logs:   []string{"session_up"},
			up:     1,
		},
		{
			name:   "up, down, up",
			events: []ev{{"bgp", up(a)}, {"bgp", down(a, "read-failed")}, {"bgp", up(a)}},
			logs:   []string{"session_up", "session_down read-failed", "session_up"},
			up:     1,
		},
		{
			// A repeated edge is no change: nothing logged twice.
			name:   "repeated edges",
			events: []ev{{"bmp", up(a)}, {"bmp", up(a)}, {"bmp", down(a, "peer de-configured")}, {"bmp", down(a, "router connection closed")}},
			logs:   []string{"session_up", "session_down peer de-configured"},
			down:   1,
		},
		{
			// The same peer over BGP and BMP is two sessions.
			name:   "sources apart",
			events: []ev{{"bgp", up(a)}, {"bmp", up(a)}, {"bmp", up(b)}, {"bgp", down(a, "hold-timer-expired")}},
			logs:   []string{"session_up", "session_up", "session_up", "session_down hold-timer-expired"},
			up:     2, down: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := newSessions(NewLogger(&buf, true))
			for _, e := range tc.events {
				s.handler(e.source)(e.e)
			}
			var logs []string
			dec := json.NewDecoder(&buf)
			for dec.More() {
				var line struct{ Msg, Reason string }
				if err := dec.Decode(&line); err != nil {
					t.Fatal(err)
				}
				logs = append(logs, strings.TrimSpace(line.Msg+" "+line.Reason))
			}
			if !slices.Equal(logs, tc.logs) {
				t.Errorf("logs: got %q, want %q", logs, tc.logs)
			}
			var up, down int
			for _, ss := range s.list() {
				if ss.Up {
					up++
				} else {
					down++
				}
			}
			if up != tc.up || down != tc.down {
				t.Errorf("sessions: got %d up, %d down; want %d up, %d down", up, down, tc.up, tc.down)
			}
		})
	}
}

// TestParseNeighbor pins the --neighbor syntax.
func TestParseNeighbor(t *testing.T) {
	tests := []struct {
		in   string
		addr string
		as   uint32
		ok   bool
	}{
		{"192.0.2.1", "192.0.2.1", 0, true},
		{"192.0.2.1:64501", "192.0.2.1", 64501, true},
		{"192.0.2.1:AS64501", "192.0.2.1", 64501, true},
		{"2001:db8::1", "2001:db8::1", 0, true},
		{"2001:db8::1:6450", "2001:db8::1:6450", 0, true}, // itself an address: no AS
		{"2001:db8::1:64501", "", 0, false},               // neither an address nor bracketed
		{"[2001:db8::1]:64501", "2001:db8::1", 64501, true},
		{"::ffff:192.0.2.1", "192.0.2.1", 0, true}, // mapped: the collector unmaps peers too
		{"192.0.2.1:0", "", 0, false},              // AS 0 is reserved (RFC 7607)
		{"192.0.2.1:4294967296", "", 0, false},
		{"router1:64501", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		n, err := ParseNeighbor(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (n.Addr.String() != tt.addr || n.AS != tt.as) {
			t.Errorf("%q: got %v AS%d, want %s AS%d", tt.in, n.Addr, n.AS, tt.addr, tt.as)
		}
	}
}

// TestLogChanges: each invalid route change is one log line with its
// class and impact (old ones for disappeared and changed routes); past
// --max-change-logs the rest are counted in one line, not dropped.
func TestLogChanges(t *testing.T) {
	var buf testutil.SyncBuffer
	st := newLiveForTest(watchfix.VRPs0)
	w := &Service{opts: Options{MaxChangeLogs: 100}, log: NewLogger(&buf, true), state: st}
	peer := route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	announce(t, st, peer, watchfix.WrongOrigin, watchfix.TooSpecific, watchfix.Cover)
	w.logChanges()
	announce(t, st, peer, watchfix.Both)
	withdraw(t, st, peer, watchfix.Cover) // watchfix.TooSpecific loses its cover: covered -> unreachable
	withdraw(t, st, peer, watchfix.WrongOrigin)
	w.logChanges()
	want := []string{
		`"msg":"invalid_appeared","prefix":"10.1.5.0/24","origin":"AS64501","paths":1,"peers":1,"class":"too_specific","impact":"covered"`,
		`"msg":"invalid_appeared","prefix":"10.2.0.0/24","origin":"AS64999","paths":1,"peers":1,"class":"wrong_origin","impact":"unreachable"`,
		`"msg":"invalid_changed","prefix":"10.1.5.0/24","origin":"AS64501","paths":1,"peers":1,"class":"too_specific","impact":"unreachable","old_class":"too_specific","old_impact":"covered"`,
		`"msg":"invalid_disappeared","prefix":"10.2.0.0/24","origin":"AS64999","paths":1,"peers":1,"old_class":"wrong_origin","old_impact":"unreachable"`,
		`"msg":"invalid_appeared","prefix":"10.3.7.0/24","origin":"AS64666","paths":1,"peers":1,"class":"both","impact":"unreachable"`,
	}
	got := buf.String()
	for _, line := range want {
		if !strings.Contains(got, line) {
			t.Errorf("log lacks %s\nlog:\n%s", line, got)
		}
	}
	if n := strings.Count(got, "\n"); n != len(want) {
		t.Errorf("%d log lines, want %d:\n%s", n, len(want), got)
	}

	// Over the cap: 2 lines, then a count of the other 3.
	buf = testutil.SyncBuffer{}
	w.opts.MaxChangeLogs = 2
	announce(t, st, peer, watchfix.WrongOrigin, watchfix.AS0, watchfix.ASSet)
	withdraw(t, st, peer, watchfix.Both)
	w.logChanges()
	got = buf.String()
	if strings.Count(got, `"msg":"invalid_`) != 3 || !strings.Contains(got, `"msg":"invalid_changes_suppressed","count":2,"max_change_logs":2`) {
		t.Errorf("capped log:\n%s", got)
	}
	// Nothing changed: nothing logged.
	buf = testutil.SyncBuffer{}
	w.logChanges()
	if buf.String() != "" {
		t.Errorf("log without a change:\n%s", buf.String())
	}
}

func newLiveForTest(vrps []rov.VRP) *live.State {
	st := live.New(live.Options{})
	st.SetVRPs(vrps)
	return st
}

func routeEvent(t testing.TB, kind route.Kind, peer route.PeerKey, r annRoute) *route.Route {
	ev := &route.Route{Kind: kind, Peer: route.Peer{AS: peer.AS, IP: peer.IP}, Prefix: netip.MustParsePrefix(r.Prefix), PathID: uint32(r.ID), RPKIState: route.RPKIAbsent}
	if kind == route.Announce {
		ev.Path = fixture.ParsePath(t, r.Path)
		ev.Origin = rov.OriginOf(ev.Path)
	}
	return ev
}

func announce(t testing.TB, st *live.State, peer route.PeerKey, routes ...annRoute) {
	for _, r := range routes {
		st.Apply(routeEvent(t, route.Announce, peer, r))
	}
}

func withdraw(t testing.TB, st *live.State, peer route.PeerKey, routes ...annRoute) {
	for _, r := range routes {
		st.Apply(routeEvent(t, route.Withdraw, peer, r))
	}
}

// TestVRPFeedCoalesces: updates queued while the table is busy reach it as
// one change (one index rebuild) with the effect of applying them in turn,
// and SLURM assertions survive a source withdrawing the same VRP.
func TestVRPFeedCoalesces(t *testing.T) {
	dir := t.TempDir()
	slurmFile := filepath.Join(dir, "local.slurm")
	asserted := vrpOf("172.16.0.0/24", 24, 64510)
	fixture.WriteSLURM(t, slurmFile, []rov.VRP{vrpOf("10.6.0.0/16", 16, 0)}, []rov.VRP{asserted})
	st := newLiveForTest(nil)
	var logs testutil.SyncBuffer
	f, err := newVRPFeed(st, Options{SLURM: []string{slurmFile}}, NewLogger(&logs, true), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	before := st.Stats().IndexBuilds
	updates := []struct {
		reset     bool
		src       string
		ann, wdr  []rov.VRP
		wantUnion int
	}{
		{true, "a", watchfix.VRPs0, nil, len(watchfix.VRPs0) - 1}, // the AS0 VRP is filtered (RFC 8416 §3.3)
		{false, "a", []rov.VRP{asserted}, nil, len(watchfix.VRPs0)},
		{false, "a", nil, []rov.VRP{watchfix.VRPs0[0], asserted}, len(watchfix.VRPs0) - 2},
		{true, "b", []rov.VRP{watchfix.VRPs0[0]}, nil, len(watchfix.VRPs0) - 1},
	}
	for i, u := range updates {
		if _, _, err := f.apply(rtr.Update{Source: u.src, Reset: u.reset, Announced: u.ann, Withdrawn: u.wdr}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if got := f.set.Len(); got != u.wantUnion {
			t.Errorf("update %d: union %d, want %d", i, got, u.wantUnion)
		}
	}
	f.flush()
	stats := st.Stats()
	if builds := stats.IndexBuilds - before; builds != 1 {
		t.Errorf("%d index builds for 4 queued updates, want 1", builds)
	}
	// The union (watchfix.VRPs0 less the filtered AS0 VRP) plus the assertion,
	// which no withdrawal by a source removes.
	if stats.VRPs != len(watchfix.VRPs0) {
		t.Errorf("table holds %d VRPs, want %d", stats.VRPs, len(watchfix.VRPs0))
	}
	peer := route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	announce(t, st, peer, annRoute{Prefix: "172.16.0.0/24", Path: "64496 64510"}, watchfix.AS0)
	a := st.Snapshot().Analysis
	for id, r := range a.Table.Routes() {
		if got := a.Outcomes[id].State; got != rov.Valid && r.Prefix.String() == "172.16.0.0/24" {
			t.Errorf("asserted route %s: %v, want valid", r.Prefix, got)
		}
		if got := a.Outcomes[id].State; got != rov.NotFound && r.Prefix.String() == "10.6.0.0/16" {
			t.Errorf("route under the filtered AS0 VRP %s: %v, want not_found", r.Prefix, got)
		}
	}
}

// BenchmarkWriteDump writes the --dump file of a full table (the PCH
// full-table session, one peer, ~580k paths) while a probe takes the
// table's lock every 200 µs, as a collector's Apply would: max-stall-ms is
// the longest the probe waited, i.e. how long ingestion stalls behind a
// dump (it includes the probe's own scheduling delay on a busy machine).
func BenchmarkWriteDump(b *testing.B) {
	path := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	f, err := compressed.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	src, err := routefile.NewSource(f, path)
	if err != nil {
		b.Fatal(err)
	}
	st := live.New(live.Options{})
	for src.Next() {
		if r := src.Route(); r.Kind != route.PeerDown { // a session reset would empty the table
			st.Apply(r)
		}
	}
	if err := src.Err(); err != nil {
		b.Fatal(err)
	}
	st.Snapshot() // as watch does every --interval (this also sorts the new prefixes)
	dir := b.TempDir()
	w := &Service{opts: Options{Dump: dir, Now: time.Now, DumpKeep: 1}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), state: st}
	done := make(chan struct{})
	var probe sync.WaitGroup
	var worst time.Duration
	probe.Add(1)
	go func() {
		defer probe.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			t := time.Now()
			st.Stats()
			worst = max(worst, time.Since(t))
			time.Sleep(200 * time.Microsecond)
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.writeDump(); err != nil {
			b.Fatal(err)
		}
	}
	close(done)
	probe.Wait()
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-stall-ms")
	b.ReportMetric(float64(st.Stats().Paths), "paths")
	if dumps, _ := filepath.Glob(filepath.Join(dir, dumpGlob)); len(dumps) == 1 {
		if fi, err := os.Stat(dumps[0]); err == nil {
			b.ReportMetric(float64(fi.Size())/1e6, "gzip-MB")
		}
		if f, err := compressed.Open(dumps[0]); err == nil {
			n, _ := io.Copy(io.Discard, f)
			f.Close()
			b.ReportMetric(float64(n)/1e6, "mrt-MB")
		}
	}
}

// TestDumpWhileApplying: a dump holds the table's lock only to copy the
// paths, so the collectors keep applying while it is written, and the
// dump is the table as it was when it started. The churn applied meanwhile
// (new and withdrawn paths, a new peer, and over 64k fresh AS paths, which
// makes the table re-intern its AS paths and next hops) must neither reach
// the dump nor race with it (run with -race).
func TestDumpWhileApplying(t *testing.T) {
	st := live.New(live.Options{})
	a := route.Peer{AS: 64500, IP: netip.MustParseAddr("192.0.2.1")}
	b := route.Peer{Index: 1, AS: 64501, IP: netip.MustParseAddr("192.0.2.2")}
	pathOf := func(asns ...uint32) []rov.Segment { return []rov.Segment{{Type: rov.ASSequence, ASNs: asns}} }
	announce := func(p route.Peer, prefix netip.Prefix, path []rov.Segment) {
		st.Apply(&route.Route{Kind: route.Announce, Peer: p, Prefix: prefix, Path: path, Origin: rov.OriginOf(path),
			NextHop: p.IP, RPKIState: route.RPKIAbsent})
	}
	const held = 2000
	prefixOf := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
	}
	for i := range held {
		announce(a, prefixOf(i), pathOf(64500, uint32(65000+i)))
	}
	churn := func() {
		for i := range held / 2 {
			st.Apply(&route.Route{Kind: route.Withdraw, Peer: a, Prefix: prefixOf(2 * i)})
		}
		announce(b, prefixOf(1), pathOf(64501, 1))
		for i := range 70000 { // one path, replaced: every AS path but the last is unused
			announce(a, netip.MustParsePrefix("172.16.0.0/24"), pathOf(64500, 1, uint32(i)))
		}
	}

	_, all := st.Paths()
	var got []string
	started := false
	for r := range all {
		if !started {
			started = true
			done := make(chan struct{})
			go func() { churn(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Apply was blocked while the dump iterated")
			}
		}
		got = append(got, fmt.Sprintf("%s %s %v %s", r.Prefix, r.Peer.IP, r.Path, r.NextHop))
	}
	if len(got) != held {
		t.Fatalf("the dump yielded %d paths, want the %d held when it started", len(got), held)
	}
	for i, g := range got {
		if want := fmt.Sprintf("%s 192.0.2.1 %v 192.0.2.1", prefixOf(i), pathOf(64500, uint32(65000+i))); g != want {
			t.Fatalf("path %d: got %q, want %q", i, g, want)
		}
	}
	// The next dump sees the churn.
	_, all = st.Paths()
	n := 0
	for range all {
		n++
	}
	if want := held/2 + 2; n != want {
		t.Errorf("after the churn the dump yields %d paths, want %d", n, want)
	}
}
