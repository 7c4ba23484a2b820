package rov_test

import (
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
)

// BenchmarkASPAVerify verifies the AS paths of the RouteViews 2026 update
// file (announcements as they come, prepends and all) against the shared
// export's 100 ASPAs, upstream and downstream: paths/s and allocations of
// the hot path (expected 0 allocs/op). One op is one path.
func BenchmarkASPAVerify(b *testing.B) {
	vrpPath := testutil.SharedData(b, "vrp/vrps.rpki-client.20250720T100143Z.json.bz2")
	mrtPath := testutil.SharedData(b, "mrt/updates.20260222.1530.route-views2.bz2")
	f, err := os.Open(vrpPath)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(bzip2.NewReader(f))
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	e, err := rov.LoadExport(bytes.NewReader(data), "vrps", rov.LoadOptions{Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	set := rov.NewASPASet(e.ASPAs)
	type held struct {
		path []rov.Segment
		peer uint32
	}
	var paths []held
	mf, err := os.Open(mrtPath)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Close()
	src, err := routefile.NewSource(bzip2.NewReader(mf), mrtPath)
	if err != nil {
		b.Fatal(err)
	}
	for src.Next() {
		r := src.Route()
		if r.Kind != route.Announce {
			continue
		}
		p := make([]rov.Segment, len(r.Path))
		for i, s := range r.Path {
			p[i] = rov.Segment{Type: s.Type, ASNs: append([]uint32(nil), s.ASNs...)}
		}
		paths = append(paths, held{p, r.Peer.AS})
	}
	if len(paths) == 0 {
		b.Fatal("no paths read")
	}
	for _, role := range []rov.PeerRole{rov.RolePeer, rov.RoleProvider} {
		b.Run(role.String(), func(b *testing.B) {
			v := rov.NewASPAVerifier(set)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				h := paths[i%len(paths)]
				v.Verify(h.path, h.peer, role)
				i++
			}
		})
	}
}
