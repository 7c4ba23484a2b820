package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// WriteJSON writes the report as one indented JSON object, byte for byte
// what encoding/json's Encoder with SetIndent("", "  ") writes, but list by
// list and element by element (json_stream.go): the encoder would build
// the whole document in one buffer first, and then indent it into a
// second, which on a full table cost more memory than the analysis
// itself.
func WriteJSON(w io.Writer, rep Report) error {
	return writeJSONStream(w, rep)
}

// InvalidColumns are the CSV columns of the invalids report: the JSON field
// names, with the cover object flattened into cover_* columns.
var InvalidColumns = []string{"prefix", "origin", "as_set", "state", "class", "as0", "vrps", "paths", "peers",
	"dropped", "impact", "cover_prefix", "cover_origins", "cover_state", "cover_other_origin", "covered_share"}

// WriteInvalidsCSV writes one row per invalid route. Lists (as_set,
// cover_origins) are space-separated; vrps are written compactly
// ("192.0.2.0/22-23 AS64500") and separated by ";".
func WriteInvalidsCSV(w io.Writer, invs []Invalid) error {
	cw := csv.NewWriter(w)
	cw.Write(InvalidColumns)
	for _, inv := range invs {
		cw.Write(invalidRecord(inv))
	}
	cw.Flush()
	return cw.Error()
}

// invalidRecord is one CSV row in InvalidColumns order.
func invalidRecord(inv Invalid) []string {
	row := []string{inv.Prefix.String(), originString(inv.Origin, ""), joinASNs(inv.ASSet, " ", ""), inv.State.String(), inv.Class.String(),
		strconv.FormatBool(inv.AS0), vrpList(inv.VRPs, ";"), strconv.FormatUint(uint64(inv.Paths), 10), strconv.Itoa(inv.Peers),
		strconv.FormatBool(inv.Dropped), inv.Impact.String(), "", "", "", "", formatShare(inv.CoveredShare)}
	if c := inv.Cover; c != nil {
		row[11], row[12], row[13], row[14] = c.Prefix.String(), joinASNs(c.Origins, " ", ""), c.State.String(), strconv.FormatBool(c.OtherOrigin)
	}
	return row
}

// WriteOriginsCSV writes the origins report.
func WriteOriginsCSV(w io.Writer, rows []OriginRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"origin", "invalid", "unreachable", "too_specific", "wrong_origin", "both", "too_short", "as_set"})
	for _, r := range rows {
		c := r.Classes
		cw.Write([]string{originString(r.Origin, "AS_SET"), strconv.Itoa(r.Invalid), strconv.Itoa(r.Unreachable),
			strconv.Itoa(c.TooSpecific), strconv.Itoa(c.WrongOrigin), strconv.Itoa(c.Both), strconv.Itoa(c.TooShort), strconv.Itoa(c.ASSet)})
	}
	cw.Flush()
	return cw.Error()
}

// WritePeersCSV writes the per-peer report.
func WritePeersCSV(w io.Writer, rows []PeerRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"peer_as", "peer_ip", "routes", "dropped", "unreachable"})
	for _, r := range rows {
		cw.Write([]string{strconv.FormatUint(uint64(r.AS), 10), r.IP.String(), strconv.Itoa(r.Routes), strconv.Itoa(r.Dropped), strconv.Itoa(r.Unreachable)})
	}
	cw.Flush()
	return cw.Error()
}

// OriginLabel is how every human report (tables, HTML; analyze, lookup,
// diff, history) shows a route's origin: "AS15169", or for a route whose
// AS_PATH ends in an AS_SET (origin NONE, RFC 6811 §2) "AS_SET {64510,64511}",
// or just "AS_SET" when the set is not known. JSON keeps the number (null
// for AS_SET) and CSV the bare number, for programs.
func OriginLabel(o *uint32, asSet []uint32) string {
	if o != nil {
		return rov.FormatASN(*o)
	}
	if len(asSet) == 0 {
		return "AS_SET"
	}
	return "AS_SET {" + joinASNs(asSet, ",", "") + "}"
}

// originString is the machine (CSV) form of an origin: the bare number,
// or null for AS_SET.
func originString(o *uint32, null string) string {
	if o == nil {
		return null
	}
	return strconv.FormatUint(uint64(*o), 10)
}

func joinASNs(asns []uint32, sep, prefix string) string {
	parts := make([]string, len(asns))
	for i, a := range asns {
		parts[i] = prefix + strconv.FormatUint(uint64(a), 10)
	}
	return strings.Join(parts, sep)
}

func vrpList(vrps []VRPRef, sep string) string {
	parts := make([]string, len(vrps))
	for i, v := range vrps {
		if int(v.MaxLength) == v.Prefix.Bits() {
			parts[i] = fmt.Sprintf("%s AS%d", v.Prefix, v.ASN)
		} else {
			parts[i] = fmt.Sprintf("%s-%d AS%d", v.Prefix, v.MaxLength, v.ASN)
		}
	}
	return strings.Join(parts, sep)
}

func formatShare(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func newTable(w io.Writer, header ...any) *tablewriter.Table {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignLeft))
	t.Header(header...)
	return t
}

// TerminalWidth is the width WriteTable keeps to: a normal terminal's,
// so the report does not wrap (WriteTableWide shows every column whole).
const TerminalWidth = 120

// WriteTable writes the human report: the summary breakdown, then the top
// invalid routes (worst impact first), the origins to call and, with
// --per-peer, each peer's view. top limits the route and origin tables
// (0: all). Every line fits TerminalWidth columns: the invalid routes table
// folds the cover into the impact, shows one deciding VRP and how many
// more, folds long AS_SETs and wraps long cells.
func WriteTable(w io.Writer, rep Report, top int) error { return writeTable(w, rep, top, false) }

// WriteTableWide is WriteTable with every column and VRP list shown whole,
// however wide the lines get (rovimpact analyze --wide; report.txt).
func WriteTableWide(w io.Writer, rep Report, top int) error { return writeTable(w, rep, top, true) }

func writeTable(w io.Writer, rep Report, top int, wide bool) error {
	s := rep.Summary
	for _, l := range Losses(s) {
		fmt.Fprintf(w, "PARTIAL INPUT: %s\n", l)
	}
	fmt.Fprintf(w, "Routes: %d unique (prefix, origin) from %d paths, %d peers, %d prefixes\nVRPs: %d",
		s.Routes, s.Paths, s.Peers, s.Prefixes, s.VRPs.Loaded)
	if s.VRPs.Expired > 0 {
		fmt.Fprintf(w, " (%d expired", s.VRPs.Expired)
		if s.VRPs.DroppedExpired > 0 {
			fmt.Fprint(w, ", dropped")
		}
		fmt.Fprint(w, ")")
	}
	if s.VRPs.SLURMRemoved+s.VRPs.SLURMAdded > 0 {
		fmt.Fprintf(w, ", SLURM -%d +%d", s.VRPs.SLURMRemoved, s.VRPs.SLURMAdded)
	}
	fmt.Fprintf(w, "; %s", VRPAge(s.VRPs))
	if src := VRPSourceTimes(s.VRPs); src != "" {
		fmt.Fprintf(w, "\nVRP files: %s", src)
	}
	if span := RecordSpan(s.Inputs); span != "" {
		fmt.Fprintf(w, "\nRoute records: %s", span)
	}
	fmt.Fprintf(w, "\nPolicy: AS_SET %s, default route counts as cover: %v\n", s.Policy.ASSet, s.Policy.CountDefault)
	if g := s.Generated.String(); g != "" {
		fmt.Fprintf(w, "Generated by %s\n", g)
	}
	fmt.Fprintln(w)

	t := newTable(w, "State", "Routes", "Share", "IPv4", "IPv6")
	v4, v6 := s.Families[0], s.Families[1]
	t.Append("valid", s.Valid, pct(s.Valid, s.Routes), v4.Valid, v6.Valid)
	t.Append("invalid", s.Invalid, pct(s.Invalid, s.Routes), v4.Invalid, v6.Invalid)
	t.Append("not_found", s.NotFound, pct(s.NotFound, s.Routes), v4.NotFound, v6.NotFound)
	t.Append("total", s.Routes, pct(s.Routes, s.Routes), v4.Routes, v6.Routes)
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t = newTable(w, "Invalid because", "Routes", "Share of invalid", "IPv4", "IPv6")
	for _, c := range []struct {
		name string
		get  func(ClassCounts) int
	}{
		{"too_specific", func(c ClassCounts) int { return c.TooSpecific }},
		{"wrong_origin", func(c ClassCounts) int { return c.WrongOrigin }},
		{"both", func(c ClassCounts) int { return c.Both }},
		{"too_short", func(c ClassCounts) int { return c.TooShort }},
		{"as_set", func(c ClassCounts) int { return c.ASSet }},
	} {
		t.Append(c.name, c.get(s.Classes), pct(c.get(s.Classes), s.Invalid), c.get(v4.Classes), c.get(v6.Classes))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "AS0 (all covering VRPs are AS0): %d\n\n", s.AS0)
	t = newTable(w, "When ROV drops them", "Routes", "Share of dropped", "IPv4", "IPv6")
	for _, c := range []struct {
		name string
		get  func(ImpactCounts) int
	}{
		{"same_prefix (another route to the same prefix)", func(c ImpactCounts) int { return c.SamePrefix }},
		{"covered (a less-specific route survives)", func(c ImpactCounts) int { return c.Covered }},
		{"more_specifics (surviving more-specifics cover it)", func(c ImpactCounts) int { return c.MoreSpecifics }},
		{"unreachable", func(c ImpactCounts) int { return c.Unreachable }},
	} {
		t.Append(c.name, c.get(s.Impact), pct(c.get(s.Impact), s.Dropped), c.get(v4.Impact), c.get(v6.Impact))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Carried by another origin AS's route after ROV: %d\n", s.CoverOtherAS)
	if s.Unvalidated > 0 {
		fmt.Fprintf(w, "Not validated (origin is the local AS; give --local-as): %d routes\n", s.Unvalidated)
	}
	if s.Skipped.Total > 0 {
		reasons := make([]string, 0, len(s.Skipped.Reasons))
		for k, v := range s.Skipped.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(reasons)
		fmt.Fprintf(w, "Skipped: %d (%s)\n", s.Skipped.Total, strings.Join(reasons, ", "))
	}

	invs := make([]Invalid, 0, len(limit(rep.Invalids, top)))
	for _, i := range limit(defaultOrder(rep.Invalids), top) {
		invs = append(invs, rep.Invalids[i])
	}
	if n := len(rep.Invalids); n > 0 {
		fmt.Fprintf(w, "\nInvalid routes (%s):\n", shown(n, top))
		if !wide {
			if err := compactInvalids(w, invs); err != nil {
				return err
			}
			invs = nil
		}
		t = newTable(w, "Prefix", "Origin", "Class", "Impact", "Cover", "Paths", "Peers", "VRPs")
		for _, inv := range limit(invs, top) {
			origin := OriginLabel(inv.Origin, inv.ASSet)
			class := inv.Class.String()
			if inv.AS0 {
				class += " (AS0)"
			}
			vrps := vrpList(limit(inv.VRPs, 3), ", ")
			if len(inv.VRPs) > 3 {
				vrps += fmt.Sprintf(" (+%d more)", len(inv.VRPs)-3)
			}
			t.Append(inv.Prefix, origin, class, impactCell(inv), coverCell(inv.Cover), inv.Paths, inv.Peers, vrps)
		}
		if wide {
			if err := t.Render(); err != nil {
				return err
			}
		}
	}
	if len(rep.Origins) > 0 {
		fmt.Fprintf(w, "\nOrigins with invalid routes (%s), most unreachable first:\n", shown(len(rep.Origins), top))
		t = newTable(w, "Origin", "Invalid", "Unreachable", "too_specific", "wrong_origin", "both", "too_short", "as_set")
		for _, r := range limit(rep.Origins, top) {
			c := r.Classes
			t.Append(OriginLabel(r.Origin, nil), r.Invalid, r.Unreachable, c.TooSpecific, c.WrongOrigin, c.Both, c.TooShort, c.ASSet)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if len(rep.Peers) > 0 {
		fmt.Fprintln(w, "\nPer peer (each peer's own view):")
		t = newTable(w, "Peer AS", "Peer IP", "Routes", "Dropped", "Unreachable prefixes")
		for _, r := range rep.Peers {
			t.Append(r.AS, r.IP, r.Routes, r.Dropped, r.Unreachable)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}

// compactColumns are the invalid routes table's columns within
// TerminalWidth: each width includes the cell's padding, and the borders
// take one column more than there are columns (6 + 113 + 1 = 120).
var compactColumns = []column{{"Prefix", 24}, {"Origin", 14}, {"Class", 14}, {"Impact (via cover)", 28}, {"Paths", 7}, {"VRPs", 26}}

// compactInvalids writes the invalid routes within TerminalWidth: the
// cover goes into the impact cell, one deciding VRP is shown with how many
// more (--wide or JSON list them all), an AS_SET shows its first two ASNs,
// and what is still too long wraps inside its column.
func compactInvalids(w io.Writer, invs []Invalid) error {
	t := compactTable(w, compactColumns)
	for _, inv := range invs {
		origin := foldedOrigin(inv.Origin, inv.ASSet)
		class := inv.Class.String()
		if inv.AS0 {
			class += " (AS0)"
		}
		impact := impactCell(inv)
		if c := coverCell(inv.Cover); c != "" {
			impact += " via " + c
		}
		vrps := vrpList(limit(inv.VRPs, 1), "")
		if len(inv.VRPs) > 1 {
			vrps += fmt.Sprintf(" (+%d more)", len(inv.VRPs)-1)
		}
		t.Append(inv.Prefix, origin, class, impact, inv.Paths, vrps)
	}
	return t.Render()
}

// column is a compact table's column: its header and its width, padding
// included.
type column struct {
	name  string
	width int
}

// foldedOrigin is OriginLabel with an AS_SET of more than two ASNs cut to
// its first two and a count, for the compact tables.
func foldedOrigin(o *uint32, asSet []uint32) string {
	if o == nil && len(asSet) > 2 {
		return fmt.Sprintf("AS_SET {%s,…} +%d", joinASNs(asSet[:2], ",", ""), len(asSet)-2)
	}
	return OriginLabel(o, asSet)
}

// compactTable is a table whose columns wrap at the given widths (each
// including its padding), so that it fits TerminalWidth.
func compactTable(w io.Writer, cols []column) *tablewriter.Table {
	b := tablewriter.NewConfigBuilder()
	header := make([]any, len(cols))
	for i, c := range cols {
		b.ForColumn(i).WithMaxWidth(c.width)
		header[i] = c.name
	}
	cfg := b.Build()
	cfg.Row.Formatting.AutoWrap = tw.WrapNormal
	t := tablewriter.NewTable(w, tablewriter.WithConfig(cfg), tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignLeft))
	t.Header(header...)
	return t
}

func impactCell(inv Invalid) string {
	switch {
	case !inv.Dropped:
		return "kept (policy)"
	case inv.Impact == classify.Unreachable && inv.CoveredShare > 0 && inv.CoveredShare < 0.01:
		return "unreachable (<1% via more-specifics)"
	case inv.Impact == classify.Unreachable && inv.CoveredShare > 0:
		return fmt.Sprintf("unreachable (%.0f%% via more-specifics)", 100*inv.CoveredShare)
	}
	return inv.Impact.String()
}

func coverCell(c *Cover) string {
	if c == nil {
		return ""
	}
	s := fmt.Sprintf("%s %s (%s)", c.Prefix, joinASNs(c.Origins, ",", "AS"), c.State.String())
	if c.OtherOrigin {
		s += " other AS"
	}
	return s
}

func shown(n, top int) string {
	if top > 0 && n > top {
		return fmt.Sprintf("top %d of %d", top, n)
	}
	return fmt.Sprintf("%d", n)
}

func limit[T any](rows []T, top int) []T {
	if top > 0 && len(rows) > top {
		return rows[:top]
	}
	return rows
}
