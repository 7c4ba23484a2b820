package collector

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// rawSpeaker is a minimal BGP speaker for tests: it opens a session to the
// collector and writes UPDATEs we build byte for byte, including ones no
// real implementation would send.
type rawSpeaker struct {
	c       net.Conn
	addPath bool
}

func dialSpeaker(t testing.TB, collector, local string, as uint32, addPath bool) *rawSpeaker {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	var c net.Conn
	var err error
	for i := 0; i < 50; i++ { // gobgp's listener may need a moment
		if c, err = d.Dial("tcp", collector); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(as),
	}
	if addPath {
		caps = append(caps, bgp.NewCapAddPath([]*bgp.CapAddPathTuple{bgp.NewCapAddPathTuple(bgp.RF_IPv4_UC, bgp.BGP_ADD_PATH_SEND)}))
	}
	s := &rawSpeaker{c: c, addPath: addPath}
	s.write(t, must(bgp.NewBGPOpenMessage(uint16(min(as, 23456)), 90, local, []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)}).Serialize()))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if typ := s.read(t); typ != bgp.BGP_MSG_OPEN {
		t.Fatalf("collector answered type %d, want OPEN", typ)
	}
	s.write(t, must(bgp.NewBGPKeepAliveMessage().Serialize()))
	if typ := s.read(t); typ != bgp.BGP_MSG_KEEPALIVE {
		t.Fatalf("collector answered type %d, want KEEPALIVE", typ)
	}
	c.SetReadDeadline(time.Time{})
	go io.Copy(io.Discard, c) // keepalives; the collector never sends UPDATEs
	return s
}

func (s *rawSpeaker) write(t testing.TB, b []byte) {
	t.Helper()
	if _, err := s.c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (s *rawSpeaker) read(t testing.TB) uint8 {
	t.Helper()
	var h [bgp.BGP_HEADER_LENGTH]byte
	if _, err := io.ReadFull(s.c, h[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(binary.BigEndian.Uint16(h[16:18]))-bgp.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(s.c, body); err != nil {
		t.Fatal(err)
	}
	return h[18]
}

// update serializes an UPDATE announcing nlri with the given attributes.
func (s *rawSpeaker) update(attrs []bgp.PathAttributeInterface, nlri []*bgp.IPAddrPrefix) []byte {
	var opts []*bgp.MarshallingOption
	if s.addPath {
		opts = append(opts, &bgp.MarshallingOption{AddPath: map[bgp.RouteFamily]bgp.BGPAddPathMode{bgp.RF_IPv4_UC: bgp.BGP_ADD_PATH_SEND}})
	}
	return must(bgp.NewBGPUpdateMessage(nil, attrs, nlri).Serialize(opts...))
}
