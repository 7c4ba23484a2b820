package main

import (
	"bufio"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
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
	if err := reports.ASPAFormats.Check(opts.format); err != nil {
		return err
	}
	roles, err := study.ParseRoles(opts.roles, opts.rolesFile)
	if err != nil {
		return err
	}
	c := studyConfig(cmd, opts.vrp, opts.route, opts.analysis, args, opts.now)
	rep, partial, err := study.RunASPA(cmd.Context(), c, roles)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	if err := reports.ASPAFormats.Write(out, opts.format, reports.ASPADoc{Report: rep, Top: opts.top}); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return worstExit(cmd.ErrOrStderr(), partial)
}
