package collector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// BGP message framing (RFC 4271 §4.1).
const (
	bgpHeaderLen = 19
	bgpMaxLen    = 4096
	bgpMsgOpen   = 1
	bgpMsgUpdate = 2
	bgpMsgNotif  = 3
	bgpMsgRR     = 5
)

// keepaliveMsg is a KEEPALIVE (RFC 4271 §4.4): the header alone.
var keepaliveMsg = [bgpHeaderLen]byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0, bgpHeaderLen, 4,
}

// holdNudge is how often, while UPDATEs are applied here instead of
// going through corebgp, corebgp is handed a KEEPALIVE in an UPDATE's
// place so that its hold timer sees the peer alive (see intercept).
const holdNudge = time.Second

// bgpConn sits between a peer's TCP connection and corebgp's FSM. It
// frames what the peer sends to learn why a session ends (a NOTIFICATION
// received, a read error) and to take out ROUTE-REFRESH messages, which
// corebgp v0.8.5 does not know (it would answer "Bad Message Type" and
// drop a session we advertised route refresh on). It also sees the
// NOTIFICATIONs corebgp sends. Framing errors (bad marker, bad length) it
// passes through untouched and stops framing: corebgp answers them with the
// NOTIFICATION RFC 4271 §6.1 asks for.
type bgpConn struct {
	net.Conn
	r       *bufio.Reader // one read syscall for many messages
	p       *bgpPeer
	buf     [bgpMaxLen]byte
	pending []byte
	raw     bool
	once    sync.Once
	// fwd counts the UPDATEs handed to corebgp, handled those its
	// handler has seen (both guarded by the emitter's lock; see
	// intercept); lastFwd is when corebgp was last handed a message.
	fwd, handled uint64
	lastFwd      time.Time
}

func (c *bgpConn) Read(b []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.raw {
			n, err := c.r.Read(b)
			if err != nil {
				c.readFailed(err)
			}
			return n, err
		}
		if err := c.fill(); err != nil {
			c.readFailed(err)
			return 0, err
		}
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *bgpConn) readFailed(err error) {
	if c.p == nil {
		return
	}
	if errors.Is(err, io.EOF) {
		c.p.setReason("connection closed by peer", false)
	} else if !errors.Is(err, net.ErrClosed) {
		c.p.setReason("read-failed: "+err.Error(), false)
	}
}

// fill reads the next message into pending, dropping ROUTE-REFRESH.
func (c *bgpConn) fill() error {
	for {
		h := c.buf[:bgpHeaderLen]
		if _, err := io.ReadFull(c.r, h); err != nil {
			return err
		}
		l := int(binary.BigEndian.Uint16(h[16:18]))
		if !marker(h) || l < bgpHeaderLen || l > bgpMaxLen {
			c.raw = true
			c.pending = h
			return nil
		}
		if _, err := io.ReadFull(c.r, c.buf[bgpHeaderLen:l]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		switch h[18] {
		case bgpMsgUpdate:
			// One clock read an UPDATE: the paths' time and the nudge's
			// (with ~1 path per UPDATE from bird2, two reads were ~5% of
			// the CPU per path on a kvm-clock VM).
			now := timeNow()
			if c.intercept(c.buf[bgpHeaderLen:l], now) {
				if now.Sub(c.lastFwd) < holdNudge {
					continue
				}
				c.lastFwd = now
				c.pending = keepaliveMsg[:]
				return nil
			}
		case bgpMsgRR:
			// RFC 2918 §4: on a ROUTE-REFRESH the speaker re-advertises its
			// Adj-RIB-Out for the family; ours is empty, so nothing is
			// sent. Counted.
			if c.p != nil {
				c.p.b.em.skip("route_refresh", 1)
			}
			continue
		case bgpMsgNotif:
			if c.p != nil && l >= bgpHeaderLen+2 {
				c.p.setReason("notification-received "+notifName(c.buf[19], c.buf[20]), true)
			}
		}
		c.pending = c.buf[:l]
		c.lastFwd = time.Now()
		return nil
	}
}

// intercept applies an UPDATE of an established session here, on the
// connection's reading goroutine, instead of handing it to corebgp,
// which would copy it twice and pass it to its FSM goroutine through a
// channel: with bird2 sending ~1.1 paths per UPDATE, that hand-over was
// the largest cost per path. It reports whether it did; when it did not,
// the UPDATE goes to corebgp as before. It applies an UPDATE only when
// doing so cannot reorder or change anything:
//
//   - the session is established and runs on this connection (the only
//     one open when it came up: corebgp hands a session's UPDATEs to
//     the plugin only then, in order, from its one connection);
//   - every UPDATE this connection handed to corebgp has been applied
//     (so none is overtaken);
//   - an UPDATE that calls for a NOTIFICATION (RFC 7606 session reset,
//     --max-prefixes) is applied here and still handed to corebgp, whose
//     handler returns that NOTIFICATION (pendingNotif): corebgp sends it
//     and ends the session as for any UPDATE.
//
// corebgp's hold timer restarts on every message it is handed (RFC 4271
// §8.2.2: KEEPALIVE or UPDATE, Events 26 and 27, alike), so while UPDATEs
// are applied here it is handed a KEEPALIVE in an UPDATE's place at least
// every holdNudge; the peer's own KEEPALIVEs go through as before.
func (c *bgpConn) intercept(body []byte, now time.Time) bool {
	p := c.p
	if p == nil {
		return false
	}
	em := p.b.em
	em.mu.Lock()
	defer em.mu.Unlock()
	if !p.established || p.sessConn != c || c.fwd != c.handled {
		c.fwd++
		return false
	}
	if n := p.updateLocked(body, now); n != nil {
		p.pendingNotif = n
		c.fwd++
		return false
	}
	return true
}

func marker(h []byte) bool {
	for _, x := range h[:16] {
		if x != 0xff {
			return false
		}
	}
	return true
}

// Write sees corebgp's messages whole (it writes one per call).
func (c *bgpConn) Write(b []byte) (int, error) {
	if c.p != nil && len(b) >= bgpHeaderLen+2 && b[18] == bgpMsgNotif {
		c.p.setReason("notification-sent "+notifName(b[19], b[20]), true)
	}
	return c.Conn.Write(b)
}

func (c *bgpConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.p != nil {
			c.p.connClosed(c)
		}
	})
	return err
}

// RemoteAddr is the peer's address with an IPv4-mapped IPv6 address
// unmapped: corebgp finds a peer by the string of its address, and an IPv4
// peer reaching a dual-stack listener ([::]) shows as ::ffff:a.b.c.d.
func (c *bgpConn) RemoteAddr() net.Addr {
	a, ok := c.Conn.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return c.Conn.RemoteAddr()
	}
	ap := a.AddrPort()
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

func newBGPConn(c net.Conn) *bgpConn {
	return &bgpConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// peekOpenAS reads the peer's first message, which must be an OPEN, and
// returns its AS: the 4-octet AS capability's when present (RFC 6793 §4.1),
// else My Autonomous System. The message stays pending for corebgp.
func (c *bgpConn) peekOpenAS() (uint32, error) {
	if err := c.fill(); err != nil {
		return 0, fmt.Errorf("reading OPEN: %w", err)
	}
	m := c.pending
	if c.raw || len(m) < bgpHeaderLen+10 || m[18] != bgpMsgOpen {
		return 0, errors.New("first message is not an OPEN")
	}
	body := m[bgpHeaderLen:]
	as := uint32(binary.BigEndian.Uint16(body[1:3]))
	params := body[10:]
	if int(body[9]) != len(params) {
		return 0, errors.New("OPEN optional parameters length mismatch")
	}
	for len(params) >= 2 {
		typ, n := params[0], int(params[1])
		if len(params) < 2+n {
			break
		}
		if typ == 2 { // capabilities (RFC 5492 §4)
			for cp := params[2 : 2+n]; len(cp) >= 2 && len(cp) >= 2+int(cp[1]); cp = cp[2+int(cp[1]):] {
				if cp[0] == 65 && cp[1] == 4 {
					as = binary.BigEndian.Uint32(cp[2:6])
				}
			}
		}
		params = params[2+n:]
	}
	// RFC 7607 §2: "A router MUST NOT initiate a connection claiming to be
	// AS 0." Such a peer is never registered.
	if as == 0 {
		return 0, errors.New("OPEN claims AS 0 (RFC 7607)")
	}
	return as, nil
}

// notifName names a NOTIFICATION error code and subcode with gobgp's
// packet library ("code 6(cease) subcode 2(administrative shutdown)").
func notifName(code, sub uint8) string {
	return bgp.NewNotificationErrorCode(code, sub).String()
}
