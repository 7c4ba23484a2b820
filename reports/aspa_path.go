package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// ASPAPathReport is `rovimpact aspa --path`: one AS_PATH verified
// against the loaded ASPAs, hop by hop. The verdict is rov's (Verify);
// this only lays out what it read.
type ASPAPathReport struct {
	Path       string         `json:"path"`        // as given
	Compressed []uint32       `json:"compressed"`  // COMPRESSED_AS_PATH, most recent first (null with sets)
	Neighbor   uint32         `json:"neighbor_as"` // the AS the path was received from
	Role       rov.PeerRole   `json:"role"`
	Procedure  string         `json:"procedure"` // "upstream" (§5.4) or "downstream" (§5.5)
	State      rov.ASPAState  `json:"aspa"`
	Reason     rov.ASPAReason `json:"reason"`
	Why        string         `json:"why"` // the step that decided, in words
	N          int32          `json:"n"`
	MaxUp      int32          `json:"max_up_ramp"`
	MinUp      int32          `json:"min_up_ramp"`
	MaxDown    int32          `json:"max_down_ramp"`
	MinDown    int32          `json:"min_down_ramp"`
	Hops       []ASPAPathHop  `json:"hops"`
	Up         *ASPAHop       `json:"up_hop"`   // the Not Provider+ hop ending the up-ramp
	Down       *ASPAHop       `json:"down_hop"` // the one ending the down-ramp (downstream)
	FirstAS    uint32         `json:"first_as,omitempty"`
	Draft      string         `json:"draft"`
	ASPAs      int            `json:"aspas"`
}

// ASPAPathHop is one adjacent pair (A(i), A(i+1)) with both directions'
// attestations and the ASPA (U-SPAS) that gave each; null ASPA: No
// Attestation.
type ASPAPathHop struct {
	rov.ASPAPair
	UpASPA   *[]uint32 `json:"up_aspa"`   // providers in Lower's ASPA
	DownASPA *[]uint32 `json:"down_aspa"` // providers in Upper's ASPA
	Ramp     string    `json:"ramp"`      // which ramps the pair can belong to (see rampOf)
}

// BuildASPAPath lays out e, the explanation of text received from
// neighbor in role.
func BuildASPAPath(set *rov.ASPASet, text string, neighbor uint32, role rov.PeerRole, e rov.ASPAExplanation) ASPAPathReport {
	r := e.Result
	rep := ASPAPathReport{Path: text, Neighbor: neighbor, Role: role, Procedure: "upstream", State: r.State, Reason: r.Reason,
		N: r.N, MaxUp: r.MaxUp, MinUp: r.MinUp, MaxDown: r.MaxDown, MinDown: r.MinDown, FirstAS: r.FirstAS,
		Draft: ASPADraft, ASPAs: set.ASPAs(), Hops: []ASPAPathHop{}}
	if r.Downstream {
		rep.Procedure = "downstream"
	}
	if e.Path != nil {
		rep.Compressed = e.Path
	}
	usp := func(as uint32) *[]uint32 {
		ps, ok := set.Providers(as)
		if !ok {
			return nil
		}
		c := append([]uint32{}, ps...)
		return &c
	}
	for _, p := range e.Pairs {
		rep.Hops = append(rep.Hops, ASPAPathHop{ASPAPair: p, UpASPA: usp(p.Lower), DownASPA: usp(p.Upper), Ramp: rampOf(r, p.Pos)})
	}
	if r.Reason == rov.ASPAReasonRamps {
		rep.Up = aspaHop(set, r.Up)
		if r.Downstream {
			rep.Down = aspaHop(set, r.Down)
		}
	}
	rep.Why = aspaWhy(rep)
	return rep
}

// rampOf names the ramps pair i can lie on, from the bounds rov computed
// (§5.3): "up" when i < min_up_ramp (attested all the way from the
// origin), "up?" when only max_up_ramp reaches it (an unattested hop
// below); "down"/"down?" likewise from the top, with the down-ramp of
// length L covering the pairs i > N-L. "-" for neither: the verdict is then
// Invalid, or the path halted before the ramps.
func rampOf(r rov.ASPAResult, i int32) string {
	if r.N == 0 {
		return "-"
	}
	var parts []string
	switch {
	case i < r.MinUp:
		parts = append(parts, "up")
	case i < r.MaxUp:
		parts = append(parts, "up?")
	}
	switch {
	case r.MinDown > 0 && i > r.N-r.MinDown:
		parts = append(parts, "down")
	case r.MaxDown > 0 && i > r.N-r.MaxDown:
		parts = append(parts, "down?")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "+")
}

// aspaWhy says in words which step of the procedure decided.
func aspaWhy(rep ASPAPathReport) string {
	step := "§5.4"
	if rep.Procedure == "downstream" {
		step = "§5.5"
	}
	hop := func(h *ASPAHop) string {
		return fmt.Sprintf("AS%d's ASPA (%s) does not list AS%d", h.Customer, asnList(h.Providers), h.Provider)
	}
	switch rep.Reason {
	case rov.ASPAReasonEmpty:
		return step + " step 1: the AS_PATH is empty"
	case rov.ASPAReasonFirstAS:
		return fmt.Sprintf("%s step 2: the most recently added AS, AS%d, is not the neighbour AS%d", step, rep.FirstAS, rep.Neighbor)
	case rov.ASPAReasonASSet:
		return step + " step 3: the AS_PATH has an AS_SET"
	case rov.ASPAReasonConfed:
		return "not verified: an AS_CONFED_SEQUENCE (inside a confederation, §6.2: NOT RECOMMENDED)"
	case rov.ASPAReasonLocal:
		return "not verified: an empty AS_PATH on iBGP is the network's own route (§6.2)"
	case rov.ASPAReasonRamps:
		if rep.Procedure == "downstream" {
			return fmt.Sprintf("%s step 4: max_up_ramp %d + max_down_ramp %d < N %d: %s; %s", step, rep.MaxUp, rep.MaxDown, rep.N, hop(rep.Up), hop(rep.Down))
		}
		return fmt.Sprintf("%s step 4: max_up_ramp %d < N %d: %s", step, rep.MaxUp, rep.N, hop(rep.Up))
	}
	switch rep.State {
	case rov.ASPAUnknown:
		if rep.Procedure == "downstream" {
			return fmt.Sprintf("%s step 5: min_up_ramp %d + min_down_ramp %d < N %d: the ramps meet only if unattested hops are provider hops", step, rep.MinUp, rep.MinDown, rep.N)
		}
		return fmt.Sprintf("%s step 5: min_up_ramp %d < N %d: the up-ramp reaches the top only if unattested hops are provider hops", step, rep.MinUp, rep.N)
	case rov.ASPAValid:
		if rep.Procedure == "downstream" {
			return fmt.Sprintf("%s step 6: min_up_ramp %d + min_down_ramp %d >= N %d: attested ramps cover the path", step, rep.MinUp, rep.MinDown, rep.N)
		}
		return fmt.Sprintf("%s step 6: min_up_ramp %d = N %d: every hop is an attested provider hop", step, rep.MinUp, rep.N)
	}
	return rep.State.String()
}

func asnList(asns []uint32) string {
	if len(asns) == 0 {
		return "no provider, AS0"
	}
	parts := make([]string, len(asns))
	for i, a := range asns {
		parts[i] = rov.FormatASN(a)
	}
	return strings.Join(parts, " ")
}

// aspaPathColumns fit TerminalWidth (6 + 111 + 1 = 118).
var aspaPathColumns = []column{{"i", 4}, {"A(i)", 13}, {"A(i+1)", 13}, {"Up: A(i)'s ASPA lists A(i+1)?", 34},
	{"Down: A(i+1)'s ASPA lists A(i)?", 34}, {"Ramp", 13}}

// WriteASPAPathTable writes the verdict, its reason and one line per hop.
func WriteASPAPathTable(w io.Writer, rep ASPAPathReport) error {
	fmt.Fprint(w, wrapText("AS path: "+rep.Path, TerminalWidth))
	fmt.Fprintf(w, "Received from AS%d (%s): %s verification; %d ASPAs; rules of %s\n",
		rep.Neighbor, rep.Role, rep.Procedure, rep.ASPAs, rep.Draft)
	fmt.Fprintf(w, "ASPA: %s\n", strings.ToUpper(rep.State.String()))
	fmt.Fprint(w, wrapText("Why: "+rep.Why, TerminalWidth))
	if rep.N > 0 {
		fmt.Fprintf(w, "N %d; up-ramp max %d, min %d", rep.N, rep.MaxUp, rep.MinUp)
		if rep.Procedure == "downstream" {
			fmt.Fprintf(w, "; down-ramp max %d, min %d", rep.MaxDown, rep.MinDown)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Hops) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := compactTable(w, aspaPathColumns)
	auth := func(h rov.HopAuth, aspa *[]uint32) string {
		if aspa == nil {
			return h.String()
		}
		return h.String() + "\nASPA " + asnCell(*aspa, 3, aspaPathColumns[3].width-7)
	}
	for _, h := range rep.Hops {
		down := auth(h.Down, h.DownASPA)
		if rep.Procedure == "upstream" {
			down = "(not read upstream)\n" + down
		}
		t.Append([]string{fmt.Sprint(h.Pos), rov.FormatASN(h.Lower), rov.FormatASN(h.Upper), auth(h.Up, h.UpASPA), down, h.Ramp})
	}
	return t.Render()
}

// ASPAPathFormats is rovimpact aspa --path's format table.
var ASPAPathFormats = newFormats("aspa --path",
	Format[ASPAPathReport]{"table", WriteASPAPathTable},
	Format[ASPAPathReport]{"json", func(w io.Writer, r ASPAPathReport) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}},
)
