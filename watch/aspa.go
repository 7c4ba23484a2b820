package watch

import (
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPAs come from two kinds of source: a version 2 RTR cache
// (draft-ietf-sidrops-8210bis) sends ASPA PDUs beside the VRPs, which each
// rtr.Client keeps current (a newer PDU for a customer replaces the older,
// withdrawals remove it); a --vrps file's "aspas" (rpki-client, Routinator
// json/jsonext) are read with its VRPs, and expired ones dropped with
// --drop-expired, as `rovimpact aspa` does. watch unions them into one
// U-SPAS table (rov.ASPASet: per customer, the union of the providers every
// source lists, as draft-ietf-sidrops-aspa-verification §5.2 unions a
// customer's ASPAs) and hands it to the live table, which verifies every
// held path against it with each peer's --peer-role (unnamed peers
// upstream, as a collector is every peer's peer) and, when it changes,
// re-verifies only the paths through a changed customer (live.SetASPA).
// Unlike `rovimpact aspa`, watch does not infer iBGP feeds from the first
// AS of their paths (its table changes path by path): name such a peer
// with --peer-role AS=ibgp.
//
// With no ASPA in any source, no path is verified and /api/summary's
// "aspa" is null. Path verdict metrics are serve's (serve/aspa.go); here,
// read at scrape time from the clients:
//
//	rovimpact_aspa_customers                 gauge: customer ASes with an ASPA in the union of every source
//	rovimpact_aspa_source_customers{source}  gauge: customer ASes with an ASPA per RTR cache (0 for a version 0/1 session)
//
// A set change is logged (aspas_changed, with the customers changed and
// the paths re-verified) and told to the alert receivers; each path that
// becomes ASPA-invalid, or stops being so, is an event of its own
// (aspa_invalid_appeared / aspa_invalid_disappeared, cause aspas_changed;
// at most live.MaxASPAChanges a change, the rest counted).

var (
	mASPACustomers       = prometheus.NewDesc("rovimpact_aspa_customers", "Customer ASes with an ASPA in the union of the ASPA sources (RTR version 2 caches, --vrps files).", nil, nil)
	mASPASourceCustomers = prometheus.NewDesc("rovimpact_aspa_source_customers", "Customer ASes with an ASPA, per RTR cache (RTR version 2).", []string{"source"}, nil)
)

// causeASPAs is the cause of a path's ASPA verdict changing with the set.
const causeASPAs = "aspas_changed"

// aspaSource is one cache's ASPA count.
type aspaSource struct {
	name      string
	customers int
}

// aspaFeed is the vrpFeed's ASPA part.
type aspaFeed struct {
	mu    sync.Mutex // serialises refresh; guards files
	files map[string][]rov.ASPA
	roles classify.RoleMap
}

// setFileASPAs records a --vrps file's ASPAs (nil: none, or the file is
// gone).
func (f *vrpFeed) setFileASPAs(name string, aspas []rov.ASPA) {
	f.aspa.mu.Lock()
	defer f.aspa.mu.Unlock()
	if f.aspa.files == nil {
		f.aspa.files = map[string][]rov.ASPA{}
	}
	if len(aspas) == 0 {
		delete(f.aspa.files, name)
		return
	}
	f.aspa.files[name] = aspas
}

// aspaSet returns the U-SPAS table of the union of every source's current
// ASPAs (nil when there are none), and each RTR cache's count.
func (f *vrpFeed) aspaSet() (*rov.ASPASet, []aspaSource) {
	f.mu.Lock()
	clients := slices.Clone(f.clients)
	f.mu.Unlock()
	var all []rov.ASPA
	var per []aspaSource
	for _, c := range clients {
		as := c.ASPAs()
		per = append(per, aspaSource{name: c.Status().Source, customers: len(as)})
		for _, a := range as {
			all = append(all, rov.ASPA{CustomerASID: a.Customer, Providers: a.Providers})
		}
	}
	f.aspa.mu.Lock()
	for _, as := range f.aspa.files {
		all = append(all, as...)
	}
	f.aspa.mu.Unlock()
	if len(all) == 0 {
		return nil, per
	}
	return rov.NewASPASet(all), per
}

// refreshASPAs hands the current union to the live table, which
// re-verifies the paths it changes; called after every source update and
// on every check (a cache's data can expire without an update). Cheap when
// nothing changed: the union of a few thousand ASPAs and a comparison.
func (f *vrpFeed) refreshASPAs() {
	f.aspa.mu.Lock()
	roles := f.aspa.roles
	f.aspa.mu.Unlock()
	set, _ := f.aspaSet()
	f.aspaRefreshMu.Lock()
	defer f.aspaRefreshMu.Unlock()
	before := f.state.ASPAStats()
	if set == nil && !before.On {
		return
	}
	up := f.state.SetASPA(set, roles)
	if set == nil {
		f.log.Warn("aspas_changed", "customers", 0, "why", "no ASPA source holds data: path verification stopped")
		f.note(alert.Event{Name: causeASPAs, Time: f.now(), Cause: "no_aspa_data", Counts: map[string]int{"customers": 0}})
		return
	}
	if !up.First && up.Customers == 0 {
		return
	}
	f.log.Info("aspas_changed", "customers", set.Len(), "customers_changed", up.Customers, "paths_reverified", up.Reverified,
		"became_invalid", up.Became, "left_invalid", up.Left, "first", up.First)
	now := f.now()
	f.note(alert.Event{Name: causeASPAs, Time: now, Cause: causeASPAs, Counts: map[string]int{"customers": set.Len(),
		"customers_changed": up.Customers, "paths_reverified": up.Reverified, "became_invalid": up.Became, "left_invalid": up.Left}})
	logged := 0
	for _, c := range up.Changes {
		name := "aspa_invalid_appeared"
		if c.New != rov.ASPAInvalid {
			name = "aspa_invalid_disappeared"
		}
		o := c.Origin
		peer := fmt.Sprintf("AS%d %s", c.Peer.AS, c.Peer.IP)
		// Not Clear: alert keys route events by prefix and origin, and
		// ROV's invalid_appeared of the same route must not be cleared by
		// one path's ASPA verdict.
		f.note(alert.Event{Name: name, Time: now, Cause: causeASPAs, Prefix: c.Prefix, Origin: &o, Peer: peer})
		if logged < f.opt.MaxChangeLogs {
			logged++
			args := []any{"prefix", c.Prefix, "origin", o.String(), "peer", peer, "aspa", c.New.String(), "old_aspa", c.Old.String(), "cause", causeASPAs}
			if r := c.Result; r.State == rov.ASPAInvalid {
				// The step that decided, and the hop whose customer's ASPA
				// does not list the next AS (draft §6.6 asks to log it).
				args = append(args, "reason", r.Reason.String())
				if r.Reason == rov.ASPAReasonRamps {
					args = append(args, "up_hop", fmt.Sprintf("AS%d>AS%d", r.Up.Customer, r.Up.Provider))
					if r.Downstream {
						args = append(args, "down_hop", fmt.Sprintf("AS%d>AS%d", r.Down.Customer, r.Down.Provider))
					}
				}
			}
			f.log.Info(name, args...)
		}
	}
	if n := up.Became + up.Left - logged; n > 0 {
		f.log.Warn("aspa_changes_suppressed", "count", n, "max_change_logs", f.opt.MaxChangeLogs, "listed", len(up.Changes))
	}
}

// aspaCollector exports the ASPA set's metrics.
type aspaCollector struct{ f *vrpFeed }

func (c aspaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mASPACustomers
	ch <- mASPASourceCustomers
}

func (c aspaCollector) Collect(ch chan<- prometheus.Metric) {
	set, per := c.f.aspaSet()
	n := 0
	if set != nil {
		n = set.Len()
	}
	ch <- prometheus.MustNewConstMetric(mASPACustomers, prometheus.GaugeValue, float64(n))
	for _, s := range per {
		ch <- prometheus.MustNewConstMetric(mASPASourceCustomers, prometheus.GaugeValue, float64(s.customers), s.name)
	}
}
