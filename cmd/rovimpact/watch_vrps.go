package main

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

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
	opt      vrpOptions

	slurmRemoved int // VRPs the filters removed from the latest data of each source, summed
	files        map[string]*vrpFile
	fileOrder    []string
	clients      []*rtr.Client
	up           map[string]bool // last Connected seen per client
}

// vrpKey is a VRP without its trust anchor: what RTR and the Set compare.
type vrpKey struct {
	prefix netip.Prefix
	maxLen uint8
	asn    uint32
}

func keyOfVRP(v rov.VRP) vrpKey { return vrpKey{v.Prefix, v.MaxLen, v.ASN} }

// vrpFile is one --vrps file: what was loaded and what the file looked like
// then, so a poll sees a change.
type vrpFile struct {
	name    string
	size    int64
	mtime   time.Time
	vrps    int
	loaded  time.Time
	err     string
	removed int // by SLURM filters
}

func newVRPFeed(state *live.State, opt vrpOptions, log *slog.Logger, now func() time.Time) (*vrpFeed, error) {
	f := &vrpFeed{set: rtr.NewSet(), state: state, log: log, now: now, opt: opt,
		asserted: map[vrpKey]struct{}{}, files: map[string]*vrpFile{}, up: map[string]bool{}, kick: make(chan struct{}, 1)}
	if len(opt.slurm) == 0 {
		return f, nil
	}
	var files []*rov.SLURM
	for _, name := range opt.slurm {
		s, err := loadSLURMFile(name)
		if err != nil {
			return nil, err
		}
		files = append(files, s)
	}
	merged, err := rov.MergeSLURM(files...)
	if err != nil {
		return nil, err
	}
	if len(merged.PrefixFilters) > 0 {
		filters := *merged
		filters.PrefixAssertions = nil
		filters.BGPsecFilters, filters.BGPsecAssertions = nil, nil
		f.filter = &filters
	}
	var add []rov.VRP
	for _, a := range merged.PrefixAssertions {
		v := rov.VRP{Prefix: a.Prefix, MaxLen: a.MaxLen, ASN: a.ASN, TA: rov.SLURMTA}
		if _, ok := f.asserted[keyOfVRP(v)]; !ok {
			f.asserted[keyOfVRP(v)] = struct{}{}
			add = append(add, v)
		}
	}
	if len(add) > 0 {
		n := state.UpdateVRPs(add, nil)
		log.Info("vrps_loaded", "source", "slurm", "vrps", len(add), "revalidated", n)
	}
	if ig := len(merged.BGPsecFilters) + len(merged.BGPsecAssertions); ig > 0 {
		log.Info("SLURM BGPsec entries ignored (rovimpact validates origins only)", "count", ig)
	}
	return f, nil
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
	batch := f.pending
	f.pending = nil
	f.mu.Unlock()
	if len(batch) == 0 {
		return 0
	}
	ann, wd := live.Coalesce(batch...)
	ann, wd = f.unasserted(ann), f.unasserted(wd)
	start := time.Now()
	n := f.state.UpdateVRPs(ann, wd)
	f.log.Info("vrps_applied", "changes", len(batch), "announced", len(ann), "withdrawn", len(wd), "revalidated", n,
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
	st, err := os.Stat(name)
	var vrps []rov.VRP
	if err == nil {
		var ls rov.LoadStats
		vrps, ls, err = loadVRPFile(name, rov.LoadOptions{Now: f.now(), DropExpired: f.opt.dropExpired})
		if err == nil && ls.Expired > 0 {
			f.log.Warn("expired VRPs in file", "file", name, "expired", ls.Expired, "dropped", f.opt.dropExpired)
		}
	}
	f.mu.Lock()
	vf := f.files[name]
	if vf == nil {
		vf = &vrpFile{name: name}
		f.files[name] = vf
		f.fileOrder = append(f.fileOrder, name)
	}
	if st != nil {
		// Remember the file as it was when read, even if reading failed,
		// so a broken file is not re-read on every poll until it changes.
		vf.size, vf.mtime = st.Size(), st.ModTime()
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
	d, removed, aerr := f.apply(rtr.Update{Source: "file:" + name, Reset: true, Announced: vrps, Time: now})
	// Only counts are needed from here: the file's VRPs and the change
	// (two copies of a full set) can go before flush builds the index.
	nv, na, nw := len(vrps), len(d.Announced), len(d.Withdrawn)
	vrps, d = nil, rtr.Delta{}
	n := f.flush()
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
		st, err := os.Stat(name)
		if err != nil {
			if vf.err == "" {
				vf.err = err.Error()
				f.log.Error("vrps_file_unreadable", "source", "file:"+name, "err", err, "kept_vrps", vf.vrps)
			}
			continue
		}
		if force || st.Size() != vf.size || !st.ModTime().Equal(vf.mtime) {
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
		case !st.Established && was:
			f.log.Warn("cache_down", "source", st.Source, "addr", st.Addr, "connected", st.Connected, "err", st.LastError, "vrps_kept", st.VRPs)
		case !st.Established && !seen && st.LastError != "":
			f.log.Warn("cache_down", "source", st.Source, "addr", st.Addr, "connected", st.Connected, "err", st.LastError)
		}
	}
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
	s := reports.VRPSummary{ByTA: map[string]int{}, Files: f.opt.files, SLURMAdded: len(f.asserted)}
	for _, vf := range f.files {
		s.Read += vf.vrps + vf.removed
		s.SLURMRemoved += vf.removed
	}
	s.Loaded = f.state.Stats().VRPs
	return s
}
