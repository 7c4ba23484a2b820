package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

func init() { register(newASPACommand) }

type aspaOptions struct {
	vrp       vrpOptions
	route     routeOptions
	analysis  analysisOptions
	roles     []string
	rolesFile string
	top       int
	format    string
	now       func() time.Time
}

func newASPACommand() *cobra.Command {
	opts := aspaOptions{now: clock}
	cmd := &cobra.Command{
		Use:   "aspa --vrps FILE [flags] ROUTES...",
		Short: "Study what ASPA path verification would drop on top of ROV, and what becomes unreachable",
		Long: `aspa verifies the AS_PATH of every path in ROUTES against the ASPAs of the
--vrps files (rpki-client or Routinator JSON "aspas") with the procedures of
draft-ietf-sidrops-aspa-verification-27: upstream for routes from customers,
peers, route servers and RS-clients, downstream for routes from providers.
Each path also gets its route's ROV verdict (RFC 6811), and a route is lost
only when none of its paths survives both filters; what then carries its
traffic is decided as analyze does (same_prefix, covered, more_specifics,
unreachable).

Relationships come from --peer-role AS|IP=ROLE (repeatable; ROLE is
customer, peer, provider, rs or rs-client, seen from your side: "provider"
means the peer is your provider) or --peer-roles FILE (CSV lines
"AS|IP,ROLE"; # comments). Peers not named are verified as peers
(upstream): a route collector is every peer's peer. The report says how
many peers were defaulted. The first AS of a path must be the peer's AS
except from a route server (rs, RFC 7947).

ROUTES are replayed in order (RIB dumps and updates) and every path left at
the end is verified; paths are interned while replaying (mrt.RIB), not
kept per route.

` + exitCodesHelp,
		Example: `  rovimpact aspa --vrps vrps.json rib.bz2
  rovimpact aspa --vrps vrps.json --peer-role 64500=provider --peer-role 192.0.2.1=rs --format json updates.gz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runASPA(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	addVRPFlags(cmd, &opts.vrp)
	addVRPGuardFlags(cmd, &opts.vrp)
	addPartialFlag(cmd, &opts.route)
	addAnalysisFlags(cmd, &opts.analysis)
	f.StringArrayVar(&opts.route.updates, "updates", nil, "update `FILE` replayed after the ROUTES in order (repeatable)")
	f.StringArrayVar(&opts.roles, "peer-role", nil, "a peer's relationship, `AS|IP=ROLE` (customer, peer, provider, rs, rs-client; repeatable)")
	f.StringVar(&opts.rolesFile, "peer-roles", "", "CSV `FILE` of AS|IP,ROLE lines")
	countVar(f, &opts.top, "top", 20, "rows shown in the table output's path list (0: all; JSON always lists all)")
	f.StringVar(&opts.format, "format", "table", "output `format`: table or json")
	return cmd
}

func runASPA(cmd *cobra.Command, opts aspaOptions, args []string) error {
	if err := checkFormat(opts.format, "table", "json"); err != nil {
		return err
	}
	roles, err := parseRoles(opts.roles, opts.rolesFile)
	if err != nil {
		return err
	}
	copt, err := opts.analysis.classify()
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	now := opts.now()
	var files []aspaFile
	opts.vrp.aspas = &files
	ix, vrpSum, err := loadVRPs(opts.vrp, now, stderr)
	if err != nil {
		return err
	}
	if err := checkVRPs(opts.vrp, vrpSum, stderr); err != nil {
		return err
	}
	aspas, expired := expireASPAs(files, opts.vrp.dropExpired, now, stderr)
	if len(aspas) == 0 {
		return fmt.Errorf("ASPAs: %s hold no ASPA (rpki-client or Routinator JSON \"aspas\"): nothing to verify", strings.Join(opts.vrp.files, ", "))
	}
	set := rov.NewASPASet(aspas)
	t := table.New()
	b := classify.NewASPABuilder(t, set, &roles)
	inputs, err := replayASPA(cmd.Context(), append(append([]string(nil), args...), opts.route.updates...), &roles, b, stderr)
	if err != nil {
		return err
	}
	partial := partialInput(inputs, opts.route.allowPartial, stderr)
	if t.Paths() == 0 {
		fmt.Fprintf(stderr, "rovimpact: warning: no paths were read from %s: nothing was verified\n", strings.Join(args, ", "))
	}
	a := classify.Analyze(t, ix, copt)
	im := classify.AnalyzeASPA(a, b.Tally())
	rep := reports.BuildASPA(a, im, b.Tally(), reports.ASPAInput{Set: set, Expired: expired, Roles: roles,
		Meta: reports.Meta{Policy: opts.analysis.policy(copt, nil), VRPs: vrpSum, Inputs: inputs}})
	out := bufio.NewWriter(cmd.OutOrStdout())
	if opts.format == "json" {
		err = reports.WriteASPAJSON(out, rep)
	} else {
		err = reports.WriteASPATable(out, rep, opts.top)
	}
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return worstExit(stderr, partial)
}

// aspaFile is the ASPAs one VRP file held.
type aspaFile struct {
	name  string
	aspas []rov.ASPA
}

// loadVRPFileASPAs is loadVRPFile that also keeps the file's ASPAs when
// sink is set, so that rovimpact aspa reads each file once.
func loadVRPFileASPAs(name string, opt rov.LoadOptions, sink *[]aspaFile) ([]rov.VRP, rov.LoadStats, error) {
	if sink == nil {
		return loadVRPFile(name, opt)
	}
	f, err := compressed.Open(name)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	defer f.Close()
	e, err := rov.LoadExport(f, name, opt)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	*sink = append(*sink, aspaFile{name: name, aspas: e.ASPAs})
	return e.VRPs, e.Stats, nil
}

// expireASPAs keeps the ASPAs of the files, counting the expired ones and
// dropping them with --drop-expired, as loadVRPs does for VRPs.
func expireASPAs(files []aspaFile, drop bool, now time.Time, warn io.Writer) ([]rov.ASPA, int) {
	var out []rov.ASPA
	expired := 0
	for _, af := range files {
		n := 0
		for _, a := range af.aspas {
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
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d of %d ASPAs expired before %s: %s\n", af.name, n, len(af.aspas), now.UTC().Format(time.DateOnly), verb)
		}
		expired += n
	}
	return out, expired
}

// replayASPA replays the route files into an mrt.RIB (which interns AS
// paths), then hands every held path to b. A RIB dump in a later file adds
// to the peers' tables rather than resetting them (mrt.RIB's rule, unlike
// analyze's table.IngestOptions.ReplayAll): that is warned about.
func replayASPA(ctx context.Context, files []string, roles *classify.RoleMap, b *classify.ASPABuilder, warn io.Writer) ([]reports.Input, error) {
	rib := mrt.NewRIB()
	var census classify.FirstASCensus
	var inputs []reports.Input
	for i, name := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, ribEntries, err := replayFile(rib, name, &census)
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
	for r := range rib.All() {
		p := peers[r.Peer.Index]
		b.Add(r.Prefix, table.PeerKey{AS: p.AS, IP: p.IP}, r.Path)
	}
	return inputs, nil
}

func replayFile(rib *mrt.RIB, name string, census *classify.FirstASCensus) (reports.Input, int64, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, 0, err
	}
	defer f.Close()
	data := &countingReader{r: f}
	src, err := mrt.NewSource(data, name)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && !isSystemError(err) {
			return reports.Input{Name: name, Error: err.Error(), Loss: inputLoss(mrt.Stats{}, err, data.n, false)}, 0, nil
		}
		return reports.Input{}, 0, err
	}
	var ribEntries int64
	// Peers the RIB held before this file: a RIB dump entry of theirs is
	// where mrt.RIB's rule (add) and a reset differ.
	before := map[mrt.PeerKey]bool{}
	for _, p := range rib.Peers() {
		before[p] = true
	}
	for src.Next() {
		r := src.Route()
		if r.Kind == mrt.Announce && r.Peer.AS == 0 && !r.Peer.IP.IsValid() {
			// "prefix origin" text lines: an origin, no AS path and no
			// neighbour. Verifying [origin] would call every path valid.
			return reports.Input{}, 0, fmt.Errorf("%s: record %d: a route without a peer or AS path (\"prefix origin\" lines?): ASPA verification needs the AS paths of MRT files or bgpdump -m lines", name, src.Stats().Records)
		}
		if !r.FromUpdate && len(before) > 0 && before[mrt.KeyOf(r.Peer)] {
			ribEntries++
		}
		if r.Kind == mrt.Announce {
			census.Add(table.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}, r.Path)
		}
		rib.Apply(r, mrt.KeyOf(r.Peer))
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

// parseRoles reads --peer-role values and the --peer-roles file into a
// RoleMap (default: peer).
func parseRoles(vals []string, file string) (classify.RoleMap, error) {
	m := classify.RoleMap{ByIP: map[netip.Addr]rov.PeerRole{}, ByAS: map[uint32]rov.PeerRole{}, Default: rov.RolePeer}
	add := func(where, key, role string) error {
		r, err := rov.ParsePeerRole(strings.TrimSpace(role))
		if err != nil {
			return usageError("%s: %v", where, err)
		}
		key = strings.TrimSpace(key)
		if ip, err := netip.ParseAddr(key); err == nil {
			m.ByIP[ip.Unmap()] = r
			return nil
		}
		n, err := rov.ParseASN(key)
		if err != nil || n == 0 {
			return usageError("%s: %q: want an AS number (64500, AS64500) or an IP address", where, key)
		}
		m.ByAS[n] = r
		return nil
	}
	for _, v := range vals {
		k, r, ok := strings.Cut(v, "=")
		if !ok {
			return m, usageError("--peer-role %q: want AS|IP=ROLE", v)
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
