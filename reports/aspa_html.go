package reports

import (
	"fmt"
	"html/template"
	"io"
	"net/netip"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// The ASPA section of the HTML report: summary cards, the ROV × ASPA
// matrix, the per-peer and per-origin rollups (first htmlFallbackRows rows,
// sortable in place) and the ASPA-invalid and unverified paths, embedded as
// data (htmlData.ASPAPaths) and paged, sorted and filtered by the script
// like the invalid routes, with the first htmlFallbackRows rendered here.
// It shows when the document carries an ASPA report: rovimpact aspa
// --format html, and analyze --aspa.

// htmlASPA is what the template's ASPA section reads.
type htmlASPA struct {
	S                       ASPASummary
	Routes                  int
	Matrix                  []htmlASPAMatrixRow
	Peers                   []ASPAPeerRow
	Origins                 []htmlASPAOrigin
	Paths                   []template.HTML
	NPaths, NPeers, NOrigin int
	Notes                   []string
}

type htmlASPAMatrixRow struct {
	ROV                                 string
	Valid, Unknown, Invalid, Unverified int64
}

type htmlASPAOrigin struct {
	Origin string
	ASPAOriginRow
}

func newHTMLASPA(rep *ASPAReport) *htmlASPA {
	if rep == nil {
		return nil
	}
	x := rep.Summary.ASPA
	h := &htmlASPA{S: x, Routes: rep.Summary.Routes, NPaths: len(rep.InvalidPaths), NPeers: len(rep.Peers), NOrigin: len(rep.Origins),
		Peers: rep.Peers[:min(htmlFallbackRows, len(rep.Peers))], Notes: rep.Summary.Notes}
	for _, rs := range []string{"valid", "not_found", "invalid"} {
		m := x.Matrix[rs]
		h.Matrix = append(h.Matrix, htmlASPAMatrixRow{ROV: rs, Valid: m["valid"], Unknown: m["unknown"], Invalid: m["invalid"], Unverified: m["unverified"]})
	}
	for _, o := range rep.Origins[:min(htmlFallbackRows, len(rep.Origins))] {
		h.Origins = append(h.Origins, htmlASPAOrigin{Origin: asLabel(o.Origin), ASPAOriginRow: o})
	}
	for _, p := range rep.InvalidPaths[:min(htmlFallbackRows, len(rep.InvalidPaths))] {
		h.Paths = append(h.Paths, aspaPathRowHTML(p))
	}
	return h
}

// aspaHopText is a failing hop as the HTML shows it: "AS64501>AS64496".
func aspaHopText(h *ASPAHop) string {
	if h == nil {
		return ""
	}
	return fmt.Sprintf("AS%d>AS%d", h.Customer, h.Provider)
}

// aspaProviderItems are an ASPA's providers as the fold lists them.
func aspaProviderItems(h *ASPAHop) []string {
	if h == nil {
		return nil
	}
	if len(h.Providers) == 0 {
		return []string{"none (AS0)"}
	}
	out := make([]string, len(h.Providers))
	for i, p := range h.Providers {
		out[i] = fmt.Sprintf("AS%d", p)
	}
	return out
}

// aspaPathRowHTML is one path's row, cell for cell what report.js's
// aspaPathModel writes.
func aspaPathRowHTML(p ASPAPathRow) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	peer := fmt.Sprintf("AS%d", p.PeerAS)
	if p.PeerIP.IsValid() {
		peer += " " + p.PeerIP.String()
	}
	why := p.Reason.String()
	if p.State == rov.ASPAUnverified {
		why = "unverified: " + why
	}
	route := "lost"
	if p.Survives {
		route = "kept"
	}
	b.WriteString("<tr><td>" + esc(p.Prefix.String()) + "</td><td>" + esc(asLabel(p.Origin)) + "</td><td>" + esc(peer) + "</td><td>" +
		esc(p.Role.String()) + "</td><td>" + esc(why) + "</td><td>")
	hops := []string{}
	provs := []string{}
	for _, h := range []*ASPAHop{p.Up, p.Down} {
		if h == nil {
			continue
		}
		hops = append(hops, aspaHopText(h))
		var pb strings.Builder
		foldHTML(&pb, aspaProviderItems(h), ", ", "")
		provs = append(provs, pb.String())
	}
	if p.Reason == rov.ASPAReasonFirstAS {
		hops = append(hops, fmt.Sprintf("first AS%d", p.FirstAS))
	}
	b.WriteString(esc(strings.Join(hops, " ")) + "</td><td>" + strings.Join(provs, "<br>") + "</td><td>" + esc(p.ROV.String()) + "</td><td>" + route + "</td></tr>\n")
	return template.HTML(b.String())
}

// htmlASPAPathCols are the ASPA-invalid and unverified paths as columns:
// prefix, origin (null: AS_SET), peer_as, peer_ip ("" for none), role,
// state, reason (dictionary strings), first_as, up and down (the failing
// hops, [customer, provider], null: none), up_providers and
// down_providers (the customer's ASPA; [] for AS0), rov, survives (0/1).
type htmlASPAPathCols struct {
	Prefix        []netip.Prefix `json:"prefix"`
	Origin        []*uint32      `json:"origin"`
	PeerAS        []uint32       `json:"peer_as"`
	PeerIP        []string       `json:"peer_ip"`
	Role          []string       `json:"role"`
	State         []string       `json:"state"`
	Reason        []string       `json:"reason"`
	FirstAS       []uint32       `json:"first_as"`
	Up            []*[2]uint32   `json:"up"`
	UpProviders   [][]uint32     `json:"up_providers"`
	Down          []*[2]uint32   `json:"down"`
	DownProviders [][]uint32     `json:"down_providers"`
	ROV           []string       `json:"rov"`
	Survives      []int          `json:"survives"`
}

func newHTMLASPAPaths(rows []ASPAPathRow) *htmlASPAPathCols {
	n := len(rows)
	c := &htmlASPAPathCols{Prefix: make([]netip.Prefix, n), Origin: make([]*uint32, n), PeerAS: make([]uint32, n), PeerIP: make([]string, n),
		Role: make([]string, n), State: make([]string, n), Reason: make([]string, n), FirstAS: make([]uint32, n),
		Up: make([]*[2]uint32, n), UpProviders: make([][]uint32, n), Down: make([]*[2]uint32, n), DownProviders: make([][]uint32, n),
		ROV: make([]string, n), Survives: make([]int, n)}
	hop := func(h *ASPAHop) (*[2]uint32, []uint32) {
		if h == nil {
			return nil, nil
		}
		ps := h.Providers
		if ps == nil {
			ps = []uint32{}
		}
		return &[2]uint32{h.Customer, h.Provider}, ps
	}
	for i, r := range rows {
		c.Prefix[i], c.Origin[i], c.PeerAS[i], c.PeerIP[i] = r.Prefix, r.Origin, r.PeerAS, addrString(r.PeerIP)
		c.Role[i], c.State[i], c.Reason[i], c.FirstAS[i] = r.Role.String(), r.State.String(), r.Reason.String(), r.FirstAS
		c.Up[i], c.UpProviders[i] = hop(r.Up)
		c.Down[i], c.DownProviders[i] = hop(r.Down)
		c.ROV[i], c.Survives[i] = r.ROV.String(), b2i(r.Survives)
	}
	return c
}

// writeASPAHTML is the aspa document's html format: the HTML report of
// the ROV analysis of the same table (d.ROV) with the ASPA section.
func writeASPAHTML(w io.Writer, d ASPADoc) error {
	var rov Report
	if d.ROV != nil {
		rov = d.ROV()
	}
	return WriteHTML(w, HTMLDoc{Title: "rovimpact: what ROV and ASPA would drop", Report: rov, ASPA: &d.Report, Generated: d.Generated})
}
