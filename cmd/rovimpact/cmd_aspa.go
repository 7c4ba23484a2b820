package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newASPACommand) }

type aspaOptions struct {
	in        studyflags.Study // --vrps, --peer, --as-set, ...
	roles     []string
	rolesFile string
	top       int
	format    string
	path      string
	neighbor  string
	now       func() time.Time
}

func newASPACommand() *cobra.Command {
	opts := aspaOptions{now: clock}
	cmd := &cobra.Command{
		Use:   "aspa --vrps FILE [flags] ROUTES... | aspa --vrps FILE --path \"AS_PATH\"",
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

With --path "AS3 AS2 AS1" (most recently added AS first; {a,b} is an
AS_SET) and no ROUTES, aspa verifies that one AS path and prints each
hop's attestation in both directions (no_attestation, provider_plus,
not_provider_plus, with the ASPA that said so), the ramps and the verdict
with the step that decided it. The path is received from --neighbor
(default: its first AS) in the role --peer-role gives that AS (a bare
ROLE, e.g. --peer-role provider, names the neighbour's role).

ROUTES are replayed in order (RIB dumps and updates) and every path left at
the end is verified; paths are interned while replaying (mrt.RIB), not
kept per route.

` + exitcode.Help,
		Example: `  rovimpact aspa --vrps vrps.json rib.bz2
  rovimpact aspa --vrps vrps.json --peer-role 64500=provider --peer-role 192.0.2.1=rs --format json updates.gz
  rovimpact aspa --vrps vrps.json --path "AS64511 AS64501 AS64496" --peer-role customer`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := cmd.Flags().Changed("path")
			if err := study.CheckASPAArgs(path, args, opts.in.Route, opts.neighbor); err != nil {
				return err
			}
			if path {
				return runASPAPath(cmd, opts)
			}
			return runASPA(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	studyflags.VRP(cmd.Flags(), &opts.in.VRP)
	studyflags.VRPGuards(cmd.Flags(), &opts.in.VRP)
	studyflags.Partial(cmd.Flags(), &opts.in.Route)
	studyflags.Analysis(cmd.Flags(), &opts.in.Analysis)
	f.StringArrayVar(&opts.in.Route.Updates, "updates", nil, "update `FILE` replayed after the ROUTES in order (repeatable)")
	f.StringArrayVar(&opts.roles, "peer-role", nil, "a peer's relationship, `AS|IP=ROLE` (customer, peer, provider, rs, rs-client; repeatable)")
	f.StringVar(&opts.rolesFile, "peer-roles", "", "CSV `FILE` of AS|IP,ROLE lines")
	studyflags.CountVar(f, &opts.top, "top", 20, "rows shown in the table output's path list (0: all; JSON always lists all)")
	f.StringArrayVar(&opts.in.Route.Peers, "peer", nil, "verify only paths from this peer, `AS|IP` (repeatable); the rollups and counts are of those paths")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json, csv or ndjson (csv, ndjson: the invalid and unverified paths) or html (one self-contained file: the ROV report with an ASPA section); --path: table or json")
	f.StringVar(&opts.path, "path", "", "verify one `AS_PATH` (\"AS3 AS2 AS1\", most recent first) instead of ROUTES")
	f.StringVar(&opts.neighbor, "neighbor", "", "with --path: the `AS` the path came from (default: its first AS)")
	return bigHeap(cmd)
}

func runASPA(cmd *cobra.Command, opts aspaOptions, args []string) error {
	if err := reports.ASPAFormats.Check(opts.format); err != nil {
		return err
	}
	roles, err := study.ParseRoles(opts.roles, opts.rolesFile)
	if err != nil {
		return err
	}
	c := opts.in.Config(args, opts.now(), cmd.ErrOrStderr())
	st, err := study.RunASPAStudy(cmd.Context(), c, roles)
	if err != nil {
		return err
	}
	now := opts.now()
	doc := reports.ASPADoc{Report: st.Report, Top: opts.top, Generated: now,
		ROV: func() reports.Report { return st.ROVReport(generation(now)) }}
	if err := reports.ASPAFormats.Print(cmd.OutOrStdout(), opts.format, doc); err != nil {
		return err
	}
	return exitcode.Worst(cmd.ErrOrStderr(), st.Partial)
}

// runASPAPath is aspa --path: one AS path, hop by hop.
func runASPAPath(cmd *cobra.Command, opts aspaOptions) error {
	if err := reports.ASPAPathFormats.Check(opts.format); err != nil {
		return err
	}
	set, _, err := study.LoadASPASet(opts.in.VRP, opts.now(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	rep, err := study.VerifyASPAPath(set, study.ASPAPathQuery{Path: opts.path, Neighbor: opts.neighbor, Roles: opts.roles, RolesFile: opts.rolesFile})
	if err != nil {
		return err
	}
	return reports.ASPAPathFormats.Print(cmd.OutOrStdout(), opts.format, rep)
}
