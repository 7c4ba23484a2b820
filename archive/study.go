package archive

// The one adapter between archive and the study pipeline that analyze runs
// (VRP loading, route reading, classify.Analyze, reports.Build). That
// pipeline lives in package main today (cmd/rovimpact/pipeline.go), which
// cannot be imported, so this file calls the same public steps in the same
// order with analyze's defaults; once the pipeline moves into its own
// package (DESIGN.md: "study ... for every front door: analyze, lookup,
// snapshot, archive"), these three functions become calls to it and nothing
// else in archive changes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// vrpSet is one VRP file loaded and indexed, shared read-only by the units
// that use it.
type vrpSet struct {
	ix  *rov.Index
	sum reports.VRPSummary
}

// loadVRPSet loads a VRP file as analyze --vrps FILE does (expired VRPs
// kept and counted, no SLURM). The build time comes from the exporter's
// metadata, else the file's modification time; AgeSeconds is left for the
// unit to set against its own time.
func loadVRPSet(path string) (*vrpSet, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vrps, st, err := rov.LoadVRPs(f, path, rov.LoadOptions{})
	if err != nil {
		return nil, err
	}
	sum := reports.VRPSummary{
		Loaded: st.Loaded, Read: st.Read, Duplicates: st.Duplicates, IPv4: st.IPv4, IPv6: st.IPv6,
		ByTA: st.ByTA, Files: []string{path},
	}
	for _, v := range vrps {
		if v.ASN == 0 {
			sum.AS0++
		}
	}
	t, from, err := buildTimeOf(path, st.BuildTime)
	if err != nil {
		return nil, err
	}
	sum.BuildTime, sum.BuildTimeFrom = &t, from
	return &vrpSet{ix: rov.NewIndex(vrps), sum: sum}, nil
}

// vrpBuildTime is a VRP file's build time for planning: the loader's
// metadata (rov.LoadStats.BuildTime, so the file is read by the one
// loader, not re-parsed here), else the modification time.
func vrpBuildTime(path string) (time.Time, string, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return time.Time{}, "", err
	}
	defer f.Close()
	_, st, err := rov.LoadVRPs(f, path, rov.LoadOptions{})
	if err != nil {
		return time.Time{}, "", err
	}
	return buildTimeOf(path, st.BuildTime)
}

func buildTimeOf(path string, meta time.Time) (time.Time, string, error) {
	if !meta.IsZero() {
		return meta.UTC(), "metadata", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, "", err
	}
	return fi.ModTime().UTC().Truncate(time.Second), "file_mtime", nil
}

// unitResult is a unit's study: the report analyze would write with
// --per-peer, and the damage of its inputs.
type unitResult struct {
	report  reports.Report
	damaged []reports.Input // inputs with a Loss
}

// studyUnit reads the unit's RIB and updates into a table in the order
// given (table.IngestOptions.ReplayAll when there is more than one file,
// as analyze does) and analyses it against set with analyze's default
// policy (AS_SET routes invalid, the default route not a cover). The
// VRP set's age is taken at the unit's time, not the wall clock.
func studyUnit(ctx context.Context, u Unit, set *vrpSet) (unitResult, error) {
	files := append([]string{u.RIB}, u.Updates...)
	t := table.New()
	in := table.NewIngester(t, table.IngestOptions{ReplayAll: len(files) > 1})
	var res unitResult
	var inputs []reports.Input
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		input, err := readInput(in, name)
		if err != nil {
			return res, err
		}
		if input.Loss != nil {
			res.damaged = append(res.damaged, input)
		}
		inputs = append(inputs, input)
	}
	in.Finish()
	pol, err := classify.ParseASSetPolicy("invalid") // analyze's --as-set default
	if err != nil {
		return res, err
	}
	opt := classify.Options{ASSet: pol}
	sum := set.sum
	if sum.BuildTime != nil && u.Time != nil {
		sum.AgeSeconds = int64(u.Time.Sub(*sum.BuildTime) / time.Second)
	}
	a := classify.Analyze(t, set.ix, opt)
	res.report = reports.Build(a, reports.Meta{
		Policy:  reports.Policy{ASSet: opt.ASSet.String()},
		VRPs:    sum,
		Inputs:  inputs,
		Skipped: in.Skipped,
		PerPeer: true,
	})
	return res, nil
}

// readInput reads one route file into the ingester. Damage in the data (a
// cut, a checksum mismatch, corrupt records skipped) is returned as the
// Input's Loss, from the reader's own *mrt.InputError; a file that cannot
// be opened or read at all is an error.
func readInput(in *table.Ingester, name string) (reports.Input, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, err
	}
	defer f.Close()
	src, err := mrt.NewSource(f, name)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return reports.Input{Name: name, Error: err.Error(),
				Loss: &reports.Loss{Kind: reports.LossTruncated, Record: 1, Error: err.Error()}}, nil
		}
		return reports.Input{}, err
	}
	rerr := in.Read(src)
	st := src.Stats()
	input := reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped}
	corrupt := st.Skipped["corrupt"] + st.Skipped["resync"]
	var ie *mrt.InputError
	switch {
	case rerr == nil && corrupt == 0:
		return input, nil
	case rerr == nil:
		p := st.Problems[0]
		input.Loss = &reports.Loss{Kind: reports.LossCorrupt, Records: st.Records, Routes: st.Routes,
			CorruptRecords: corrupt, Record: p.Record, Offset: p.Offset, Error: p.Err}
	case errors.As(rerr, &ie):
		kind := reports.LossCorrupt
		if ie.Damage == mrt.Truncated {
			kind = reports.LossTruncated
		}
		input.Loss = &reports.Loss{Kind: kind, Record: ie.Record, Offset: ie.Offset, Records: ie.Records,
			Routes: ie.Routes, CorruptRecords: corrupt, Error: rerr.Error()}
		if ie.CompressedOffset >= 0 && ie.Unread > 0 {
			input.Loss.CompressedOffset, input.Loss.CompressedUnread = ie.CompressedOffset, ie.Unread
		}
	default:
		return input, fmt.Errorf("reading %s: %w", name, rerr)
	}
	input.Error = input.Loss.Error
	return input, nil
}

// sniff tells a file's kind and first record time from its content, for
// files whose names do not say: '{' starts a JSON VRP export; otherwise the
// first route event of the MRT (or bgpdump text) decides: a RIB entry or an
// update.
func sniff(path string) (Kind, time.Time, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	defer f.Close()
	var head [512]byte
	n, _ := io.ReadFull(f, head[:])
	for _, c := range head[:n] {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if c == '{' {
			return KindVRPs, time.Time{}, nil
		}
		break
	}
	g, err := compressed.Open(path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	defer g.Close()
	src, err := mrt.NewSource(g, path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	// Bounded: a file of records without routes is not a RIB or updates.
	for i := 0; i < 1<<20 && src.Next(); i++ {
		r := src.Route()
		if r.Time.IsZero() {
			continue
		}
		if r.FromUpdate {
			return KindUpdates, r.Time.UTC(), nil
		}
		return KindRIB, r.Time.UTC(), nil
	}
	if err := src.Err(); err != nil {
		return KindUnknown, time.Time{}, fmt.Errorf("no route event before: %w", err)
	}
	return KindUnknown, time.Time{}, fmt.Errorf("%s: no route event in the first records: not a RIB or updates file", path)
}
