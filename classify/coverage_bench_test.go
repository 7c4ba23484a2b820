package classify

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

var fullTable struct {
	once sync.Once
	t    *table.Table
	err  error
}

// pchTable is the PCH full IPv4 table (one peer, ~578k routes) as the
// Ingester builds it: routes in prefix order, as live/ and snapshot/
// tables are too.
func pchTable(b *testing.B) *table.Table {
	b.Helper()
	name := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	fullTable.once.Do(func() {
		f, err := compressed.Open(name)
		if err != nil {
			fullTable.err = err
			return
		}
		defer f.Close()
		src, err := routefile.NewSource(f, name)
		if err != nil {
			fullTable.err = err
			return
		}
		t := table.New()
		in := table.NewIngester(t, table.IngestOptions{})
		if err := in.Read(src); err != nil {
			fullTable.err = err
			return
		}
		in.Finish()
		fullTable.t = t
	})
	if fullTable.err != nil {
		b.Fatal(fullTable.err)
	}
	return fullTable.t
}

// pchVerdicts draws outcomes for t's routes (a third dropped, 0-2 VRPs
// each) as a snapshot or the live table would hand them to Assemble.
func pchVerdicts(t *table.Table) ([]Outcome, [][]uint32) {
	r := rand.New(rand.NewPCG(9, 10))
	outcomes := make([]Outcome, t.Len())
	refs := make([][]uint32, t.Len())
	for id := range outcomes {
		st := rov.State(r.IntN(3))
		outcomes[id] = Outcome{State: st, Dropped: st == rov.Invalid}
		for range r.IntN(3) {
			refs[id] = append(refs[id], uint32(r.IntN(700000)))
		}
	}
	return outcomes, refs
}

// BenchmarkCoverage builds the impact index of the PCH full table:
// NewCoverage on its entries in table order (prefix order) and shuffled
// (the order an unsorted source gives), and Assemble (verdicts taken
// elsewhere, plus NewCoverage) as a lookup from a snapshot runs it.
func BenchmarkCoverage(b *testing.B) {
	t := pchTable(b)
	outcomes, refs := pchVerdicts(t)
	entries := make([]Entry, t.Len())
	for id, r := range t.Routes() {
		entries[id] = Entry{Prefix: r.Prefix, State: outcomes[id].State, Dropped: outcomes[id].Dropped}
	}
	shuffled := slices.Clone(entries)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b.Logf("%d routes", len(entries))
	for _, bc := range []struct {
		name    string
		entries []Entry
	}{{"NewCoverage/prefix-order", entries}, {"NewCoverage/shuffled", shuffled}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NewCoverage(bc.entries, ImpactOptions{})
			}
		})
	}
	b.Run("Assemble", func(b *testing.B) {
		b.ReportAllocs()
		ix := rov.NewIndex(nil)
		outs := make([]Outcome, len(outcomes))
		for b.Loop() {
			copy(outs, outcomes)
			Assemble(t, ix, Options{}, outs, func(id int) []uint32 { return refs[id] })
		}
	})
}
