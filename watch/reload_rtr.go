package watch

import "time"

// reloadRTRTimers applies a reload's rtr-retry and rtr-timeout: they are
// fixed per RPKI-RTR client, so each running cache's client is replaced by
// one with the new settings. The old one stops first (its last updates
// applied), its VRPs staying in the union; the new one starts with a Reset
// Query (as every connection does), whose answer replaces them. Route
// sessions are not touched, and the union does not lose the cache's VRPs
// meanwhile. It returns the keys applied.
func (w *Service) reloadRTRTimers(n Options) []string {
	o := w.opts
	var keys []string
	if o.RTRRetry != n.RTRRetry {
		keys = append(keys, "rtr-retry")
	}
	if o.RTRTimeout != n.RTRTimeout {
		keys = append(keys, "rtr-timeout")
	}
	if len(keys) == 0 {
		return nil
	}
	w.opts.RTRRetry, w.opts.RTRTimeout = n.RTRRetry, n.RTRTimeout
	w.replaceClients()
	return keys
}

// replaceClients replaces the client of every running cache by one with
// the running settings: the old one stops first (its last updates
// applied), its source's VRPs staying in the union, and the new one's
// Reset Query replaces them.
func (w *Service) replaceClients() {
	for _, addr := range w.opts.RTR {
		c := w.caches[addr]
		if c == nil {
			continue
		}
		c.replaced.Store(true)
		c.cancel()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			// A client that does not stop is left to stop on its own;
			// its source's data stays (the new client replaces it).
			w.log.Warn("rtr_client_slow_to_stop", "source", addr)
		}
		w.startCache(addr)
	}
}
