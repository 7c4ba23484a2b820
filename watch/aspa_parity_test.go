package watch

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/serve"
	"github.com/rovimpact/rovimpact/study"
)

// TestASPAParityWithAspaCommand: the RouteViews 2026 updates (20 peers)
// and the shared export's 100 ASPAs (with its first 50,000 VRPs, for the
// ROV × ASPA matrix), once through `rovimpact aspa`'s pipeline
// (study.RunASPA) and once through watch's (the paths applied to the live
// table as a collector would, the file read by the VRP feed, the summary
// from /api/summary): every count of summary.aspa both give must agree.
// Then a change of the ASPA file re-verifies only the paths through the
// changed customers, and the summary still agrees with a fresh run.
func TestASPAParityWithAspaCommand(t *testing.T) {
	routes := testutil.SharedData(t, "mrt/updates.20260222.1530.route-views2.bz2")
	src := testutil.SharedData(t, "vrp/vrps.rpki-client.20250720T093133Z.json.bz2")
	f, err := compressed.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	e, err := rov.LoadExport(f, src, rov.LoadOptions{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ASPAs) != 100 {
		t.Fatalf("%d ASPAs, want 100", len(e.ASPAs))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	writeExport(t, file, e.VRPs[:50000], e.ASPAs)
	now := time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC)

	aspaCmd := func() map[string]any {
		t.Helper()
		rep, _, err := study.RunASPA(context.Background(), study.Config{VRP: study.VRPOptions{Files: []string{file}},
			Analysis: study.AnalysisOptions{ASSet: "invalid"}, Routes: []string{routes}, Now: now, Warn: io.Discard}, classify.RoleMap{Default: rov.RolePeer})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Summary.Roles.Inferred != 0 {
			t.Fatalf("rovimpact aspa inferred %d iBGP peers; watch does not infer", rep.Summary.Roles.Inferred)
		}
		return jsonObject(t, rep.Summary.ASPA)
	}

	st := live.New(live.Options{})
	in, err := compressed.Open(routes)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := routefile.NewSource(in, routes)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		st.Apply(rs.Route())
	}
	in.Close()
	log := slog.New(slog.DiscardHandler)
	feed, err := newVRPFeed(st, Options{VRPFiles: []string{file}, MaxChangeLogs: 10}, log, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	feed.aspa.roles = classify.RoleMap{Default: rov.RolePeer}
	if err := feed.loadFile(file, "start"); err != nil {
		t.Fatal(err)
	}
	srv := serve.New(serve.Config{Table: st, MaxWait: -1})
	watchSummary := func() map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/api/summary", nil))
		var doc struct {
			Summary struct {
				ASPA map[string]any `json:"aspa"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Summary.ASPA == nil {
			t.Fatalf("/api/summary has no aspa object: %s", rec.Body.String())
		}
		return doc.Summary.ASPA
	}
	compare := func(what string, got, want map[string]any) {
		t.Helper()
		n := 0
		for k, v := range got {
			w, ok := want[k]
			if !ok {
				t.Errorf("%s: watch's aspa.%s is not in rovimpact aspa's summary", what, k)
				continue
			}
			if !reflect.DeepEqual(v, w) {
				t.Errorf("%s: aspa.%s: watch %v, rovimpact aspa %v", what, k, v, w)
			}
			n++
		}
		if n < 13 {
			t.Errorf("%s: only %d fields compared", what, n)
		}
	}
	got, want := watchSummary(), aspaCmd()
	compare("initial", got, want)
	if want["invalid"].(float64) == 0 || want["valid"].(float64) == 0 {
		t.Fatalf("fixture: no invalid or no valid path: %v", want)
	}
	t.Logf("paths: valid %v unknown %v invalid %v; routes dropped by ASPA alone %v",
		want["valid"], want["unknown"], want["invalid"], want["routes_dropped_aspa_only"])

	// AS945's ASPA lists AS174 too; a customer of its own is added: only
	// the paths through AS945 or the new customer are verified again.
	aspas := append([]rov.ASPA(nil), e.ASPAs...)
	for i := range aspas {
		if aspas[i].CustomerASID == 945 {
			aspas[i].Providers = append(append([]uint32(nil), aspas[i].Providers...), 174)
		}
	}
	aspas = append(aspas, rov.ASPA{CustomerASID: 3356, Providers: []uint32{0}})
	before := st.ASPAStats().Reverified
	writeExport(t, file, e.VRPs[:50000], aspas)
	if err := feed.loadFile(file, "changed"); err != nil {
		t.Fatal(err)
	}
	reverified := st.ASPAStats().Reverified - before
	total := st.Stats().Paths
	if reverified == 0 || reverified >= total {
		t.Errorf("the change re-verified %d of %d paths; want only those through AS945 or AS3356", reverified, total)
	}
	t.Logf("ASPA change: %d of %d paths re-verified", reverified, total)
	compare("after the change", watchSummary(), aspaCmd())
}

// writeExport writes vrps and aspas as rpki-client JSON.
func writeExport(t *testing.T, path string, vrps []rov.VRP, aspas []rov.ASPA) {
	t.Helper()
	type roa struct {
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		ASN       uint32 `json:"asn"`
		TA        string `json:"ta"`
	}
	type aspa struct {
		Customer  uint32   `json:"customer_asid"`
		Providers []uint32 `json:"providers"`
	}
	var doc struct {
		ROAs  []roa  `json:"roas"`
		ASPAs []aspa `json:"aspas,omitempty"`
	}
	for _, v := range vrps {
		doc.ROAs = append(doc.ROAs, roa{v.Prefix.String(), v.MaxLen, v.ASN, v.TA})
	}
	for _, a := range aspas {
		doc.ASPAs = append(doc.ASPAs, aspa{a.CustomerASID, a.Providers})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
