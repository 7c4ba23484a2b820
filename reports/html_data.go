package reports

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
)

// The HTML report embeds its rows once, as data, so that a full table
// (100,000 invalid routes and more) stays a few megabytes and opens in a
// second: the browser renders one page of rows at a time instead of laying
// out every row. The data sits in
//
//	<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip+base64" data-version="1">
//
// as the standard base64 (RFC 4648 §4, wrapped at htmlDataLine characters)
// of the gzip (RFC 1952) of one JSON document, htmlData below. Its tables are
// column arrays of equal length (one entry per row, in the report's row
// order), because a column of small integers compresses far better than
// repeated objects; repeated values go through dictionaries:
//
//	version   1
//	states, classes, impacts  dictionaries of the invalids' state, class
//	          and impact strings ("" is the impact of a route that is not
//	          dropped); invalids.state/class/impact index them
//	vrps      the VRPs the rows cite, column arrays prefix, max_length, asn;
//	          invalids.vrps[i] lists indexes into them (null: no list)
//	covers    distinct covers, column arrays prefix, origins, state;
//	          invalids.cover[i] indexes them, -1: no cover
//	invalids  prefix, origin (null: AS_SET, origin NONE), as_set, state,
//	          class, impact, as0 (0/1), dropped (0/1), paths, peers,
//	          cover, other_origin (0/1: Cover.OtherOrigin of that row),
//	          covered_share, vrps: together exactly the report's Invalid
//	          rows (Explanation excepted), so the HTML and JSON reports give
//	          the same verdicts (ReadHTMLRows reads them back)
//	origins   origin (null: AS_SET), invalid, unreachable, classes
//	          ([too_specific, wrong_origin, both, too_short, as_set])
//	lifetimes prefix, origin, first, last (RFC 3339), runs, current (0/1),
//	          class, impact; absent without a history
//	aspa_paths the ASPA-invalid and unverified paths (htmlASPAPathCols);
//	          absent without ASPA
//
// Compression needs the browser's DecompressionStream (Chromium 80,
// Firefox 113, Safari 16.4); without it, or with scripts off, the page
// shows the summary, charts and the first htmlFallbackRows rows, rendered
// here.

const (
	htmlDataVersion = 1
	htmlDataLine    = 100 // base64 line length
)

type htmlData struct {
	Version   int               `json:"version"`
	States    []string          `json:"states"`
	Classes   []string          `json:"classes"`
	Impacts   []string          `json:"impacts"`
	VRPs      htmlVRPCols       `json:"vrps"`
	Covers    htmlCoverCols     `json:"covers"`
	Invalids  htmlInvalidCols   `json:"invalids"`
	Origins   htmlOriginCols    `json:"origins"`
	Lifetimes *htmlLifetimeCols `json:"lifetimes,omitempty"`
	ASPAPaths *htmlASPAPathCols `json:"aspa_paths,omitempty"`
}

type htmlVRPCols struct {
	Prefix    []netip.Prefix `json:"prefix"`
	MaxLength []uint8        `json:"-"` // see MarshalJSON: []uint8 would become base64
	ASN       []uint32       `json:"asn"`
}

type htmlCoverCols struct {
	Prefix  []netip.Prefix `json:"prefix"`
	Origins [][]uint32     `json:"origins"`
	State   []rov.State    `json:"state"`
}

type htmlInvalidCols struct {
	Prefix       []netip.Prefix `json:"prefix"`
	Origin       []*uint32      `json:"origin"`
	ASSet        [][]uint32     `json:"as_set"`
	State        []int          `json:"state"`
	Class        []int          `json:"class"`
	Impact       []int          `json:"impact"`
	AS0          []int          `json:"as0"`
	Dropped      []int          `json:"dropped"`
	Paths        []uint32       `json:"paths"`
	Peers        []int          `json:"peers"`
	Cover        []int          `json:"cover"`
	OtherOrigin  []int          `json:"other_origin"`
	CoveredShare []float64      `json:"covered_share"`
	VRPs         [][]int        `json:"vrps"`
}

type htmlOriginCols struct {
	Origin      []*uint32 `json:"origin"`
	Invalid     []int     `json:"invalid"`
	Unreachable []int     `json:"unreachable"`
	Classes     [][5]int  `json:"classes"`
}

type htmlLifetimeCols struct {
	Prefix  []netip.Prefix `json:"prefix"`
	Origin  []*uint32      `json:"origin"`
	First   []string       `json:"first"`
	Last    []string       `json:"last"`
	Runs    []int          `json:"runs"`
	Current []int          `json:"current"`
	Class   []string       `json:"class"`
	Impact  []string       `json:"impact"`
}

// MarshalJSON writes max_length as numbers (a []uint8 would be base64).
func (c htmlVRPCols) MarshalJSON() ([]byte, error) {
	ml := make([]int, len(c.MaxLength))
	for i, m := range c.MaxLength {
		ml[i] = int(m)
	}
	return json.Marshal(struct {
		Prefix    []netip.Prefix `json:"prefix"`
		MaxLength []int          `json:"max_length"`
		ASN       []uint32       `json:"asn"`
	}{c.Prefix, ml, c.ASN})
}

// UnmarshalJSON reads what MarshalJSON writes, refusing a max_length
// outside 0..128.
func (c *htmlVRPCols) UnmarshalJSON(b []byte) error {
	var v struct {
		Prefix    []netip.Prefix `json:"prefix"`
		MaxLength []int          `json:"max_length"`
		ASN       []uint32       `json:"asn"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Prefix, c.ASN, c.MaxLength = v.Prefix, v.ASN, make([]uint8, len(v.MaxLength))
	for i, m := range v.MaxLength {
		if m < 0 || m > 128 {
			return fmt.Errorf("vrps.max_length[%d] = %d, want 0..128", i, m)
		}
		c.MaxLength[i] = uint8(m)
	}
	return nil
}

// dict assigns small integers to strings in order of first use.
type dict struct {
	idx  map[string]int
	list []string
}

func (d *dict) id(s string) int {
	if i, ok := d.idx[s]; ok {
		return i
	}
	if d.idx == nil {
		d.idx = map[string]int{}
	}
	d.idx[s] = len(d.list)
	d.list = append(d.list, s)
	return len(d.list) - 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newHTMLData lays a report (and lifetimes, nil: none) out as columns.
func newHTMLData(rep Report, lifetimes []LifetimeRow, aspa *ASPAReport) htmlData {
	var states, classes, impacts dict
	d := htmlData{Version: htmlDataVersion}
	vrpIdx := map[VRPRef]int{}
	coverIdx := map[string]int{}
	n := len(rep.Invalids)
	c := &d.Invalids
	c.Prefix, c.Origin, c.ASSet = make([]netip.Prefix, n), make([]*uint32, n), make([][]uint32, n)
	c.State, c.Class, c.Impact = make([]int, n), make([]int, n), make([]int, n)
	c.AS0, c.Dropped, c.Paths, c.Peers = make([]int, n), make([]int, n), make([]uint32, n), make([]int, n)
	c.Cover, c.OtherOrigin, c.CoveredShare, c.VRPs = make([]int, n), make([]int, n), make([]float64, n), make([][]int, n)
	for i, inv := range rep.Invalids {
		c.Prefix[i], c.Origin[i], c.ASSet[i] = inv.Prefix, inv.Origin, inv.ASSet
		c.State[i], c.Class[i], c.Impact[i] = states.id(inv.State.String()), classes.id(inv.Class.String()), impacts.id(inv.Impact.String())
		c.AS0[i], c.Dropped[i], c.Paths[i], c.Peers[i] = b2i(inv.AS0), b2i(inv.Dropped), inv.Paths, inv.Peers
		c.CoveredShare[i], c.Cover[i] = inv.CoveredShare, -1
		if cv := inv.Cover; cv != nil {
			key := fmt.Sprintf("%s|%v|%t|%s", cv.Prefix, cv.Origins, cv.Origins == nil, cv.State)
			j, ok := coverIdx[key]
			if !ok {
				j = len(d.Covers.Prefix)
				coverIdx[key] = j
				d.Covers.Prefix = append(d.Covers.Prefix, cv.Prefix)
				d.Covers.Origins = append(d.Covers.Origins, cv.Origins)
				d.Covers.State = append(d.Covers.State, cv.State)
			}
			c.Cover[i], c.OtherOrigin[i] = j, b2i(cv.OtherOrigin)
		}
		if inv.VRPs != nil {
			refs := make([]int, len(inv.VRPs))
			for k, v := range inv.VRPs {
				j, ok := vrpIdx[v]
				if !ok {
					j = len(d.VRPs.Prefix)
					vrpIdx[v] = j
					d.VRPs.Prefix = append(d.VRPs.Prefix, v.Prefix)
					d.VRPs.MaxLength = append(d.VRPs.MaxLength, v.MaxLength)
					d.VRPs.ASN = append(d.VRPs.ASN, v.ASN)
				}
				refs[k] = j
			}
			c.VRPs[i] = refs
		}
	}
	d.States, d.Classes, d.Impacts = orEmpty(states.list), orEmpty(classes.list), orEmpty(impacts.list)
	o := &d.Origins
	o.Origin, o.Invalid, o.Unreachable, o.Classes = []*uint32{}, []int{}, []int{}, [][5]int{}
	for _, r := range rep.Origins {
		k := r.Classes
		o.Origin = append(o.Origin, r.Origin)
		o.Invalid = append(o.Invalid, r.Invalid)
		o.Unreachable = append(o.Unreachable, r.Unreachable)
		o.Classes = append(o.Classes, [5]int{k.TooSpecific, k.WrongOrigin, k.Both, k.TooShort, k.ASSet})
	}
	if lifetimes != nil {
		l := &htmlLifetimeCols{Prefix: []netip.Prefix{}, Origin: []*uint32{}, First: []string{}, Last: []string{},
			Runs: []int{}, Current: []int{}, Class: []string{}, Impact: []string{}}
		for _, r := range lifetimes {
			l.Prefix, l.Origin = append(l.Prefix, r.Prefix), append(l.Origin, r.Origin)
			l.First, l.Last = append(l.First, r.FirstSeen.UTC().Format(timeRFC3339)), append(l.Last, r.LastSeen.UTC().Format(timeRFC3339))
			l.Runs, l.Current = append(l.Runs, r.Runs), append(l.Current, b2i(r.Current))
			l.Class, l.Impact = append(l.Class, r.Class), append(l.Impact, r.Impact)
		}
		d.Lifetimes = l
	}
	if aspa != nil {
		d.ASPAPaths = newHTMLASPAPaths(aspa.InvalidPaths)
	}
	return d
}

const timeRFC3339 = "2006-01-02T15:04:05Z07:00"

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// encodeHTMLData writes d as wrapped base64 of gzipped JSON.
func encodeHTMLData(w io.Writer, d htmlData) error {
	js, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("html report data: %w", err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(js)
	if err := zw.Close(); err != nil {
		return fmt.Errorf("html report data: %w", err)
	}
	enc := base64.StdEncoding.EncodeToString(gz.Bytes())
	bw := bufio.NewWriter(w)
	for len(enc) > 0 {
		n := min(len(enc), htmlDataLine)
		bw.WriteByte('\n')
		bw.WriteString(enc[:n])
		enc = enc[n:]
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// HTMLRow is one invalid route read back from an HTML report: the JSON
// report's Invalid, field for field (Explanation is never in the HTML).
type HTMLRow = Invalid

var htmlDataRE = regexp.MustCompile(`<script type="application/octet-stream" id="rovimpact-data" data-encoding="gzip\+base64" data-version="(\d+)">([^<]*)</script>`)

// ReadHTMLRows reads the invalid routes embedded in an HTML report written
// by WriteHTML, in the report's order, so that a test can check that the
// HTML gives the same state, class, impact and cover as the JSON report.
// It reads the whole file into memory. A report without the data block,
// of another data version, or whose data is damaged is an error, as is a
// row referring to a VRP, cover or dictionary entry that is not there.
func ReadHTMLRows(r io.Reader) ([]HTMLRow, error) {
	d, err := readHTMLData(r)
	if err != nil {
		return nil, err
	}
	return d.rows()
}

func readHTMLData(r io.Reader) (htmlData, error) {
	var d htmlData
	page, err := io.ReadAll(r)
	if err != nil {
		return d, fmt.Errorf("html report: %w", err)
	}
	m := htmlDataRE.FindSubmatch(page)
	if m == nil {
		return d, errors.New(`html report: no <script id="rovimpact-data"> data block (not written by rovimpact, or too old)`)
	}
	if v, _ := strconv.Atoi(string(m[1])); v != htmlDataVersion {
		return d, fmt.Errorf("html report: data version %s, this build reads %d", m[1], htmlDataVersion)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(m[2]), "\n", ""))
	if err != nil {
		return d, fmt.Errorf("html report: data block: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return d, fmt.Errorf("html report: data block: %w", err)
	}
	dec := json.NewDecoder(zr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("html report: data block: %w", err)
	}
	return d, nil
}

// rows turns the columns back into Invalid rows, checking every length and
// reference.
func (d htmlData) rows() ([]HTMLRow, error) {
	c := d.Invalids
	n := len(c.Prefix)
	for name, l := range map[string]int{"origin": len(c.Origin), "as_set": len(c.ASSet), "state": len(c.State), "class": len(c.Class),
		"impact": len(c.Impact), "as0": len(c.AS0), "dropped": len(c.Dropped), "paths": len(c.Paths), "peers": len(c.Peers),
		"cover": len(c.Cover), "other_origin": len(c.OtherOrigin), "covered_share": len(c.CoveredShare), "vrps": len(c.VRPs)} {
		if l != n {
			return nil, fmt.Errorf("html report: invalids.%s has %d entries, invalids.prefix %d", name, l, n)
		}
	}
	nv := len(d.VRPs.Prefix)
	if len(d.VRPs.MaxLength) != nv || len(d.VRPs.ASN) != nv {
		return nil, fmt.Errorf("html report: vrps columns of unequal length (%d, %d, %d)", nv, len(d.VRPs.MaxLength), len(d.VRPs.ASN))
	}
	nc := len(d.Covers.Prefix)
	if len(d.Covers.Origins) != nc || len(d.Covers.State) != nc {
		return nil, fmt.Errorf("html report: covers columns of unequal length (%d, %d, %d)", nc, len(d.Covers.Origins), len(d.Covers.State))
	}
	lookup := func(v encoding.TextUnmarshaler, list []string, i int, what string, row int) error {
		if i < 0 || i >= len(list) {
			return fmt.Errorf("html report: invalids row %d: %s %d not in the %d-entry dictionary", row, what, i, len(list))
		}
		if err := v.UnmarshalText([]byte(list[i])); err != nil {
			return fmt.Errorf("html report: invalids row %d: %w", row, err)
		}
		return nil
	}
	out := make([]HTMLRow, n)
	for i := range out {
		inv := Invalid{Prefix: c.Prefix[i], Origin: c.Origin[i], ASSet: c.ASSet[i], AS0: c.AS0[i] != 0, Dropped: c.Dropped[i] != 0,
			Paths: c.Paths[i], Peers: c.Peers[i], CoveredShare: c.CoveredShare[i]}
		if err := lookup(&inv.State, d.States, c.State[i], "state", i); err != nil {
			return nil, err
		}
		if err := lookup(&inv.Class, d.Classes, c.Class[i], "class", i); err != nil {
			return nil, err
		}
		if err := lookup(&inv.Impact, d.Impacts, c.Impact[i], "impact", i); err != nil {
			return nil, err
		}
		if j := c.Cover[i]; j >= 0 {
			if j >= nc {
				return nil, fmt.Errorf("html report: invalids row %d: cover %d of %d", i, j, nc)
			}
			inv.Cover = &Cover{Prefix: d.Covers.Prefix[j], Origins: d.Covers.Origins[j], State: d.Covers.State[j], OtherOrigin: c.OtherOrigin[i] != 0}
		} else if j != -1 {
			return nil, fmt.Errorf("html report: invalids row %d: cover %d", i, j)
		}
		if refs := c.VRPs[i]; refs != nil {
			inv.VRPs = make([]VRPRef, len(refs))
			for k, j := range refs {
				if j < 0 || j >= nv {
					return nil, fmt.Errorf("html report: invalids row %d: vrp %d of %d", i, j, nv)
				}
				inv.VRPs[k] = VRPRef{Prefix: d.VRPs.Prefix[j], MaxLength: d.VRPs.MaxLength[j], ASN: d.VRPs.ASN[j]}
			}
		}
		out[i] = inv
	}
	return out, nil
}
