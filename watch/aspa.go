package watch

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rovimpact/rovimpact/rov"
)

// ASPAs over RTR: a version 2 cache (draft-ietf-sidrops-8210bis) sends ASPA
// PDUs beside the VRPs; each rtr.Client keeps its cache's current ASPA data
// (a newer PDU for a customer replaces the older, withdrawals remove it).
// watch unions them into one U-SPAS table (rov.ASPASet: per customer, the
// union of the providers every source lists, as draft-ietf-sidrops-aspa-
// verification §5.2 unions a customer's ASPAs) and exports its size.
//
// Not done yet: verifying the held paths. The live table interns AS paths
// (live/paths.go), so per-state path counts and re-verifying only the paths
// through a changed customer are the next step; until then no ASPA verdict
// is exported, rather than one computed on part of the table.
//
// Metrics (read at scrape time from the clients, never from a half-applied
// response: rtr.Client.ASPAs copies under the client's lock):
//
//	rovimpact_aspa_customers                 gauge: customer ASes with an ASPA in the union of the RTR caches
//	rovimpact_aspa_source_customers{source}  gauge: customer ASes with an ASPA per RTR cache (0 for a version 0/1 session)

var (
	mASPACustomers       = prometheus.NewDesc("rovimpact_aspa_customers", "Customer ASes with an ASPA in the union of the RTR caches' ASPA data (RTR version 2).", nil, nil)
	mASPASourceCustomers = prometheus.NewDesc("rovimpact_aspa_source_customers", "Customer ASes with an ASPA, per RTR cache (RTR version 2).", []string{"source"}, nil)
)

// aspaSource is one cache's ASPA count.
type aspaSource struct {
	name      string
	customers int
}

// aspaSet returns the U-SPAS table of the union of every RTR cache's
// current ASPAs, and each cache's count.
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
	return rov.NewASPASet(all), per
}

// aspaCollector exports the ASPA set's metrics.
type aspaCollector struct{ f *vrpFeed }

func (c aspaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mASPACustomers
	ch <- mASPASourceCustomers
}

func (c aspaCollector) Collect(ch chan<- prometheus.Metric) {
	set, per := c.f.aspaSet()
	ch <- prometheus.MustNewConstMetric(mASPACustomers, prometheus.GaugeValue, float64(set.Len()))
	for _, s := range per {
		ch <- prometheus.MustNewConstMetric(mASPASourceCustomers, prometheus.GaugeValue, float64(s.customers), s.name)
	}
}
