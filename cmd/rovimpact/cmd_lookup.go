package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/table"
)

func init() { register(newLookupCommand) }

type lookupOptions struct {
	wide     bool
	snapshot string
	vrp      vrpOptions
	route    routeOptions
	analysis analysisOptions
	origin   uint32
	format   string
	top      int
	now      func() time.Time
}

func newLookupCommand() *cobra.Command {
	opts := lookupOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "lookup QUERY... (--vrps FILE [ROUTES...] | --snapshot FILE) [flags]",
		Short: "Answer for one prefix, address or AS: VRPs, routes, states, and what ROV would do",
		Long: `lookup answers ad-hoc questions with the same verdicts analyze gives.

A QUERY is a prefix (192.0.2.0/24), an address (192.0.2.10) or an AS
(AS64500). Arguments that are not queries are route files, read like
analyze's ROUTES; without route files the answers come from the VRPs alone.
With no QUERY arguments, queries are read from standard input, one a line.

--snapshot FILE answers from a snapshot written by analyze --save or
rovimpact snapshot: the same answers, byte for byte, without reading the VRP
and route files again (a full table loads in a fraction of a second). A
single route file that is a snapshot is used the same way. The snapshot
fixes the VRPs, routes and verdicts, so --vrps, --slurm, --drop-expired,
--updates, --peer and route files are refused with it, and --as-set,
--local-as and --count-default only if they differ from how it was made. A
recorded source file that changed since is reported on standard error.

  prefix   the VRPs covering it and inside it; every route for exactly that
           prefix, the less-specific routes covering it and the more-specific
           routes inside it, with state, class, deciding VRPs and, for each
           route ROV drops, the impact analyze reports. --origin AS validates
           announcing the prefix from AS ("what happens if I announce this?").
  address  the routes containing it, most specific first, and which route
           carries traffic to it today and once ROV drops invalid routes. As
           in analyze, a default route counts only with --count-default.
  AS       the routes it originates, its VRPs (unused ones, and RFC 9319
           risky ones whose maxLength authorises unannounced more-specifics),
           and one suggested VRP per announced prefix (maxLength = its
           length; where the AS's own VRP is too short, what widening that
           VRP instead would authorise). No VRP is suggested where another
           AS's VRP allows the route: it is listed as a possible hijack with
           that VRP.

Answers are written one at a time, and in json and csv each answer's
routes one at a time, so a batch from standard input or 0.0.0.0/0 needs
about the memory of the analysis, not of the answer.

` + exitCodesHelp,
		Example: `  rovimpact lookup --vrps testdata/sample/vrps.json 1.1.1.0/24 testdata/sample/routes-v4.mrt
  rovimpact analyze --vrps vrps.json --save rib.rovsnap rib.bz2 && rovimpact lookup --snapshot rib.rovsnap AS64500
  rovimpact lookup --vrps vrps.json --origin 64500 192.0.2.0/24
  echo AS18101 | rovimpact lookup --vrps vrps.json --format json rib.mrt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLookup(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.snapshot, "snapshot", "", "answer from this snapshot `FILE` (analyze --save, rovimpact snapshot) instead of VRP and route files")
	addVRPFlags(cmd, &opts.vrp)
	f.StringArrayVar(&opts.route.updates, "updates", nil, "update `FILE` replayed after the route files (repeatable)")
	f.StringArrayVar(&opts.route.peers, "peer", nil, "use only routes from this peer, `AS|IP` (repeatable)")
	addPartialFlag(cmd, &opts.route)
	addAnalysisFlags(cmd, &opts.analysis)
	f.Var((*asnValue)(&opts.origin), "origin", "for prefix queries: also validate announcing the prefix from this `AS`")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (one answer per line)")
	countVar(f, &opts.top, "top", 20, "rows shown per list in the table output (0: all; JSON and CSV always list all)")
	f.BoolVar(&opts.wide, "wide", false, "table output: every column whole, however wide (default: fits 120 columns)")
	return cmd
}

func runLookup(cmd *cobra.Command, opts lookupOptions, args []string) error {
	if err := reports.LookupFormats.Check(opts.format); err != nil {
		return err
	}
	queries, files, err := splitLookupArgs(args)
	if err != nil {
		return err
	}
	copt, err := opts.analysis.classify()
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		if queries, err = readQueries(cmd.InOrStdin()); err != nil {
			return err
		}
	}
	parsed := make([]reports.Query, 0, len(queries))
	for _, q := range queries {
		pq, err := reports.ParseQuery(q)
		if err != nil {
			return usageError("%v", err)
		}
		parsed = append(parsed, pq)
	}
	var a *classify.Analysis
	var inputs []reports.Input
	if opts.snapshot == "" && len(opts.vrp.files) == 0 && len(files) == 1 && snapshot.IsFile(files[0]) {
		opts.snapshot, files = files[0], nil
	}
	if opts.snapshot != "" {
		a, inputs, err = lookupSnapshot(cmd, opts, files)
	} else {
		a, inputs, err = lookupFiles(cmd, opts, files, copt)
	}
	if err != nil {
		return err
	}
	partial := partialInput(inputs, opts.route.allowPartial, cmd.ErrOrStderr())
	var origin *uint32
	if cmd.Flags().Changed("origin") {
		origin = &opts.origin
	}
	// One answer at a time: a batch of queries from standard input holds
	// one answer in memory, never the whole document.
	out := bufio.NewWriter(cmd.OutOrStdout())
	req := reports.LookupRequest{Analysis: a, Queries: parsed, Origin: origin, Top: opts.top, Wide: opts.wide}
	if err := reports.LookupFormats.Write(out, opts.format, req); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return partial
}

// lookupFiles is the analysis lookup answers from: the VRP and route files
// read and validated as analyze does.
func lookupFiles(cmd *cobra.Command, opts lookupOptions, files []string, copt classify.Options) (*classify.Analysis, []reports.Input, error) {
	for _, f := range files {
		if snapshot.IsFile(f) {
			return nil, nil, usageError("%s is a snapshot: use it alone (lookup --snapshot %s QUERY...), without --vrps or route files", f, f)
		}
	}
	ix, _, err := loadVRPs(opts.vrp, opts.now(), cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	t := table.New()
	var inputs []reports.Input
	if len(files) > 0 || len(opts.route.updates) > 0 {
		if t, inputs, _, err = readRoutes(cmd.Context(), files, opts.route, newProgress(cmd.ErrOrStderr())); err != nil {
			return nil, nil, err
		}
	}
	return classify.Analyze(t, ix, copt), inputs, nil
}

// lookupSnapshot is the analysis stored in opts.snapshot, with the route
// files it was made from (their losses make lookup exit 4 too). Flags that would
// change what the snapshot fixed are refused rather than ignored, and
// source files changed since it was made are reported: the answers are as
// of then.
func lookupSnapshot(cmd *cobra.Command, opts lookupOptions, files []string) (*classify.Analysis, []reports.Input, error) {
	name := opts.snapshot
	for _, fl := range []string{"vrps", "slurm", "drop-expired", "updates", "peer"} {
		if cmd.Flags().Changed(fl) {
			return nil, nil, usageError("--%s cannot be used with the snapshot %s: it fixes the VRPs and routes (write a new one with analyze --save)", fl, name)
		}
	}
	if len(files) > 0 {
		return nil, nil, usageError("route file %s cannot be used with the snapshot %s: it fixes the routes (write a new one with analyze --save)", files[0], name)
	}
	s, err := readSnapshot(name)
	if err != nil {
		return nil, nil, err
	}
	pol := s.Meta.Policy
	for _, c := range []struct {
		flag      string
		got, want any
	}{
		{"as-set", opts.analysis.asSet, pol.ASSet},
		{"local-as", opts.analysis.localAS, pol.LocalAS},
		{"count-default", opts.analysis.countDefault, pol.CountDefault},
	} {
		if cmd.Flags().Changed(c.flag) && c.got != c.want {
			return nil, nil, usageError("--%s %v: the snapshot %s was made with --%s %v (write a new one with analyze --save)", c.flag, c.got, name, c.flag, c.want)
		}
	}
	warn := cmd.ErrOrStderr()
	for _, src := range s.Sources {
		if c := src.Changed(); c != "" {
			fmt.Fprintf(warn, "rovimpact: warning: snapshot %s: %s file %s changed since the snapshot was made (%s): answers are as of %s\n", name, src.Role, src.Name, c, s.Created.Format(time.RFC3339))
		}
	}
	if v := s.Meta.VRPs; v.Expired > 0 {
		verb := "kept"
		if s.DropExpired {
			verb = "dropped"
		}
		fmt.Fprintf(warn, "rovimpact: warning: snapshot %s: %d of %d VRPs had expired when it was made (%s): %s\n", name, v.Expired, v.Read, s.Created.Format(time.DateOnly), verb)
	}
	return s.Analysis, s.Meta.Inputs, nil
}

// readSnapshot reads a snapshot with the garbage collector off: the load is
// a few hundred MB of long-lived data, so collections during it free
// nothing and slow every pointer write (about a seventh of the CPU time on
// a full table). Afterwards the collector runs only past twice the loaded
// heap, which a lookup's answers do not reach. GOGC or GOMEMLIMIT in the
// environment leave the runtime's settings alone.
func readSnapshot(name string) (*snapshot.Snapshot, error) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return snapshot.ReadFile(name)
	}
	prev := debug.SetGCPercent(-1)
	s, err := snapshot.ReadFile(name)
	if err != nil {
		debug.SetGCPercent(prev)
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	debug.SetMemoryLimit(int64(2*ms.HeapAlloc) + 64<<20)
	return s, nil
}

// splitLookupArgs tells queries from route files: an existing file (or "-")
// is a route file, anything else must parse as a query.
func splitLookupArgs(args []string) (queries, files []string, err error) {
	for _, a := range args {
		if _, serr := os.Stat(a); serr == nil || a == "-" {
			files = append(files, a)
			continue
		}
		if _, err := reports.ParseQuery(a); err != nil {
			return nil, nil, usageError("%v (and no such route file)", err)
		}
		queries = append(queries, a)
	}
	return queries, files, nil
}

// readQueries reads one query a line, skipping blanks and # comments.
func readQueries(r io.Reader) ([]string, error) {
	var qs []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		qs = append(qs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading queries from stdin: %w", err)
	}
	if len(qs) == 0 {
		return nil, usageError("no QUERY given (as arguments or on standard input)")
	}
	return qs, nil
}
