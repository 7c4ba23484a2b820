package study

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// RunASPA is rovimpact aspa's pipeline: the VRPs and ASPAs of c.VRP read
// in one pass and checked, the ASPAs past their expiry counted (dropped
// with c.VRP.DropExpired), the routes and updates replayed through the
// ASPA builder with roles, then the analysis and its report. partial is
// PartialInput's verdict on the route files (the report is whole either
// way); err stops the run. Warnings go to c.Warn.
func RunASPA(ctx context.Context, c Config, roles classify.RoleMap) (rep reports.ASPAReport, partial, err error) {
	st, err := RunASPAStudy(ctx, c, roles)
	return st.Report, st.Partial, err
}

// ASPAStudy is RunASPAStudy's result: the ASPA report, and the ROV
// analysis of the same table with its report metadata (for the HTML
// report's route tables, and analyze --aspa).
type ASPAStudy struct {
	Report   reports.ASPAReport
	Analysis *classify.Analysis
	Meta     reports.Meta
	// Partial is PartialInput's verdict on the route files.
	Partial error
}

// ROVReport builds the ROV report of the study's table (generated gen).
func (st ASPAStudy) ROVReport(gen reports.Generation) reports.Report {
	m := st.Meta
	m.Generated = gen
	return reports.Build(st.Analysis, m)
}

// RunASPAStudy is RunASPA keeping the ROV analysis.
func RunASPAStudy(ctx context.Context, c Config, roles classify.RoleMap) (st ASPAStudy, err error) {
	if _, err := c.Analysis.Classify(); err != nil {
		return st, err
	}
	var files []ASPAFile
	vopt := c.VRP
	vopt.ASPAs = &files
	ix, vrpSum, err := LoadVRPs(vopt, c.Now, c.Warn)
	if err != nil {
		return st, err
	}
	if err := CheckVRPs(vopt, vrpSum, c.Warn); err != nil {
		return st, err
	}
	return VerifyASPA(ctx, c, ix, vrpSum, files, roles)
}

// VerifyASPA is RunASPAStudy once the VRPs are loaded (ix, with its
// summary) and their files' ASPAs collected (files, VRPOptions.ASPAs):
// the ASPAs past their expiry counted (dropped with c.VRP.DropExpired),
// the routes replayed through the ASPA builder with roles, the ROV
// analysis of that table and the ASPA report. analyze --aspa calls it
// after its own study, with the index it loaded. No ASPA is an error.
func VerifyASPA(ctx context.Context, c Config, ix *rov.Index, vrpSum reports.VRPSummary, files []ASPAFile, roles classify.RoleMap) (st ASPAStudy, err error) {
	copt, err := c.Analysis.Classify()
	if err != nil {
		return st, err
	}
	aspas, expired := ExpireASPAs(files, c.VRP.DropExpired, c.Now, c.Warn)
	if len(aspas) == 0 {
		return st, fmt.Errorf("ASPAs: %s hold no ASPA (rpki-client or Routinator JSON \"aspas\"): nothing to verify", strings.Join(c.VRP.Files, ", "))
	}
	set := rov.NewASPASet(aspas)
	peers, err := ParsePeers(c.Route.Peers)
	if err != nil {
		return st, err
	}
	t := table.New()
	b := classify.NewASPABuilder(t, set, &roles)
	inputs, err := ReplayASPA(ctx, append(append([]string(nil), c.Routes...), c.Route.Updates...), &roles, b, c.Warn, ASPAPeerFilter{Values: c.Route.Peers, Matches: peers})
	if err != nil {
		return st, err
	}
	partial := PartialInput(inputs, c.Route.AllowPartial, c.Warn)
	if t.Paths() == 0 {
		fmt.Fprintf(c.Warn, "rovimpact: warning: no paths were read from %s: nothing was verified\n", strings.Join(c.Routes, ", "))
	}
	a := classify.Analyze(t, ix, copt)
	im := classify.AnalyzeASPA(a, b.Tally())
	meta := reports.Meta{Policy: c.Analysis.Policy(copt, c.Route.Peers), VRPs: vrpSum, Inputs: inputs}
	rep := reports.BuildASPA(a, im, b.Tally(), reports.ASPAInput{Set: set, Expired: expired, Roles: roles, Meta: meta})
	return ASPAStudy{Report: rep, Analysis: a, Meta: meta, Partial: partial}, nil
}

// LoadASPASet reads only the ASPAs of the --vrps files (their ROAs are
// scanned, not decoded: rov.LoadOptions.ASPAsOnly), counts the expired
// ones (dropped with opt.DropExpired) and builds the U-SPAS set. For
// callers that verify AS paths without routes (aspa --path, lookup of an
// AS path): no VRP index is built and the VRP guards do not apply, since
// no route is validated. No ASPA at all is an error.
func LoadASPASet(opt VRPOptions, now time.Time, warn io.Writer) (*rov.ASPASet, int, error) {
	if len(opt.Files) == 0 {
		return nil, 0, Usagef("--vrps FILE is required")
	}
	var files []ASPAFile
	for _, name := range opt.Files {
		e, err := LoadExportFile(name, rov.LoadOptions{Now: now, DropExpired: opt.DropExpired, ASPAsOnly: true})
		if err != nil {
			return nil, 0, err
		}
		files = append(files, ASPAFile{Name: name, ASPAs: e.ASPAs})
	}
	aspas, expired := ExpireASPAs(files, opt.DropExpired, now, warn)
	if len(aspas) == 0 {
		return nil, 0, fmt.Errorf("ASPAs: %s hold no ASPA (rpki-client or Routinator JSON \"aspas\"): nothing to verify", strings.Join(opt.Files, ", "))
	}
	return rov.NewASPASet(aspas), expired, nil
}

// LoadExportFile reads one VRP file (compressed or not) with its ASPAs;
// LoadVRPFile is the same read keeping only the VRPs. watch's VRP feed
// and the aspa study read files through it.
func LoadExportFile(name string, opt rov.LoadOptions) (rov.Export, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return rov.Export{}, err
	}
	defer f.Close()
	return rov.LoadExport(f, name, opt)
}

// ASPAFile is the ASPAs one VRP file held (VRPOptions.ASPAs collects them
// while LoadVRPs reads the file, so rovimpact aspa reads each file once).
type ASPAFile struct {
	Name  string
	ASPAs []rov.ASPA
}

// loadVRPFileASPAs is loadVRPFile that also keeps the file's ASPAs when
// sink is set, so that rovimpact aspa reads each file once.
func loadVRPFileASPAs(name string, opt rov.LoadOptions, sink *[]ASPAFile) ([]rov.VRP, rov.LoadStats, error) {
	if sink == nil {
		return LoadVRPFile(name, opt)
	}
	e, err := LoadExportFile(name, opt)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	*sink = append(*sink, ASPAFile{Name: name, ASPAs: e.ASPAs})
	return e.VRPs, e.Stats, nil
}

// ExpireASPAs keeps the ASPAs of the files, counting the expired ones and
// dropping them with --drop-expired, as LoadVRPs does for VRPs.
func ExpireASPAs(files []ASPAFile, drop bool, now time.Time, warn io.Writer) ([]rov.ASPA, int) {
	var out []rov.ASPA
	expired := 0
	for _, af := range files {
		n := 0
		for _, a := range af.ASPAs {
			if a.Expires != 0 && a.Expires < now.Unix() {
				n++
				if drop {
					continue
				}
			}
			out = append(out, a)
		}
		if n > 0 {
			verb := "kept (use --drop-expired to drop them)"
			if drop {
				verb = "dropped"
			}
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d of %d ASPAs expired before %s: %s\n", af.Name, n, len(af.ASPAs), now.UTC().Format(time.DateOnly), verb)
		}
		expired += n
	}
	return out, expired
}

// ReplayASPA replays the route files into an mrt.RIB (which interns AS
// paths), then hands every held path to b. A RIB dump in a later file adds
// to the peers' tables rather than resetting them (mrt.RIB's rule, unlike
// analyze's table.IngestOptions.ReplayAll): that is warned about.
//
// With filter set (--peer), only the paths of matching peers are handed to
// b; a --peer value that matches no peer of the files is a usage error
// naming the peers seen, as for analyze.
func ReplayASPA(ctx context.Context, files []string, roles *classify.RoleMap, b *classify.ASPABuilder, warn io.Writer, filter ASPAPeerFilter) ([]reports.Input, error) {
	rib := mrt.NewRIB()
	var census classify.FirstASCensus
	var inputs []reports.Input
	for i, name := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, ribEntries, err := replayFile(rib, name, &census, nil)
		if err != nil {
			return nil, err
		}
		if i > 0 && ribEntries > 0 {
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d RIB dump entries of peers an earlier file listed are added to their tables, which are not reset (paths the dump no longer lists stay)\n", name, ribEntries)
		}
		inputs = append(inputs, in)
	}
	for _, p := range roles.InferIBGP(&census) {
		fmt.Fprintf(warn, "rovimpact: note: peer AS%d %s: none of its %d paths starts with AS%d: an iBGP feed or a transparent route server; verified as ibgp (upstream, no first-AS check); --peer-role overrides\n",
			p.Peer.AS, p.Peer.IP, p.Paths, p.Peer.AS)
	}
	peers := rib.Peers()
	keep := make([]bool, len(peers))
	matched := make([]bool, len(filter.Matches))
	for i, p := range peers {
		keep[i] = len(filter.Matches) == 0
		for j, m := range filter.Matches {
			if m.Matches(p) {
				keep[i], matched[j] = true, true
			}
		}
	}
	var bad []string
	for j, ok := range matched {
		if !ok {
			bad = append(bad, "--peer "+filter.Values[j])
		}
	}
	if len(bad) > 0 {
		seen := make([]string, 0, min(len(peers), maxPeersListed))
		for _, p := range peers[:min(len(peers), maxPeersListed)] {
			seen = append(seen, strings.TrimSpace(rov.FormatASN(p.AS)+" "+addrText(p.IP)))
		}
		if len(peers) == 0 {
			return nil, Usagef("%s matches no peer of the route files; they hold no routes", strings.Join(bad, ", "))
		}
		return nil, Usagef("%s matches no peer of the route files; peers seen (%s of %d): %s", strings.Join(bad, ", "),
			strconv.Itoa(len(seen)), len(peers), strings.Join(seen, ", "))
	}
	for r := range rib.All() {
		if !keep[r.Peer.Index] {
			continue
		}
		p := peers[r.Peer.Index]
		b.Add(r.Prefix, route.PeerKey{AS: p.AS, IP: p.IP}, r.Path)
	}
	return inputs, nil
}

// ASPAPeerFilter is --peer for ReplayASPA: the values as typed (for the
// error) and their parsed matches, in the same order. Empty: every peer.
type ASPAPeerFilter struct {
	Values  []string
	Matches []table.PeerMatch
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// replayFile replays one route file into rib, counting every announced
// path in census; with keep set, only the events of prefixes keep accepts
// reach rib (lookup's few prefixes: the RIB stays small).
func replayFile(rib *mrt.RIB, name string, census *classify.FirstASCensus, keep func(netip.Prefix) bool) (reports.Input, int64, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, 0, err
	}
	defer f.Close()
	data := &countingReader{r: f}
	src, err := routefile.NewSource(data, name)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && !isSystemError(err) {
			return reports.Input{Name: name, Error: err.Error(), Loss: inputLoss(route.Stats{}, err, data.n, false)}, 0, nil
		}
		return reports.Input{}, 0, err
	}
	var ribEntries int64
	// Peers the RIB held before this file: a RIB dump entry of theirs is
	// where mrt.RIB's rule (add) and a reset differ.
	before := map[route.PeerKey]bool{}
	for _, p := range rib.Peers() {
		before[p] = true
	}
	for src.Next() {
		r := src.Route()
		if r.Kind == route.Announce && r.Peer.AS == 0 && !r.Peer.IP.IsValid() {
			// "prefix origin" text lines: an origin, no AS path and no
			// neighbour. Verifying [origin] would call every path valid.
			return reports.Input{}, 0, fmt.Errorf("%s: record %d: a route without a peer or AS path (\"prefix origin\" lines?): %w", name, src.Stats().Records, errNoASPath)
		}
		if !r.FromUpdate && len(before) > 0 && before[route.KeyOf(r.Peer)] {
			ribEntries++
		}
		if r.Kind == route.Announce {
			census.Add(route.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}, r.Path)
		}
		if keep != nil && !keep(r.Prefix) {
			continue
		}
		rib.Apply(r, route.KeyOf(r.Peer))
	}
	rerr := src.Err()
	st := src.Stats()
	input := reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped}
	if rerr != nil && isSystemError(rerr) {
		return input, 0, rerr
	}
	var rest int64
	if rerr != nil {
		rest, _ = io.Copy(io.Discard, io.LimitReader(f, maxDrain))
		input.Error = rerr.Error()
	}
	input.Loss = inputLoss(st, rerr, data.n+rest, rest == maxDrain)
	return input, ribEntries, nil
}

// errNoASPath is a route file of "prefix origin" lines: no AS path to
// verify.
var errNoASPath = errors.New("ASPA verification needs the AS paths of MRT files or bgpdump -m lines")

// ParseRoles reads --peer-role values and the --peer-roles file into a
// RoleMap (default: peer).
func ParseRoles(vals []string, file string) (classify.RoleMap, error) {
	m := classify.RoleMap{ByIP: map[netip.Addr]rov.PeerRole{}, ByAS: map[uint32]rov.PeerRole{}, Default: rov.RolePeer}
	add := func(where, key, role string) error {
		r, err := rov.ParsePeerRole(strings.TrimSpace(role))
		if err != nil {
			return Usagef("%s: %v", where, err)
		}
		key = strings.TrimSpace(key)
		if ip, err := netip.ParseAddr(key); err == nil {
			m.ByIP[ip.Unmap()] = r
			return nil
		}
		n, err := rov.ParseASN(key)
		if err != nil || n == 0 {
			return Usagef("%s: %q: want an AS number (64500, AS64500) or an IP address", where, key)
		}
		m.ByAS[n] = r
		return nil
	}
	for _, v := range vals {
		k, r, ok := strings.Cut(v, "=")
		if !ok {
			return m, Usagef("--peer-role %q: want AS|IP=ROLE", v)
		}
		if err := add("--peer-role "+v, k, r); err != nil {
			return m, err
		}
	}
	if file == "" {
		return m, nil
	}
	f, err := compressed.Open(file)
	if err != nil {
		return m, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comment, cr.FieldsPerRecord, cr.TrimLeadingSpace = '#', -1, true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return m, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return m, fmt.Errorf("%s: %w", file, err)
		}
		if len(rec) != 2 {
			return m, fmt.Errorf("%s: line %d: %d fields, want AS|IP,ROLE", file, line, len(rec))
		}
		if err := add(fmt.Sprintf("%s: line %d", file, line), rec[0], rec[1]); err != nil {
			return m, err
		}
	}
}

// AnalyzeASPA is analyze --aspa: the ASPA report of the routes of c
// (whose VRP.ASPAs collected the files' ASPAs while Run read its VRPs),
// verified against Run's VRP index ix (vrpSum its summary), with the
// roles given. Warnings about the ASPAs go to c.Warn; those about the
// route files were given by Run's own read of them (the second replay
// says nothing twice). It needs only the index: the caller can let Run's
// table go first.
func AnalyzeASPA(ctx context.Context, c Config, ix *rov.Index, vrpSum reports.VRPSummary, roles classify.RoleMap) (reports.ASPAReport, error) {
	var files []ASPAFile
	if c.VRP.ASPAs != nil {
		files = *c.VRP.ASPAs
	}
	if aspas, _ := ExpireASPAs(files, c.VRP.DropExpired, c.Now, c.Warn); len(aspas) == 0 {
		return reports.ASPAReport{}, fmt.Errorf("--aspa: %s hold no ASPA (rpki-client or Routinator JSON \"aspas\"): nothing to verify", strings.Join(c.VRP.Files, ", "))
	}
	quiet := c
	quiet.Warn = io.Discard
	quiet.Route.AllowPartial = true
	ast, err := VerifyASPA(ctx, quiet, ix, vrpSum, files, roles)
	return ast.Report, err
}
