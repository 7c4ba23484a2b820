package collector

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestSetPeers: changing the peers of a running collector ends only the
// sessions it concerns. Kept, a peer's session goes on (it announces and
// is heard); its configured AS changed, it gets a CEASE (RFC 4486) and its
// routes go; removed, it is refused; allowed again through an accepted
// prefix, it is taken.
func TestSetPeers(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	col := startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.1"), AS: 64512}},
		LocalAS:   65000,
		Logger:    quiet,
	}, table.handle)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	holds := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := table.list("127.0.0.1")
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: collector holds %q, want %q; stats %+v", what, got, want, col.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	h := dialHostile(t, addr, "127.0.0.1", 64512, false)
	h.write(t, announce([]uint32{64512, 64513}, "192.0.2.0/24"))
	holds("first route", "192.0.2.0/24#0 AS64513")

	// Another neighbour added: this session is untouched.
	other := Neighbor{Addr: netip.MustParseAddr("192.0.2.99"), AS: 64999}
	if err := col.SetPeers([]Neighbor{{Addr: netip.MustParseAddr("127.0.0.1"), AS: 64512}, other}, nil, 0); err != nil {
		t.Fatal(err)
	}
	h.write(t, announce([]uint32{64512, 64514}, "198.51.100.0/24"))
	holds("after a reload that kept it", "192.0.2.0/24#0 AS64513", "198.51.100.0/24#0 AS64514")
	select {
	case n := <-h.notif:
		t.Fatalf("NOTIFICATION %v to a peer that was kept", n)
	default:
	}

	// Its AS changed: CEASE, routes gone.
	if err := col.SetPeers([]Neighbor{{Addr: netip.MustParseAddr("127.0.0.1"), AS: 64600}, other}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if n := h.waitNotification(t); n[0] != 6 {
		t.Errorf("NOTIFICATION %v, want code 6 (CEASE)", n)
	}
	holds("after its AS changed")

	// Removed: a new connection is refused.
	if err := col.SetPeers([]Neighbor{other}, nil, 0); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if typ, _ := readMsg(c); typ != 0 {
		t.Errorf("a removed peer's connection got a message of type %d, want it closed", typ)
	}
	c.Close()

	// Allowed through an accepted prefix (any AS): taken again.
	if err := col.SetPeers([]Neighbor{other}, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 0); err != nil {
		t.Fatal(err)
	}
	h = dialHostile(t, addr, "127.0.0.1", 64512, false)
	h.write(t, announce([]uint32{64512, 64513}, "192.0.2.0/24"))
	holds("accepted again", "192.0.2.0/24#0 AS64513")
	if err := col.SetPeers(nil, nil, 0); err == nil {
		t.Error("SetPeers with no peer at all: no error")
	}
}
