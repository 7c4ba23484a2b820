package watch

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// fakeASPACache answers one Reset Query on ln with pdus between a Cache
// Response and an End of Data (RTR version 2), then holds the connection.
func fakeASPACache(t *testing.T, ln net.Listener, pdus []rtr.PDU) {
	t.Helper()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var q rtr.PDU
		if err := rtr.NewReader(conn).Next(&q); err != nil || q.Type != rtr.TypeResetQuery {
			t.Errorf("fake cache: got %v %v, want a Reset Query", q.Type, err)
			return
		}
		b := rtr.AppendPDU(nil, &rtr.PDU{Version: 2, Type: rtr.TypeCacheResponse, Session: 7})
		for i := range pdus {
			b = rtr.AppendPDU(b, &pdus[i])
		}
		b = rtr.AppendPDU(b, &rtr.PDU{Version: 2, Type: rtr.TypeEndOfData, Session: 7, Serial: 1, Refresh: 3600, Retry: 600, Expire: 7200})
		if _, err := conn.Write(b); err != nil {
			t.Errorf("fake cache: %v", err)
			return
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		var buf [64]byte
		conn.Read(buf[:]) // until the client closes
	}()
}

func aspaPDU(customer uint32, providers ...uint32) rtr.PDU {
	return rtr.PDU{Version: 2, Type: rtr.TypeASPA, Session: rtr.FlagAnnounce << 8, ASN: customer, Providers: providers}
}

// gaugeValue gathers reg and returns the value of name with the given
// label value ("" for none).
func gaugeValue(t *testing.T, reg *prometheus.Registry, name, label string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label) {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestASPACollector: ASPAs two RTR v2 caches send are unioned per customer
// into rovimpact_aspa_customers, and each cache's count is exported.
func TestASPACollector(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &vrpFeed{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(aspaCollector{f})
	if v, ok := gaugeValue(t, reg, "rovimpact_aspa_customers", ""); !ok || v != 0 {
		t.Fatalf("no cache: rovimpact_aspa_customers = %v (present %v), want 0", v, ok)
	}
	caches := [][]rtr.PDU{
		{aspaPDU(64496, 64497), aspaPDU(64500, 64498, 64499)},
		{aspaPDU(64496, 64510), aspaPDU(64501, 64502)},
	}
	var clients []*rtr.Client
	for i, pdus := range caches {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		fakeASPACache(t, ln, pdus)
		c := rtr.NewClient(rtr.Config{Addr: ln.Addr().String(), Name: []string{"a", "b"}[i]})
		f.addClient(c)
		clients = append(clients, c)
		done := make(chan struct{})
		go func() { defer close(done); c.Run(ctx) }()
		go func() {
			for range c.Updates() {
			}
		}()
		defer func() { cancel(); <-done }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(clients[0].ASPAs()) < 2 || len(clients[1].ASPAs()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("caches not synced: %+v %+v", clients[0].Status(), clients[1].Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Customers 64496 (both caches), 64500, 64501.
	if v, _ := gaugeValue(t, reg, "rovimpact_aspa_customers", ""); v != 3 {
		t.Errorf("rovimpact_aspa_customers = %v, want 3", v)
	}
	for _, src := range []string{"a", "b"} {
		if v, ok := gaugeValue(t, reg, "rovimpact_aspa_source_customers", src); !ok || v != 2 {
			t.Errorf("rovimpact_aspa_source_customers{source=%q} = %v (present %v), want 2", src, v, ok)
		}
	}
	set, _ := f.aspaSet()
	if ps, _ := set.Providers(64496); len(ps) != 2 || ps[0] != 64497 || ps[1] != 64510 {
		t.Errorf("AS64496's providers in the union = %v, want [64497 64510]", ps)
	}
}

// TestASPAEventsFromFile: a --vrps file's "aspas" reach the live table;
// when the file's ASPA for AS64500 stops listing the peer, the one path
// through AS64500 is re-verified (not the other), becomes invalid, and is
// told as aspa_invalid_appeared with cause aspas_changed, beside the
// aspas_changed summary; a file without ASPAs stops verification.
func TestASPAEventsFromFile(t *testing.T) {
	st := newLiveForTest(nil)
	peer := route.PeerKey{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")}
	announce(t, st, peer, annRoute{Prefix: "10.0.1.0/24", Path: "64501 64500"}, annRoute{Prefix: "10.0.2.0/24", Path: "64501 64510"})
	file := filepath.Join(t.TempDir(), "vrps.json")
	vrps := []rov.VRP{vrpOf("10.0.0.0/16", 24, 64500)}
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	f, err := newVRPFeed(st, Options{VRPFiles: []string{file}, MaxChangeLogs: 10}, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	writeExport(t, file, vrps, []rov.ASPA{{CustomerASID: 64500, Providers: []uint32{64501}}})
	if err := f.loadFile(file, "start"); err != nil {
		t.Fatal(err)
	}
	if a := st.ASPAStats(); !a.On || a.Paths[rov.ASPAValid] != 1 || a.Paths[rov.ASPAUnknown] != 1 || a.Reverified != 2 {
		t.Fatalf("after the first load: %+v, want 1 valid, 1 unknown, 2 verified", a)
	}
	f.drainEvents()

	writeExport(t, file, vrps, []rov.ASPA{{CustomerASID: 64500, Providers: []uint32{64999}}})
	if err := f.loadFile(file, "changed"); err != nil {
		t.Fatal(err)
	}
	a := st.ASPAStats()
	if a.Paths[rov.ASPAInvalid] != 1 || a.Reverified != 3 {
		t.Fatalf("after the change: %+v, want 1 invalid and 1 more path verified", a)
	}
	events, _ := f.drainEvents()
	var names []string
	for _, e := range events {
		names = append(names, e.Name+"/"+e.Cause)
		if e.Name == "aspa_invalid_appeared" && (e.Prefix != netip.MustParsePrefix("10.0.1.0/24") || e.Peer != "AS64501 192.0.2.1" || e.Origin.ASN != 64500) {
			t.Errorf("event %+v", e)
		}
		if e.Name == "aspas_changed" && (e.Counts["paths_reverified"] != 1 || e.Counts["became_invalid"] != 1 || e.Counts["customers_changed"] != 1) {
			t.Errorf("summary event counts %v", e.Counts)
		}
	}
	if want := []string{"aspas_changed/aspas_changed", "aspa_invalid_appeared/aspas_changed"}; !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}

	writeExport(t, file, vrps, nil)
	if err := f.loadFile(file, "changed"); err != nil {
		t.Fatal(err)
	}
	if a := st.ASPAStats(); a.On || a.Paths != [4]int64{} {
		t.Errorf("no ASPA left: %+v, want verification stopped", a)
	}
	if snap := st.Snapshot(); snap.ASPA != nil {
		t.Errorf("snapshot still has ASPA verdicts")
	}
}
