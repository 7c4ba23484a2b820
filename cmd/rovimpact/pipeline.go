package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/table"
)

// vrpOptions are the flags every command that loads VRPs shares.
type vrpOptions struct {
	files       []string
	slurm       []string
	dropExpired bool
	// allowEmpty and maxAge are the guards of checkVRPs (analyze,
	// snapshot).
	allowEmpty bool
	maxAge     time.Duration
	// aspas, when set, receives the files' ASPAs, read in the same pass
	// as their VRPs (rovimpact aspa).
	aspas *[]aspaFile
}

// loadVRPs reads, merges and SLURM-filters the VRP files and builds the
// index: the VRP half of the shared pipeline (../shared/DESIGN.md).
func loadVRPs(opt vrpOptions, now time.Time, warn io.Writer) (*rov.Index, reports.VRPSummary, error) {
	sum := reports.VRPSummary{ByTA: map[string]int{}, Files: opt.files}
	if len(opt.files) == 0 {
		return nil, sum, usageError("--vrps FILE is required")
	}
	var sets [][]rov.VRP
	for _, name := range opt.files {
		vrps, st, err := loadVRPFileASPAs(name, rov.LoadOptions{Now: now, DropExpired: opt.dropExpired}, opt.aspas)
		if err != nil {
			return nil, sum, err
		}
		noteBuildTime(&sum, name, st.BuildTime)
		sum.Read += st.Read
		sum.Duplicates += st.Duplicates
		sum.Expired += st.Expired
		sum.DroppedExpired += st.DroppedExpired
		if st.Expired > 0 && warn != nil {
			verb := "kept (use --drop-expired to drop them)"
			if opt.dropExpired {
				verb = "dropped"
			}
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d of %d VRPs expired before %s: %s\n", name, st.Expired, st.Read, now.UTC().Format(time.DateOnly), verb)
		}
		sets = append(sets, vrps)
	}
	vrps := rov.MergeVRPs(sets...)
	if len(opt.slurm) > 0 {
		var files []*rov.SLURM
		for _, name := range opt.slurm {
			s, err := loadSLURMFile(name)
			if err != nil {
				return nil, sum, err
			}
			files = append(files, s)
		}
		merged, err := rov.MergeSLURM(files...)
		if err != nil {
			return nil, sum, err
		}
		var st rov.SLURMStats
		vrps, st = merged.Apply(vrps)
		sum.SLURMRemoved, sum.SLURMAdded = st.Removed, st.Added
		if st.BGPsecIgnored > 0 && warn != nil {
			fmt.Fprintf(warn, "rovimpact: note: %d SLURM BGPsec entries ignored (rovimpact validates origins only)\n", st.BGPsecIgnored)
		}
	}
	for _, v := range vrps {
		if v.Prefix.Addr().Is4() {
			sum.IPv4++
		} else {
			sum.IPv6++
		}
		if v.ASN == 0 {
			sum.AS0++
		}
		sum.ByTA[v.TA]++
	}
	sum.Loaded = len(vrps)
	if sum.BuildTime != nil {
		sum.AgeSeconds = int64(now.Sub(*sum.BuildTime) / time.Second)
	}
	return rov.NewIndex(vrps), sum, nil
}

// noteBuildTime folds one file's build time into the set's: the
// exporter's metadata, else the file's modification time (stdin has
// none). The set is as old as its oldest file.
func noteBuildTime(sum *reports.VRPSummary, name string, meta time.Time) {
	t, from := meta, "metadata"
	if t.IsZero() {
		if name == "-" {
			return
		}
		fi, err := os.Stat(name)
		if err != nil {
			return
		}
		t, from = fi.ModTime().UTC().Truncate(time.Second), "file_mtime"
	}
	if sum.BuildTime == nil || t.Before(*sum.BuildTime) {
		sum.BuildTime, sum.BuildTimeFrom = &t, from
	}
}

// checkVRPs refuses a VRP set that cannot give a true answer: an empty one
// makes every route not_found, so nothing would be dropped and a nightly
// diff calls every invalid resolved; a stale one answers for a past
// Internet. --allow-empty-vrps turns the first into a warning.
func checkVRPs(opt vrpOptions, sum reports.VRPSummary, warn io.Writer) error {
	if sum.Loaded == 0 {
		msg := fmt.Sprintf("VRPs: no VRPs left after loading, expiry and SLURM (%s: %d read, %d duplicates, %d expired and dropped, %d removed by SLURM): every route would be not_found",
			strings.Join(sum.Files, ", "), sum.Read, sum.Duplicates, sum.DroppedExpired, sum.SLURMRemoved)
		if !opt.allowEmpty {
			return fmt.Errorf("%s (--allow-empty-vrps to analyse anyway)", msg)
		}
		fmt.Fprintf(warn, "rovimpact: warning: %s (--allow-empty-vrps)\n", msg)
	}
	if opt.maxAge <= 0 {
		return nil
	}
	if sum.BuildTime == nil {
		return fmt.Errorf("VRPs: --max-vrp-age %s: the build time of %s is unknown (no exporter metadata, no file time)", opt.maxAge, strings.Join(sum.Files, ", "))
	}
	if age := time.Duration(sum.AgeSeconds) * time.Second; age > opt.maxAge {
		return fmt.Errorf("VRPs: %s %s, more than --max-vrp-age %s", strings.Join(sum.Files, ", "), reports.VRPAge(sum), opt.maxAge)
	}
	return nil
}

func loadVRPFile(name string, opt rov.LoadOptions) ([]rov.VRP, rov.LoadStats, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	defer f.Close()
	return rov.LoadVRPs(f, name, opt)
}

func loadSLURMFile(name string) (*rov.SLURM, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return rov.LoadSLURM(f, name)
}

// routeOptions are the flags every command that reads routes shares.
type routeOptions struct {
	updates []string
	peers   []string
	// allowPartial accepts route files that ended early or were corrupt
	// (exit 0 instead of 4; the loss is reported either way).
	allowPartial bool
}

// parsePeers turns --peer values (an AS number, "AS64500", or an IP) into
// matches.
func parsePeers(vals []string) ([]table.PeerMatch, error) {
	var out []table.PeerMatch
	for _, v := range vals {
		if ip, err := netip.ParseAddr(v); err == nil {
			out = append(out, table.PeerMatch{IP: ip})
			continue
		}
		n, err := rov.ParseASN(v)
		if err != nil || n == 0 {
			return nil, usageError("--peer %q: want an AS number (64500, AS64500 or as64500) or an IP address", v)
		}
		out = append(out, table.PeerMatch{AS: n})
	}
	return out, nil
}

// readRoutes fills a table from route files (MRT or text, any compression):
// the route half of the shared pipeline. A truncated file is reported in its
// Input row and does not stop the study: every complete record was used.
func readRoutes(ctx context.Context, files []string, opt routeOptions, prog progressFunc) (*table.Table, []reports.Input, map[string]int64, error) {
	peers, err := parsePeers(opt.peers)
	if err != nil {
		return nil, nil, nil, err
	}
	t := table.New()
	// Files are replayed in the order given, RIBs and updates alike (a RIB
	// sets its peers' tables as of its time, updates apply on top; see
	// table.IngestOptions.ReplayAll). One file needs no replay of its RIB
	// entries, which is much cheaper on a full table.
	all := append(append([]string(nil), files...), opt.updates...)
	in := table.NewIngester(t, table.IngestOptions{Peers: peers, ReplayAll: len(all) > 1})
	var inputs []reports.Input
	for _, name := range all {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		input, err := readRouteFile(in, name, prog)
		if err != nil {
			return nil, nil, nil, err
		}
		inputs = append(inputs, input)
	}
	in.Finish()
	if err := checkPeerFilter(opt.peers, in); err != nil {
		return nil, nil, nil, err
	}
	return t, inputs, in.Skipped, nil
}

func readRouteFile(in *table.Ingester, name string, prog progressFunc) (reports.Input, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, err
	}
	defer f.Close()
	data := &countingReader{r: f}
	src, err := mrt.NewSource(data, name)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && !isSystemError(err) {
			// Cut before its first record could be decoded (a
			// compressed file cut inside its first block): nothing
			// read, which is partial input too.
			return reports.Input{Name: name, Error: err.Error(), Loss: inputLoss(mrt.Stats{}, err, data.n, false)}, nil
		}
		return reports.Input{}, err
	}
	stop := prog(name, f, in)
	rerr := in.Read(src)
	stop()
	st := src.Stats()
	input := reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped}
	if rerr != nil && isSystemError(rerr) {
		return input, rerr // the file could not be read: not a damaged file
	}
	var rest int64
	if rerr != nil {
		// The rest of the data, to tell how much of the file was not
		// used; bounded, since a reader stopping early is no promise
		// that the data is small.
		rest, _ = io.Copy(io.Discard, io.LimitReader(f, maxDrain))
	}
	input.Loss = inputLoss(st, rerr, data.n+rest, rest == maxDrain)
	if rerr != nil {
		input.Error = rerr.Error()
	}
	return input, nil
}

// maxDrain bounds the decompressed bytes read past damage only to count
// them.
const maxDrain = 1 << 30

// countingReader counts the bytes a Source took from the decompressed
// stream.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// isSystemError tells an operating-system failure to read the file (the
// disk, permissions) from damage in the data.
func isSystemError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
}

// locatedError is what a reader's error can say about where the damage
// is; an error that does not implement it is located from its text.
type locatedError interface {
	error
	Record() int64
	Offset() int64
}

// errLocation finds "record 17 at offset 3464" (mrt.Reader) or "line 5
// (offset 100)" (mrt.TextReader) in a reader's error.
var errLocation = regexp.MustCompile(`(?:record|line) (\d+) (?:at offset|\(offset) (\d+)`)

// inputLoss is the adapter between what the readers report about damage
// and reports.Loss: the error that stopped the Source (wrapping
// io.ErrUnexpectedEOF when the data ended inside a record or the
// decompressor saw the stream cut; anything else, such as a bzip2 or gzip
// checksum mismatch, is corruption) and Stats (corrupt records skipped
// with the framing intact). total is the decompressed data available,
// read or not; atLeast says it is a lower bound. Nil for a whole file.
func inputLoss(st mrt.Stats, rerr error, total int64, atLeast bool) *reports.Loss {
	// Damage the reader recovered from (a corrupt record in a sound frame,
	// framing regained by resynchronising) is still lost data.
	corrupt := st.Skipped["corrupt"] + st.Skipped["resync"]
	if rerr == nil && corrupt == 0 {
		return nil
	}
	l := &reports.Loss{Kind: reports.LossCorrupt, Records: st.Records, Routes: st.Routes, CorruptRecords: corrupt}
	if rerr == nil {
		p := st.Problems[0]
		l.Record, l.Offset, l.Error = p.Record, p.Offset, p.Err
		return l
	}
	l.Error = rerr.Error()
	if errors.Is(rerr, io.ErrUnexpectedEOF) {
		l.Kind = reports.LossTruncated
	}
	var ie *mrt.InputError
	var le locatedError
	if errors.As(rerr, &ie) {
		// The reader classified the damage itself: a cut or a
		// contradiction (a bzip2 block CRC, a gzip checksum, a record that
		// does not decode), and where the decompressor found it.
		l.Kind = reports.LossCorrupt
		if ie.Damage == mrt.Truncated {
			l.Kind = reports.LossTruncated
		}
		l.Record, l.Offset = ie.Record, ie.Offset
		if ie.CompressedOffset >= 0 && ie.Unread > 0 {
			l.CompressedOffset, l.CompressedUnread = ie.CompressedOffset, ie.Unread
		}
	} else if errors.As(rerr, &le) {
		l.Record, l.Offset = le.Record(), le.Offset()
	} else if m := errLocation.FindStringSubmatch(rerr.Error()); m != nil {
		l.Record, _ = strconv.ParseInt(m[1], 10, 64)
		l.Offset, _ = strconv.ParseInt(m[2], 10, 64)
	} else {
		l.Offset = st.Bytes
	}
	// A record that was never completed is not counted as read.
	if l.Records >= l.Record && l.Record > 0 {
		l.Records = l.Record - 1
	}
	if total > l.Offset {
		l.BytesUnread = total - l.Offset
		l.UnreadShare = float64(l.BytesUnread) / float64(total)
		l.UnreadAtLeast = atLeast
	}
	return l
}

// partialInput writes the loss of every damaged input on stderr, as soon
// as it is known, and returns the exit-4 error the command returns once
// its reports are written; nil when nothing was lost or --allow-partial.
func partialInput(inputs []reports.Input, allow bool, warn io.Writer) error {
	n := 0
	for _, in := range inputs {
		if l := reports.LossOf(in); l != nil {
			n++
			fmt.Fprintf(warn, "rovimpact: partial input: %s\n", l.Describe(in.Name))
		}
	}
	if n == 0 || allow {
		return nil
	}
	return partialError("%d of %d route files ended early or were corrupt: the results cover only what was read (--allow-partial to accept that)", n, len(inputs))
}

// analysisOptions are the flags that shape validation and impact.
type analysisOptions struct {
	asSet        string
	localAS      uint32
	countDefault bool
}

func (o analysisOptions) classify() (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(o.asSet)
	if err != nil {
		return classify.Options{}, usageError("--as-set: %v", err)
	}
	return classify.Options{ASSet: pol, LocalAS: o.localAS, Impact: classify.ImpactOptions{CountDefault: o.countDefault}}, nil
}

// progressFunc starts a progress line for one input file and returns the
// function that ends it.
type progressFunc func(name string, f *compressed.File, in *table.Ingester) (stop func())

// newProgress reports progress on w only when w is a terminal: an operator
// watching a full table load sees it move; cron's mail stays clean.
func newProgress(w io.Writer) progressFunc {
	enabled := false
	if f, ok := w.(*os.File); ok {
		enabled = progress.IsTerminal(f)
	}
	return func(name string, f *compressed.File, in *table.Ingester) func() {
		return progress.Start(w, enabled, filepath.Base(name), "routes", func() progress.Sample {
			return progress.Sample{Done: f.Pos(), Total: f.Size(), Items: in.Events()}
		})
	}
}

// study is what analyze and snapshot share: the analysis of the route files
// against the VRPs, the metadata a report or snapshot carries, and the
// source files as they were before being read.
type study struct {
	analysis *classify.Analysis
	meta     reports.Meta
	sources  []snapshot.Source
	// partial is the exit-4 error to return once every report is
	// written (see partialInput); nil for whole input.
	partial error
}

// runStudy loads the VRPs, reads the route files (none: an empty table) and
// analyses them. Sources are recorded before they are read, so a file
// replaced while the analysis runs makes a snapshot look stale, not current.
func runStudy(ctx context.Context, vrp vrpOptions, route routeOptions, analysis analysisOptions, files []string, now time.Time, stderr io.Writer) (study, error) {
	copt, err := analysis.classify()
	if err != nil {
		return study{}, err
	}
	sources := snapshotSources(vrp, files, route)
	ix, vrpSum, err := loadVRPs(vrp, now, stderr)
	if err != nil {
		return study{}, err
	}
	if err := checkVRPs(vrp, vrpSum, stderr); err != nil {
		return study{}, err
	}
	t := table.New()
	var inputs []reports.Input
	var skipped map[string]int64
	if len(files) > 0 || len(route.updates) > 0 {
		if t, inputs, skipped, err = readRoutes(ctx, files, route, newProgress(stderr)); err != nil {
			return study{}, err
		}
	}
	return study{
		partial:  partialInput(inputs, route.allowPartial, stderr),
		analysis: classify.Analyze(t, ix, copt),
		meta: reports.Meta{
			Policy:  analysis.policy(copt, route.peers),
			VRPs:    vrpSum,
			Inputs:  inputs,
			Skipped: skipped,
		},
		sources: sources,
	}, nil
}

// policy is the report's statement of the options that decide verdicts.
func (o analysisOptions) policy(copt classify.Options, peers []string) reports.Policy {
	return reports.Policy{ASSet: copt.ASSet.String(), CountDefault: o.countDefault, LocalAS: o.localAS, PeerFilter: peers}
}
