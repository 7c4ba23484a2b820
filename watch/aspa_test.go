package watch

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
