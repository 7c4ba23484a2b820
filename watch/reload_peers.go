package watch

import "slices"

// reloadPeers applies a reload's changed BGP peers (neighbor, accept,
// accept-as) to the running collector and returns the keys it applied:
// only the sessions of peers removed, or whose AS changed, end
// (collector.BGP.SetPeers). A change that would start or stop the BGP
// collector itself (no BGP before, or none after) needs a restart and
// applies nothing.
func (w *Service) reloadPeers(n Options) []string {
	o := w.opts
	var keys []string
	if !slices.Equal(o.Neighbors, n.Neighbors) {
		keys = append(keys, "neighbor")
	}
	if !slices.Equal(o.Accept, n.Accept) {
		keys = append(keys, "accept")
	}
	if o.AcceptAS != n.AcceptAS {
		keys = append(keys, "accept-as")
	}
	if len(keys) == 0 || w.bgp == nil {
		return nil
	}
	cfg, err := check(n)
	if err != nil || cfg.bgp == nil {
		return nil
	}
	if err := w.bgp.SetPeers(cfg.bgp.Neighbors, cfg.bgp.Accept, cfg.bgp.AcceptAS); err != nil {
		w.log.Error("config_reload_peers_failed", "err", err, "kept", "running peers")
		return nil
	}
	w.opts.Neighbors, w.opts.Accept, w.opts.AcceptAS = n.Neighbors, n.Accept, n.AcceptAS
	return keys
}
