package study

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// LookupASPA answers the ASPA part of lookup's queries, in place, from the
// ASPAs the --vrps files held (files: VRPOptions.ASPAs after the load;
// expired ones counted and, with c.VRP.DropExpired, dropped):
//   - an AS path query gets its hop-by-hop report, as aspa --path gives it
//     (VerifyASPAPath: the neighbour is its first AS, the role from
//     roleVals, default peer);
//   - with route files, a prefix or address query gets the ASPA verdict of
//     every path of its routes (exactly the prefix; for an address, every
//     prefix containing it), from a replay of the route files (ROUTES then
//     --updates, as aspa replays them) that keeps only those prefixes, with
//     the roles of --peer-role and aspa's iBGP inference, and only the
//     --peer peers.
//
// No ASPA at all leaves prefix and address queries alone and makes an AS
// path query an error (exit 1). Warnings go to c.Warn.
func LookupASPA(ctx context.Context, c Config, files []ASPAFile, queries []reports.Query, roleVals []string) error {
	// Nothing to verify (no AS path query; no route file or no prefix or
	// address query): say nothing about the ASPAs either.
	paths, routesAsked := false, false
	for _, q := range queries {
		paths = paths || q.IsASPath()
		routesAsked = routesAsked || q.Prefix.IsValid() || q.Addr.IsValid()
	}
	if !paths && (!routesAsked || len(c.Routes)+len(c.Route.Updates) == 0) {
		return nil
	}
	aspas, _ := ExpireASPAs(files, c.VRP.DropExpired, c.Now, c.Warn)
	if len(aspas) == 0 {
		for _, q := range queries {
			if q.IsASPath() {
				return fmt.Errorf("lookup %q: an AS path query needs ASPAs: %s hold none (rpki-client or Routinator JSON \"aspas\"; a snapshot keeps none)",
					q.Text, orNoFile(c.VRP.Files))
			}
		}
		return nil
	}
	set := rov.NewASPASet(aspas)
	var wantPrefix, wantAddr []int
	for i := range queries {
		q := &queries[i]
		switch {
		case q.IsASPath():
			rep, err := VerifyASPAPath(set, ASPAPathQuery{Path: q.Text, Roles: roleVals})
			if err != nil {
				return err
			}
			q.ASPAPath = &rep
		case q.Prefix.IsValid():
			wantPrefix = append(wantPrefix, i)
		case q.Addr.IsValid():
			wantAddr = append(wantAddr, i)
		}
	}
	routes := append(append([]string(nil), c.Routes...), c.Route.Updates...)
	if len(routes) == 0 || len(wantPrefix)+len(wantAddr) == 0 {
		return nil
	}
	var keyed []string
	for _, v := range roleVals {
		if strings.Contains(v, "=") {
			keyed = append(keyed, v)
		}
	}
	roles, err := ParseRoles(keyed, "")
	if err != nil {
		return err
	}
	peers, err := ParsePeers(c.Route.Peers)
	if err != nil {
		return err
	}
	exact := map[netip.Prefix]bool{}
	for _, i := range wantPrefix {
		exact[queries[i].Prefix] = true
	}
	keep := func(p netip.Prefix) bool {
		if exact[p] {
			return true
		}
		for _, i := range wantAddr {
			if p.Contains(queries[i].Addr) {
				return true
			}
		}
		return false
	}
	rib := mrt.NewRIB()
	var census classify.FirstASCensus
	for _, name := range routes {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The route files' losses are the analysis's to report: it read
		// the same files.
		if _, _, err := replayFile(rib, name, &census, keep); err != nil {
			if errors.Is(err, errNoASPath) {
				fmt.Fprintf(c.Warn, "rovimpact: note: %v: lookup shows no ASPA verdicts\n", err)
				return nil
			}
			return err
		}
	}
	roles.InferIBGP(&census)
	v := rov.NewASPAVerifier(set)
	keys := rib.Peers()
	for _, i := range wantPrefix {
		queries[i].ASPAPaths = []reports.LookupASPAPath{}
	}
	for _, i := range wantAddr {
		queries[i].ASPAPaths = []reports.LookupASPAPath{}
	}
	for r := range rib.All() {
		k := keys[r.Peer.Index]
		if !table.AnyPeerMatches(peers, k) {
			continue
		}
		pk := route.PeerKey{AS: k.AS, IP: k.IP}
		role, _ := roles.Role(pk)
		row := reports.NewLookupASPAPath(set, r.Prefix, k.AS, k.IP, role, r.Path, v.Verify(r.Path, k.AS, role))
		if exact[r.Prefix] {
			for _, i := range wantPrefix {
				if queries[i].Prefix == r.Prefix {
					queries[i].ASPAPaths = append(queries[i].ASPAPaths, row)
				}
			}
		}
		for _, i := range wantAddr {
			if r.Prefix.Contains(queries[i].Addr) {
				queries[i].ASPAPaths = append(queries[i].ASPAPaths, row)
			}
		}
	}
	for _, i := range append(wantPrefix, wantAddr...) {
		slices.SortFunc(queries[i].ASPAPaths, func(a, b reports.LookupASPAPath) int {
			// Most specific first (an address's routes), then origin, peer.
			return cmp.Or(cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()), a.Prefix.Addr().Compare(b.Prefix.Addr()),
				reports.CompareOriginASN(a.Origin, b.Origin), cmp.Compare(a.PeerAS, b.PeerAS), a.PeerIP.Compare(b.PeerIP), strings.Compare(a.Path, b.Path))
		})
	}
	return nil
}

func orNoFile(files []string) string {
	if len(files) == 0 {
		return "no --vrps file"
	}
	return strings.Join(files, ", ")
}
