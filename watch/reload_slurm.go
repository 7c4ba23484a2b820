package watch

import (
	"slices"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/study"
)

// reloadSLURM applies a reload's slurm files (RFC 8416). Assertions
// (§3.4) added or removed change the table at once. The filters (§3.3)
// are applied to each source's data as it arrives, and only the filtered
// data is kept, so new filters take effect as every source sends its data
// again: the --vrps files are read again, and each cache's client is
// replaced (reloadRTRTimers' way: its VRPs stay in the union until the new
// client's Reset Query brings them through the new filters). A file that
// does not read is logged and the running SLURM kept. It returns the keys
// applied.
func (w *Service) reloadSLURM(n Options) []string {
	if slices.Equal(w.opts.SLURM, n.SLURM) {
		return nil
	}
	merged, err := study.LoadSLURM(n.SLURM)
	if err != nil {
		w.log.Error("config_reload_slurm_failed", "err", err, "kept", "running SLURM")
		return nil
	}
	var filter *rov.SLURM
	var asserts []rov.VRP
	if merged != nil {
		filter, asserts = slurmParts(merged, w.log)
	}
	f := w.vrps
	// Serialised with flush, which reads f.asserted (unasserted).
	f.flushMu.Lock()
	next := map[vrpKey]struct{}{}
	var add, drop []rov.VRP
	for _, v := range asserts {
		next[keyOfVRP(v)] = struct{}{}
		if _, ok := f.asserted[keyOfVRP(v)]; !ok {
			add = append(add, v)
		}
	}
	var gone map[vrpKey]bool
	for k := range f.asserted {
		if _, ok := next[k]; !ok {
			if gone == nil {
				gone = map[vrpKey]bool{}
			}
			gone[k] = true
		}
	}
	if len(gone) > 0 {
		// An assertion no longer made leaves the table unless a source
		// still gives that VRP.
		inUnion := map[vrpKey]bool{}
		for _, v := range f.set.Union() {
			if gone[keyOfVRP(v)] {
				inUnion[keyOfVRP(v)] = true
			}
		}
		for k := range gone {
			if !inUnion[k] {
				drop = append(drop, rov.VRP{Prefix: k.prefix, MaxLen: k.maxLen, ASN: k.asn, TA: rov.SLURMTA})
			}
		}
	}
	f.mu.Lock()
	f.asserted = next
	f.filter = filter
	f.mu.Unlock()
	revalidated := 0
	if len(add)+len(drop) > 0 {
		revalidated = f.state.UpdateVRPs(add, drop)
		f.mu.Lock()
		if !slices.Contains(f.changed, "slurm") {
			f.changed = append(f.changed, "slurm")
		}
		f.mu.Unlock()
	}
	f.flushMu.Unlock()
	w.log.Info("slurm_reloaded", "files", n.SLURM, "asserted", len(next), "assertions_added", len(add),
		"assertions_removed", len(gone), "revalidated", revalidated, "filters", filter != nil)
	w.opts.SLURM = n.SLURM
	// The sources again, through the new filters: the caches here, the
	// files by reload, which reads every one again after this.
	w.replaceClients()
	return []string{"slurm"}
}
