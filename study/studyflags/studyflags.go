// Package studyflags holds the command-line flags that the commands which
// run a study share (--vrps, --slurm, --drop-expired, the VRP guards,
// --updates, --peer, --allow-partial, --as-set, --local-as,
// --count-default), bound straight to study's options, and the flag value
// types every command uses for AS numbers and row counts. It is the one
// place such a flag is named and described, so that analyze, lookup,
// snapshot, aspa, vrps diff and watch cannot drift apart.
package studyflags

import (
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovimpact/rovimpact/study"
)

// VRP adds --vrps, --slurm and --drop-expired.
func VRP(f *pflag.FlagSet, o *study.VRPOptions) {
	f.StringArrayVar(&o.Files, "vrps", nil, "VRP `FILE`: rpki-client, Routinator (json, jsonext) or stayrtr JSON, or CSV (rpki-client, Routinator csv, csvcompat, csvext, RIPE NCC archive roas.csv); format from content (repeatable; merged)")
	f.StringArrayVar(&o.SLURM, "slurm", nil, "SLURM (RFC 8416) `FILE` of local exceptions applied to the VRPs (repeatable)")
	f.BoolVar(&o.DropExpired, "drop-expired", false, "drop VRPs whose expires time has passed (default: keep them and warn)")
}

// VRPGuards adds the VRP sanity guards of study.CheckVRPs
// (--allow-empty-vrps, --max-vrp-age).
func VRPGuards(f *pflag.FlagSet, o *study.VRPOptions) {
	f.BoolVar(&o.AllowEmpty, "allow-empty-vrps", false, "accept a VRP set left empty after expiry and SLURM (default: exit 1, since every route would be not_found)")
	f.DurationVar(&o.MaxAge, "max-vrp-age", 0, "exit 1 when the VRP set was built longer ago than `DURATION` (e.g. 36h; build time from the exporter's metadata, else the file's modification time; 0: no limit)")
}

// Routes adds --updates and --peer; updatesAfter names what the updates
// are replayed after, and what is the verb's own word for using a peer's
// routes ("analyse", "use", "keep").
func Routes(f *pflag.FlagSet, o *study.RouteOptions, updatesAfter, what string) {
	f.StringArrayVar(&o.Updates, "updates", nil, "update `FILE` replayed after the "+updatesAfter+" (repeatable)")
	f.StringArrayVar(&o.Peers, "peer", nil, what+" only routes from this peer, `AS|IP` (repeatable)")
}

// Partial adds --allow-partial (see study.PartialInput).
func Partial(f *pflag.FlagSet, o *study.RouteOptions) {
	f.BoolVar(&o.AllowPartial, "allow-partial", false, "exit 0 when a route file ended early or was corrupt (the loss is still reported on stderr and in every report; default: exit 4)")
}

// Analysis adds the flags that shape validation and impact: --as-set,
// --local-as and --count-default.
func Analysis(f *pflag.FlagSet, o *study.AnalysisOptions) {
	f.StringVar(&o.ASSet, "as-set", "invalid", "ROV `policy` for routes whose AS_PATH ends in an AS_SET: invalid (RFC 6811), notfound, or withdraw (RFC 9774)")
	f.Var((*ASN)(&o.LocalAS), "local-as", "your `AS`: the origin of routes with an empty AS_PATH or a final confederation segment")
	f.BoolVar(&o.CountDefault, "count-default", false, "let a default route (0.0.0.0/0, ::/0) count as a covering route")
}

// Study are the option groups of a command that runs a study, which the
// functions above bind to flags.
type Study struct {
	VRP      study.VRPOptions
	Route    study.RouteOptions
	Analysis study.AnalysisOptions
}

// Config is the study of the flags and the command's route arguments,
// taken at now, warning on warn.
func (s Study) Config(routes []string, now time.Time, warn io.Writer) study.Config {
	return study.Config{VRP: s.VRP, Route: s.Route, Analysis: s.Analysis, Routes: routes, Now: now, Warn: warn}
}
