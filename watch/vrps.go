package watch

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/study"

	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
	"github.com/rovimpact/rovimpact/serve"
)

// vrpFeed is watch's VRP pipeline: every source (each --rtr cache, each
// --vrps file as "file:PATH") goes through the SLURM filters (RFC 8416
// §3.3) into one rtr.Set that keeps the sources apart and their union
// current (RFC 8210 §10); the changes of the union, less the SLURM
// assertions (RFC 8416 §3.4, added once at start), go to the live table,
// folded into one while it was busy (see flush), and it re-validates only
// the routes they can affect.
//
// The assertions stay out of the Set on purpose: as a source of their own
// they would make every VRP no cache asserts a "disagreement", drowning the
// real ones between caches.
type vrpFeed struct {
	mu       sync.Mutex // guards the Set changes and the queue, so changes are queued in Set order
	flushMu  sync.Mutex // serialises flushes
	pending  []rtr.Delta
	kick     chan struct{}
	set      *rtr.Set
	state    *live.State
	filter   *rov.SLURM // prefix filters only; nil without SLURM filters
	asserted map[vrpKey]struct{}
	log      *slog.Logger
	now      func() time.Time
	opt      Options

	slurmRemoved int // VRPs the filters removed from the latest data of each source, summed
	files        map[string]*vrpFile
	fileOrder    []string
	clients      []*rtr.Client
	up           map[string]bool // last Connected seen per client
	events       []alert.Event   // cache edges not yet taken by drainEvents
	pendingSrc   []string        // sources of the pending changes
	changed      []string        // sources whose changes reached the State since drainEvents

	aspa          aspaFeed   // ASPAs of the files, peer roles (aspa.go)
	aspaRefreshMu sync.Mutex // serialises refreshASPAs' hand-over to the State
}

func (f *vrpFeed) note(e alert.Event) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

// drainEvents returns the cache edges since the last call, and the VRP
// sources whose updates changed the union meanwhile.
func (f *vrpFeed) drainEvents() ([]alert.Event, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, changed := f.events, f.changed
	f.events, f.changed = nil, nil
	return out, changed
}

// vrpKey is a VRP without its trust anchor: what RTR and the Set compare.
type vrpKey struct {
	prefix netip.Prefix
	maxLen uint8
	asn    uint32
}

func keyOfVRP(v rov.VRP) vrpKey { return vrpKey{v.Prefix, v.MaxLen, v.ASN} }

// vrpFile is one --vrps file: what was loaded and what the file looked like
// then (src: its size and modification time), so a poll sees a change.
type vrpFile struct {
	src     study.Source
	vrps    int
	loaded  time.Time
	err     string
	removed int // by SLURM filters
}

func newVRPFeed(state *live.State, opt Options, log *slog.Logger, now func() time.Time) (*vrpFeed, error) {
	f := &vrpFeed{set: rtr.NewSet(), state: state, log: log, now: now, opt: opt,
		asserted: map[vrpKey]struct{}{}, files: map[string]*vrpFile{}, up: map[string]bool{}, kick: make(chan struct{}, 1)}
	// The State holds the Set's union itself, not a copy, whenever they are
	// the same set (no SLURM assertion adds to it).
	state.ShareVRPs(f.set.Packed)
	merged, err := study.LoadSLURM(opt.SLURM)
	if err != nil || merged == nil {
		return f, err
	}
	var add []rov.VRP
	f.filter, add = slurmParts(merged, log)
	for _, v := range add {
		f.asserted[keyOfVRP(v)] = struct{}{}
	}
	if len(add) > 0 {
		n := state.UpdateVRPs(add, nil)
		log.Info("vrps_loaded", "source", "slurm", "vrps", len(add), "revalidated", n)
	}
	return f, nil
}

// slurmParts splits SLURM files (merged) into the prefix filters (nil
// without any) and the asserted VRPs (without repeats), and logs the
// BGPsec entries it ignores.
func slurmParts(merged *rov.SLURM, log *slog.Logger) (*rov.SLURM, []rov.VRP) {
	var filter *rov.SLURM
	if len(merged.PrefixFilters) > 0 {
		filters := *merged
		filters.PrefixAssertions = nil
		filters.BGPsecFilters, filters.BGPsecAssertions = nil, nil
		filter = &filters
	}
	var add []rov.VRP
	seen := map[vrpKey]bool{}
	for _, a := range merged.PrefixAssertions {
		v := rov.VRP{Prefix: a.Prefix, MaxLen: a.MaxLen, ASN: a.ASN, TA: rov.SLURMTA}
		if !seen[keyOfVRP(v)] {
			seen[keyOfVRP(v)] = true
			add = append(add, v)
		}
	}
	if ig := len(merged.BGPsecFilters) + len(merged.BGPsecAssertions); ig > 0 {
		log.Info("slurm_bgpsec_ignored", "count", ig, "why", "rovimpact validates origins only")
	}
	return filter, add
}

// filtered applies the SLURM prefix filters to vrps, returning what is
// left and how many were removed.
func (f *vrpFeed) filtered(vrps []rov.VRP) ([]rov.VRP, int) {
	if f.filter == nil || len(vrps) == 0 {
		return vrps, 0
	}
	// Apply sorts and de-duplicates; with no assertions it only removes.
	out, st := f.filter.Apply(vrps)
	return out, st.Removed
}

// apply feeds one update of a source through the filters into the Set,
// and queues the union's change for the State; it returns the change and
// how many VRPs the filters removed. It is quick: the State's work (an
// index rebuild and re-validation) is done by flush, which folds every
// change queued meanwhile into one (live.Coalesce), so a burst of updates
// from several caches costs one rebuild, and a client never waits on it
// with its socket unread.
func (f *vrpFeed) apply(u rtr.Update) (rtr.Delta, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var removed int
	u.Announced, removed = f.filtered(u.Announced)
	u.Withdrawn, _ = f.filtered(u.Withdrawn)
	d, err := f.set.Apply(u)
	if !d.Empty() {
		if !slices.Contains(f.pendingSrc, u.Source) {
			f.pendingSrc = append(f.pendingSrc, u.Source)
		}
		f.pending = append(f.pending, d)
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
	return d, removed, err
}

// flush applies the queued changes of the union to the State as one
// change and returns the routes re-validated. Flushes are serialised, and
// each takes the whole queue, so changes reach the State in order.
func (f *vrpFeed) flush() int {
	f.flushMu.Lock()
	defer f.flushMu.Unlock()
	f.mu.Lock()
	batch, srcs := f.pending, f.pendingSrc
	f.pending, f.pendingSrc = nil, nil
	f.mu.Unlock()
	if len(batch) == 0 {
		return 0
	}
	defer func() {
		f.mu.Lock()
		for _, src := range srcs {
			if !slices.Contains(f.changed, src) {
				f.changed = append(f.changed, src)
			}
		}
		f.mu.Unlock()
	}()
	ann, wd := live.Coalesce(batch...)
	ann, wd = f.unasserted(ann), f.unasserted(wd)
	// Only counts are needed past UpdateVRPs: the deltas (a full set on a
	// first load) can go while the State packs and indexes it.
	changes, na, nw := len(batch), len(ann), len(wd)
	batch = nil
	start := time.Now()
	n := f.state.UpdateVRPs(ann, wd)
	f.log.Info("vrps_applied", "changes", changes, "announced", na, "withdrawn", nw, "revalidated", n,
		"vrps", f.state.Stats().VRPs, "seconds", time.Since(start).Seconds())
	return n
}

// run flushes queued changes as they come, until ctx is done.
func (f *vrpFeed) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
			f.flush()
		}
	}
}

// unasserted drops the VRPs SLURM asserts: the State holds them for good.
func (f *vrpFeed) unasserted(vrps []rov.VRP) []rov.VRP {
	if len(f.asserted) == 0 {
		return vrps
	}
	return slices.DeleteFunc(slices.Clone(vrps), func(v rov.VRP) bool {
		_, ok := f.asserted[keyOfVRP(v)]
		return ok
	})
}

// loadFile (re)reads one --vrps file as a Reset of its source. At start a
// failure is fatal; later the old data stays and the error is logged.
func (f *vrpFeed) loadFile(name, why string) error {
	src, err := study.Stat(study.RoleVRPs, name)
	statted := err == nil
	var vrps []rov.VRP
	var aspas []rov.ASPA
	if err == nil {
		var e rov.Export
		e, err = study.LoadExportFile(name, rov.LoadOptions{Now: f.now(), DropExpired: f.opt.DropExpired})
		vrps = e.VRPs
		if err == nil && e.Stats.Expired > 0 {
			f.log.Warn("vrps_expired_in_file", "file", name, "expired", e.Stats.Expired, "dropped", f.opt.DropExpired)
		}
		if err == nil && len(e.ASPAs) > 0 {
			// The rule `rovimpact aspa` applies (study.ExpireASPAs).
			var expired int
			aspas, expired = study.ExpireASPAs([]study.ASPAFile{{Name: name, ASPAs: e.ASPAs}}, f.opt.DropExpired, f.now(), io.Discard)
			if expired > 0 {
				f.log.Warn("aspas_expired_in_file", "file", name, "expired", expired, "of", len(e.ASPAs), "dropped", f.opt.DropExpired)
			}
		}
	}
	f.mu.Lock()
	vf := f.files[name]
	if vf == nil {
		vf = &vrpFile{src: study.Source{Role: study.RoleVRPs, Name: name, Size: -1}}
		f.files[name] = vf
		f.fileOrder = append(f.fileOrder, name)
	}
	if statted {
		// Remember the file as it was when read, even if reading failed,
		// so a broken file is not re-read on every poll until it changes.
		vf.src = src
	}
	if err != nil {
		vf.err = err.Error()
		f.mu.Unlock()
		if why == "start" {
			return err
		}
		f.log.Error("vrps_reload_failed", "source", "file:"+name, "err", err, "kept_vrps", vf.vrps)
		return nil
	}
	f.mu.Unlock()
	now := f.now()
	// Reuse: only len(vrps) is read from here on, so the Set may write the
	// change into the file's array instead of a second copy of the set.
	d, removed, aerr := f.apply(rtr.Update{Source: "file:" + name, Reset: true, Announced: vrps, Time: now, Reuse: true})
	// Only counts are needed from here: the file's VRPs and the change
	// (two copies of a full set) can go before flush builds the index.
	nv, na, nw := len(vrps), len(d.Announced), len(d.Withdrawn)
	vrps, d = nil, rtr.Delta{}
	n := f.flush()
	f.setFileASPAs(name, aspas)
	f.refreshASPAs()
	f.mu.Lock()
	vf.vrps, vf.loaded, vf.err, vf.removed = nv-removed, now, "", removed
	f.mu.Unlock()
	if aerr != nil {
		f.log.Error("vrps_set_inconsistent", "source", "file:"+name, "err", aerr)
	}
	f.log.Info("vrps_loaded", "source", "file:"+name, "reason", why, "vrps", nv-removed, "slurm_removed", removed,
		"announced", na, "withdrawn", nw, "revalidated", n, "union", f.set.Len())
	return nil
}

// pollFiles reloads the files whose size or modification time changed (or
// all of them, force: SIGHUP). Polling rather than inotify: validators
// replace their output by rename, which a watch on the file itself misses,
// a stat per file every few seconds costs nothing, and it works on any
// file system (NFS included); fsnotify would be a new direct dependency
// for no gain.
func (f *vrpFeed) pollFiles(force bool) {
	f.mu.Lock()
	var due []string
	for _, name := range f.fileOrder {
		vf := f.files[name]
		src, err := study.Stat(study.RoleVRPs, name)
		if err != nil {
			if vf.err == "" {
				vf.err = err.Error()
				f.log.Error("vrps_file_unreadable", "source", "file:"+name, "err", err, "kept_vrps", vf.vrps)
			}
			continue
		}
		if force || !src.Same(vf.src) {
			due = append(due, name)
		}
	}
	f.mu.Unlock()
	why := "changed"
	if force {
		why = "sighup"
	}
	for _, name := range due {
		f.loadFile(name, why)
	}
}

func (f *vrpFeed) addClient(c *rtr.Client) {
	f.mu.Lock()
	f.clients = append(f.clients, c)
	f.mu.Unlock()
}

// follow drains a client's Updates into the Set until Run closes the
// channel.
func (f *vrpFeed) follow(c *rtr.Client) {
	for u := range c.Updates() {
		d, removed, err := f.apply(u)
		f.refreshASPAs()
		if err != nil {
			f.log.Error("vrps_set_inconsistent", "source", u.Source, "serial", u.Serial, "err", err)
		}
		switch {
		case u.Expired:
			f.log.Warn("cache_expired", "source", u.Source, "withdrawn", len(d.Withdrawn), "union", f.set.Len())
		case len(u.Announced)+len(u.Withdrawn) > 0 || u.Reset:
			f.log.Info("vrps_updated", "source", u.Source, "serial", u.Serial, "session_id", u.SessionID, "reset", u.Reset,
				"source_announced", len(u.Announced), "source_withdrawn", len(u.Withdrawn), "slurm_removed", removed,
				"announced", len(d.Announced), "withdrawn", len(d.Withdrawn), "union", f.set.Len())
		default:
			f.log.Debug("cache_serial", "source", u.Source, "serial", u.Serial)
		}
	}
}

// pollClients logs caches going up or down. A cache is up while its
// session is established (rtr.Status.Established: synced on the current
// connection, no query overdue), not merely connected: a cache that
// accepts the connection and never answers is down.
func (f *vrpFeed) pollClients() {
	f.mu.Lock()
	clients := slices.Clone(f.clients)
	f.mu.Unlock()
	for _, c := range clients {
		st := c.Status()
		f.mu.Lock()
		was, seen := f.up[st.Source]
		f.up[st.Source] = st.Established
		f.mu.Unlock()
		switch {
		case st.Established && !was:
			f.log.Info("cache_up", "source", st.Source, "addr", st.Addr, "version", st.Version, "vrps", st.VRPs)
			f.note(alert.Event{Name: "cache_up", Time: f.now(), Source: st.Source, Clear: true})
		case !st.Established && was:
			f.log.Warn("cache_down", "source", st.Source, "addr", st.Addr, "connected", st.Connected, "err", st.LastError, "vrps_kept", st.VRPs)
			f.note(alert.Event{Name: "cache_down", Time: f.now(), Source: st.Source, Cause: st.LastError, Counts: map[string]int{"vrps_kept": st.VRPs}})
		case !st.Established && !seen && st.LastError != "":
			f.log.Warn("cache_down", "source", st.Source, "addr", st.Addr, "connected", st.Connected, "err", st.LastError)
			f.note(alert.Event{Name: "cache_down", Time: f.now(), Source: st.Source, Cause: st.LastError})
		}
	}
	f.refreshASPAs()
}

func (f *vrpFeed) cachesUp() int {
	f.mu.Lock()
	clients := slices.Clone(f.clients)
	f.mu.Unlock()
	n := 0
	for _, c := range clients {
		if c.Status().Established {
			n++
		}
	}
	return n
}

// sources lists every VRP source for the API and metrics.
func (f *vrpFeed) sources() []serve.VRPSource {
	f.mu.Lock()
	clients := slices.Clone(f.clients)
	var out []serve.VRPSource
	for _, name := range f.fileOrder {
		vf := f.files[name]
		out = append(out, serve.VRPSource{Name: "file:" + name, Kind: "file", Addr: name, Up: vf.err == "" && !vf.loaded.IsZero(),
			VRPs: vf.vrps, LastUpdate: vf.loaded, LastError: vf.err})
	}
	if len(f.asserted) > 0 {
		out = append(out, serve.VRPSource{Name: "slurm", Kind: "slurm", Up: true, VRPs: len(f.asserted)})
	}
	f.mu.Unlock()
	for _, c := range clients {
		out = append(out, serve.FromRTR(c.Status()))
	}
	return out
}

// summary is the VRP part of the report's summary.
func (f *vrpFeed) summary() reports.VRPSummary {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := reports.VRPSummary{ByTA: map[string]int{}, Files: f.opt.VRPFiles, SLURMAdded: len(f.asserted)}
	for _, vf := range f.files {
		s.Read += vf.vrps + vf.removed
		s.SLURMRemoved += vf.removed
	}
	s.Loaded = f.state.Stats().VRPs
	return s
}

// setOptions takes the reloadable VRP settings of a reload.
func (f *vrpFeed) setOptions(dropExpired bool, files []string) {
	f.mu.Lock()
	f.opt.DropExpired, f.opt.VRPFiles = dropExpired, files
	f.mu.Unlock()
}

// removeFile forgets a --vrps file a reload removed: its VRPs leave the
// union (and the table, unless another source holds them).
func (f *vrpFeed) removeFile(name string) {
	f.mu.Lock()
	if _, ok := f.files[name]; !ok {
		f.mu.Unlock()
		return
	}
	delete(f.files, name)
	f.fileOrder = slices.DeleteFunc(f.fileOrder, func(n string) bool { return n == name })
	f.mu.Unlock()
	f.setFileASPAs(name, nil)
	f.dropSource("file:" + name)
}

// removeClient forgets an RTR cache a reload removed, once its client
// stopped.
func (f *vrpFeed) removeClient(c *rtr.Client) {
	f.mu.Lock()
	f.clients = slices.DeleteFunc(f.clients, func(x *rtr.Client) bool { return x == c })
	src := c.Status().Source
	delete(f.up, src)
	f.mu.Unlock()
	f.dropSource(src)
}

// dropSource removes a source's VRPs from the union and applies the change.
func (f *vrpFeed) dropSource(src string) {
	d, _, _ := f.apply(rtr.Update{Source: src, Expired: true, Time: f.now()})
	n := f.flush()
	f.refreshASPAs()
	f.log.Info("vrps_source_removed", "source", src, "withdrawn", len(d.Withdrawn), "revalidated", n, "union", f.set.Len())
}

// retireClient forgets a client replaced by another for the same cache
// (watch/reload_rtr.go), keeping its source's VRPs: the new client's first
// response (a Reset Query's) replaces them, as after any reconnect.
func (f *vrpFeed) retireClient(c *rtr.Client) {
	f.mu.Lock()
	f.clients = slices.DeleteFunc(f.clients, func(x *rtr.Client) bool { return x == c })
	delete(f.up, c.Status().Source) // the new client's session is told when it is up
	f.mu.Unlock()
}
