package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// SetPeers replaces the peers the collector takes sessions from (watch's
// SIGHUP): the configured neighbours, the accepted prefixes and the AS
// their peers must have. Only the sessions it concerns change: a peer
// that is no longer allowed, or whose AS is no longer the one allowed, is
// closed (a CEASE NOTIFICATION, RFC 4486) and its routes flushed, stale
// ones of a restarting peer included; a newly allowed peer is taken when
// it connects; every other session stays up, untouched.
func (b *BGP) SetPeers(neighbors []Neighbor, accept []netip.Prefix, acceptAS uint32) error {
	if len(neighbors) == 0 && len(accept) == 0 {
		return errors.New("collector: BGP needs at least one neighbor or accepted prefix")
	}
	for _, n := range neighbors {
		if !n.Addr.IsValid() {
			return errors.New("collector: BGP neighbor without address")
		}
	}
	acc := make([]netip.Prefix, len(accept))
	for i, p := range accept {
		if !p.IsValid() {
			return fmt.Errorf("collector: BGP accepted prefix %d is invalid", i)
		}
		acc[i] = p.Masked()
	}
	var gone []*bgpPeer
	b.mu.Lock()
	b.cfg.Neighbors, b.cfg.Accept, b.cfg.AcceptAS = slices.Clone(neighbors), acc, acceptAS
	for addr, p := range b.peers {
		as, dynamic, ok := b.allowedLocked(addr)
		if ok && (as == 0 || p.as == 0 || as == p.as) {
			p.dynamic = dynamic
			continue
		}
		gone = append(gone, p)
	}
	b.mu.Unlock()
	// corebgp's DeletePeer waits for the session's end, whose OnClose
	// takes em.mu: b.mu is not held meanwhile (see BGP.mu).
	for _, p := range gone {
		p.setReason("peer de-configured", true)
		b.mu.Lock()
		registered := p.registered
		p.registered = false
		delete(b.peers, p.addr)
		b.mu.Unlock()
		if registered && b.srv != nil {
			b.srv.DeletePeer(p.addr)
		}
		b.em.mu.Lock()
		p.downLocked("peer de-configured", false) // no-op when OnClose did it
		if p.paths.len() > 0 {
			p.flushLocked() // stale routes of a restarting peer
		}
		p.stopTimerLocked()
		b.em.mu.Unlock()
		b.log.Info("bgp_peer_removed", "peer_ip", p.addr, "peer_as", p.as)
	}
	return nil
}
