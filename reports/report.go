// Package reports turns an analysis into the documents every command
// shares: a summary, the invalid routes, the origins to call, per-peer
// views. The JSON schema is this file's Go types, used by every command and
// the HTTP API, so a field means the same thing everywhere. Renderers take
// an io.Writer.
package reports

import (
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/rov"
)

// Report is the whole study: `{"summary":{...},"invalids":[...],"origins":[...]}`.
type Report struct {
	Summary  Summary     `json:"summary"`
	Invalids []Invalid   `json:"invalids"`
	Origins  []OriginRow `json:"origins"`
	Peers    []PeerRow   `json:"peers,omitempty"`
	// ASPAPaths are the ASPA-invalid and unverified paths of analyze
	// --aspa (aspa's invalid_paths), kept so that diff and the history
	// can say which paths changed verdict; absent without --aspa.
	ASPAPaths []ASPAPathRow `json:"aspa_invalid_paths,omitempty"`
}

// Summary is the breakdown an operator puts on a slide.
type Summary struct {
	Routes       int          `json:"routes"` // unique (prefix, origin) pairs validated; valid+invalid+not_found
	Paths        int64        `json:"paths"`
	Peers        int          `json:"peers"`
	Prefixes     int          `json:"prefixes"`
	Valid        int          `json:"valid"`
	Invalid      int          `json:"invalid"`
	NotFound     int          `json:"not_found"`
	Unvalidated  int          `json:"unvalidated_local_origin"` // origin is the local AS and --local-as was not given
	Dropped      int          `json:"dropped"`                  // routes ROV drops under the AS_SET policy
	Classes      ClassCounts  `json:"classes"`
	AS0          int          `json:"as0"`
	Impact       ImpactCounts `json:"impact"`
	CoverOtherAS int          `json:"covered_by_other_origin"` // same_prefix/covered where no cover origin is the invalid's origin
	Policy       Policy       `json:"policy"`
	VRPs         VRPSummary   `json:"vrps"`
	Inputs       []Input      `json:"inputs"`
	Skipped      Skipped      `json:"skipped"`
	Families     []Family     `json:"families"`
	// Generated says which build made the report, and when.
	Generated Generation `json:"generated"`
	// ASPA is the ASPA summary of analyze --aspa (rovimpact aspa's
	// summary.aspa); absent without --aspa.
	ASPA *ASPASummary `json:"aspa,omitempty"`
}

// Generation says which build of rovimpact made a report and when: a
// report that cannot be traced to the code and the moment that made it
// cannot be reproduced or trusted. Zero when the maker did not say (a
// report built by a library caller, or read from before the field).
type Generation struct {
	Tool     string    `json:"tool"`               // "rovimpact"
	Version  string    `json:"version"`            // internal/buildinfo's Version
	Revision string    `json:"revision,omitempty"` // VCS commit, when stamped
	At       time.Time `json:"at"`                 // when the report was made (UTC, seconds)
}

// GenerationOf is the Generation of build bi at time at.
func GenerationOf(bi buildinfo.Info, at time.Time) Generation {
	return Generation{Tool: "rovimpact", Version: bi.Version, Revision: bi.Revision, At: at.UTC().Truncate(time.Second)}
}

// String is the one-line form the table and HTML reports show:
// "rovimpact v1.2.0 (abc123) at 2025-07-20T03:00:00Z"; "" when unknown.
func (g Generation) String() string {
	if g.Tool == "" {
		return ""
	}
	s := g.Tool + " " + g.Version
	if g.Revision != "" {
		s += " (" + g.Revision + ")"
	}
	return s + " at " + g.At.Format(time.RFC3339)
}

// ClassCounts counts invalid routes per class (classify.Class names).
type ClassCounts struct {
	TooSpecific int `json:"too_specific"`
	WrongOrigin int `json:"wrong_origin"`
	Both        int `json:"both"`
	TooShort    int `json:"too_short"`
	ASSet       int `json:"as_set"`
}

// ImpactCounts counts dropped routes per impact (classify.Impact names).
type ImpactCounts struct {
	SamePrefix    int `json:"same_prefix"`
	Covered       int `json:"covered"`
	MoreSpecifics int `json:"more_specifics"`
	Unreachable   int `json:"unreachable"`
}

// Policy records the choices that shaped the result.
type Policy struct {
	ASSet        string   `json:"as_set"`
	CountDefault bool     `json:"count_default"`
	LocalAS      uint32   `json:"local_as,omitempty"`
	PeerFilter   []string `json:"peer_filter,omitempty"`
}

// VRPSummary describes the VRP set used.
type VRPSummary struct {
	Loaded         int            `json:"loaded"` // after dedup, expiry and SLURM
	Read           int            `json:"read"`
	Duplicates     int            `json:"duplicates"`
	Expired        int            `json:"expired"`
	DroppedExpired int            `json:"dropped_expired"`
	SLURMRemoved   int            `json:"slurm_removed"`
	SLURMAdded     int            `json:"slurm_added"`
	IPv4           int            `json:"ipv4"`
	IPv6           int            `json:"ipv6"`
	AS0            int            `json:"as0"`
	ByTA           map[string]int `json:"by_ta"`
	Files          []string       `json:"files"`
	// BuildTime is when the set was built: the oldest of its files' build
	// times, each from the exporter's metadata or else the file's
	// modification time (BuildTimeFrom says which); nil when unknown
	// (stdin without metadata). AgeSeconds is the set's age at the run.
	BuildTime     *time.Time `json:"build_time,omitempty"`
	BuildTimeFrom string     `json:"build_time_from,omitempty"` // "metadata" or "file_mtime"
	AgeSeconds    int64      `json:"age_seconds,omitempty"`
	// Sources is each file's own build time, in the order given: the set's
	// BuildTime is only the oldest of them.
	Sources []VRPSource `json:"sources,omitempty"`
}

// VRPSource is one VRP file and when it was built (nil: unknown, e.g.
// stdin without exporter metadata).
type VRPSource struct {
	File          string     `json:"file"`
	BuildTime     *time.Time `json:"build_time,omitempty"`
	BuildTimeFrom string     `json:"build_time_from,omitempty"` // "metadata" or "file_mtime"
}

// Input is one route file read.
type Input struct {
	Name    string           `json:"name"`
	Records int64            `json:"records"`
	Routes  int64            `json:"events"`
	Skipped map[string]int64 `json:"skipped,omitempty"`
	Error   string           `json:"error,omitempty"` // e.g. truncated last record
	// Loss is what was lost when the file ended early or was corrupt;
	// nil for a whole file.
	Loss *Loss `json:"loss,omitempty"`
	// FirstRecord and LastRecord are the earliest and latest MRT record
	// (or bgpdump line) timestamps read: the time the routes describe.
	// Absent when the input carries no times ("prefix origin" text).
	FirstRecord *time.Time `json:"first_record,omitempty"`
	LastRecord  *time.Time `json:"last_record,omitempty"`
}

// SetRecordTimes records the input's record time range (zero times:
// none).
func (in *Input) SetRecordTimes(first, last time.Time) {
	if !first.IsZero() {
		f := first.UTC()
		in.FirstRecord = &f
	}
	if !last.IsZero() {
		l := last.UTC()
		in.LastRecord = &l
	}
}

// RecordTimes is the earliest and latest record time over inputs (zero:
// no input carries times).
func RecordTimes(inputs []Input) (first, last time.Time) {
	for _, in := range inputs {
		if in.FirstRecord != nil && (first.IsZero() || in.FirstRecord.Before(first)) {
			first = *in.FirstRecord
		}
		if in.LastRecord != nil && in.LastRecord.After(last) {
			last = *in.LastRecord
		}
	}
	return first, last
}

// Skipped counts everything not analysed, by reason: nothing is dropped
// silently.
type Skipped struct {
	Total   int64            `json:"total"`
	Reasons map[string]int64 `json:"reasons"`
}

// Family is the breakdown for one address family.
type Family struct {
	Family   string       `json:"family"` // "ipv4" or "ipv6"
	Routes   int          `json:"routes"`
	Valid    int          `json:"valid"`
	Invalid  int          `json:"invalid"`
	NotFound int          `json:"not_found"`
	Classes  ClassCounts  `json:"classes"`
	Impact   ImpactCounts `json:"impact"`
}

// VRPRef is a VRP in a report row.
type VRPRef struct {
	Prefix    netip.Prefix `json:"prefix"`
	MaxLength uint8        `json:"max_length"`
	ASN       uint32       `json:"asn"`
}

// Cover is what still carries an invalid route's traffic.
type Cover struct {
	Prefix      netip.Prefix `json:"prefix"`
	Origins     []uint32     `json:"origins"`
	State       rov.State    `json:"state"`        // best state among the surviving routes at Prefix
	OtherOrigin bool         `json:"other_origin"` // none of Origins is the invalid route's origin
}

// Invalid is one invalid route (or one dropped AS_SET route).
type Invalid struct {
	Prefix       netip.Prefix        `json:"prefix"`
	Origin       *uint32             `json:"origin"` // null for AS_SET (origin NONE)
	ASSet        []uint32            `json:"as_set"`
	State        classify.RouteState `json:"state"`
	Class        classify.Class      `json:"class"`
	AS0          bool                `json:"as0"`
	VRPs         []VRPRef            `json:"vrps"`
	Paths        uint32              `json:"paths"`
	Peers        int                 `json:"peers"`
	Dropped      bool                `json:"dropped"`
	Impact       classify.Impact     `json:"impact"`
	Cover        *Cover              `json:"cover"`
	CoveredShare float64             `json:"covered_share"`
	// Explanation is one human sentence (lookup only; analyze leaves it out).
	Explanation string `json:"explanation,omitempty"`
}

// OriginRow is one origin AS with invalid routes: whom to call.
type OriginRow struct {
	Origin      *uint32     `json:"origin"` // null: AS_SET routes
	Invalid     int         `json:"invalid"`
	Unreachable int         `json:"unreachable"`
	Classes     ClassCounts `json:"classes"`
}

// PeerRow is one peer's own view (--per-peer): what a router with only
// this session would lose.
type PeerRow struct {
	AS     uint32     `json:"peer_as"`
	IP     netip.Addr `json:"peer_ip"`
	Routes int        `json:"routes"` // routes the peer carries
	// Dropped counts the routes from this peer that ROV drops; without
	// ADD-PATH a peer has one path per route, so this is its dropped paths.
	Dropped int `json:"dropped"`
	// Unreachable counts the prefixes left with no route at all in this
	// peer's view once ROV is on.
	Unreachable int `json:"unreachable"`
}
