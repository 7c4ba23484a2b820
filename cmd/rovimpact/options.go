package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// The flags the study commands share, and their translation to study's
// options: the only study logic this package holds is which flag sets
// which field.

// vrpOptions are the flags every command that loads VRPs shares.
type vrpOptions struct {
	files       []string
	slurm       []string
	dropExpired bool
	// allowEmpty and maxAge are the guards of study.CheckVRPs (analyze,
	// snapshot).
	allowEmpty bool
	maxAge     time.Duration
}

func (o vrpOptions) study() study.VRPOptions {
	return study.VRPOptions{Files: o.files, SLURM: o.slurm, DropExpired: o.dropExpired, AllowEmpty: o.allowEmpty, MaxAge: o.maxAge}
}

// routeOptions are the flags every command that reads routes shares.
type routeOptions struct {
	updates      []string
	peers        []string
	allowPartial bool
}

func (o routeOptions) study() study.RouteOptions {
	return study.RouteOptions{Updates: o.updates, Peers: o.peers, AllowPartial: o.allowPartial}
}

// analysisOptions are the flags that shape validation and impact.
type analysisOptions struct {
	asSet        string
	localAS      uint32
	countDefault bool
}

func (o analysisOptions) study() study.AnalysisOptions {
	return study.AnalysisOptions{ASSet: o.asSet, LocalAS: o.localAS, CountDefault: o.countDefault}
}

func (o analysisOptions) classify() (classify.Options, error) { return o.study().Classify() }

func (o analysisOptions) policy(copt classify.Options, peers []string) reports.Policy {
	return o.study().Policy(copt, peers)
}

func addVRPFlags(cmd *cobra.Command, o *vrpOptions) {
	f := cmd.Flags()
	f.StringArrayVar(&o.files, "vrps", nil, "VRP `FILE`: rpki-client, Routinator (json, jsonext) or stayrtr JSON, or CSV (rpki-client, Routinator csv, csvcompat, csvext, RIPE NCC archive roas.csv); format from content (repeatable; merged)")
	f.StringArrayVar(&o.slurm, "slurm", nil, "SLURM (RFC 8416) `FILE` of local exceptions applied to the VRPs (repeatable)")
	f.BoolVar(&o.dropExpired, "drop-expired", false, "drop VRPs whose expires time has passed (default: keep them and warn)")
}

// addVRPGuardFlags adds the VRP sanity guards of study.CheckVRPs.
func addVRPGuardFlags(cmd *cobra.Command, o *vrpOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.allowEmpty, "allow-empty-vrps", false, "accept a VRP set left empty after expiry and SLURM (default: exit 1, since every route would be not_found)")
	f.DurationVar(&o.maxAge, "max-vrp-age", 0, "exit 1 when the VRP set was built longer ago than `DURATION` (e.g. 36h; build time from the exporter's metadata, else the file's modification time; 0: no limit)")
}

// addRouteFlags adds --updates and --peer; what is the verb's own word
// for using a peer's routes ("analyse", "use", "keep").
func addRouteFlags(cmd *cobra.Command, o *routeOptions, updatesAfter, what string) {
	f := cmd.Flags()
	f.StringArrayVar(&o.updates, "updates", nil, "update `FILE` replayed after the "+updatesAfter+" (repeatable)")
	f.StringArrayVar(&o.peers, "peer", nil, what+" only routes from this peer, `AS|IP` (repeatable)")
}

// addPartialFlag adds --allow-partial (see study.PartialInput).
func addPartialFlag(cmd *cobra.Command, o *routeOptions) {
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false, "exit 0 when a route file ended early or was corrupt (the loss is still reported on stderr and in every report; default: exit 4)")
}

func addAnalysisFlags(cmd *cobra.Command, o *analysisOptions) {
	f := cmd.Flags()
	f.StringVar(&o.asSet, "as-set", "invalid", "ROV `policy` for routes whose AS_PATH ends in an AS_SET: invalid (RFC 6811), notfound, or withdraw (RFC 9774)")
	f.Var((*asnValue)(&o.localAS), "local-as", "your `AS`: the origin of routes with an empty AS_PATH or a final confederation segment")
	f.BoolVar(&o.countDefault, "count-default", false, "let a default route (0.0.0.0/0, ::/0) count as a covering route")
}

// studyConfig is the study of a verb's flags and route arguments.
func studyConfig(cmd *cobra.Command, vrp vrpOptions, route routeOptions, analysis analysisOptions, routes []string, now func() time.Time) study.Config {
	return study.Config{VRP: vrp.study(), Route: route.study(), Analysis: analysis.study(), Routes: routes, Now: now(), Warn: cmd.ErrOrStderr()}
}
