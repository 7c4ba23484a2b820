package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// decodeAnswers decodes a lookup document's answers as generic JSON, so
// that documents compare field for field whatever their layout.
func decodeAnswers(t testing.TB, body string) []any {
	t.Helper()
	var doc struct{ Answers []map[string]any }
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	out := make([]any, len(doc.Answers))
	for i, a := range doc.Answers {
		delete(a, "answer")
		out[i] = a
	}
	return out
}

// pageState is a table of n routes with VRPs making about a third of them
// invalid in each class, from two peers, IPv4 and IPv6.
func pageState(t testing.TB, n int) *live.State {
	t.Helper()
	s := live.New(live.Options{})
	var vrps []rov.VRP
	for x := range n/256 + 1 {
		// Even /16s allow their /24s (valid, or wrong_origin), odd ones
		// stop at /23 (too_specific, or both).
		vrps = append(vrps, vrp(fmt.Sprintf("10.%d.0.0/16", x), 23+(x+1)%2, 64500))
	}
	vrps = append(vrps, vrp("2001:db8::/32", 40, 64500))
	s.SetVRPs(vrps)
	for i := range n {
		pfx := fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		if i%10 == 9 {
			pfx = fmt.Sprintf("2001:db8:%x::/48", i)
		}
		origin := uint32(64500 + i%3) // valid or wrong_origin where covered
		peer := fixPeers[i%2]
		r := route.Route{Kind: route.Announce, Peer: peer, Prefix: netip.MustParsePrefix(pfx),
			Path: []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{peer.AS, origin}}}, RPKIState: route.RPKIAbsent}
		r.Origin = rov.OriginOf(r.Path)
		s.Apply(&r)
	}
	return s
}

// walk follows next_cursor from url until the last page, checking each
// page's size; it returns the pages' bodies.
func walk(t *testing.T, h http.Handler, u string, limit int, entries func(body string) int) []string {
	t.Helper()
	return walkFrom(t, h, u, "", limit, entries)
}

// walkFrom is walk starting at cursor next ("": the first page).
func walkFrom(t *testing.T, h http.Handler, u, next string, limit int, entries func(body string) int) []string {
	t.Helper()
	var pages []string
	for range 20000 {
		v := u
		if limit > 0 {
			v += "&limit=" + fmt.Sprint(limit)
		}
		if next != "" {
			v += "&cursor=" + url.QueryEscape(next)
		}
		code, _, body := get(t, h, v)
		if code != 200 {
			t.Fatalf("%s: %d %s", v, code, body)
		}
		var p struct {
			Next  *string `json:"next_cursor"`
			Limit int
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		want := limit
		if limit == 0 {
			want = DefaultPageLimit
		}
		if p.Limit != want {
			t.Fatalf("%s: limit %d, want %d", v, p.Limit, want)
		}
		if n := entries(body); n > want || n == 0 && p.Next != nil {
			t.Fatalf("%s: %d entries on a page of %d (next %v)", v, n, want, p.Next)
		}
		pages = append(pages, body)
		if p.Next == nil {
			return pages
		}
		next = *p.Next
	}
	t.Fatal("no last page")
	return nil
}

// lookupEntries counts the list entries of a lookup page (an answer with
// none counts one, as the page counts it).
func lookupEntries(body string) int {
	var doc struct{ Answers []map[string]json.RawMessage }
	json.Unmarshal([]byte(body), &doc)
	n := 0
	for _, a := range doc.Answers {
		k := 0
		for _, f := range []string{"covering_vrps", "inside_vrps", "routes", "less_specific", "more_specific", "originated", "vrps", "suggested_vrps"} {
			var l []any
			if raw, ok := a[f]; ok {
				json.Unmarshal(raw, &l)
			}
			k += len(l)
		}
		n += max(k, 1)
	}
	return n
}

// TestLookupPagesWalk: walking every page of a lookup and joining the
// lists of each answer gives exactly the unpaged lookup answer (what
// `rovimpact lookup --format json` says), for every query kind and page
// size, and no page holds more than its limit.
func TestLookupPagesWalk(t *testing.T) {
	st := pageState(t, 1500)
	srv := New(Config{Table: st})
	snap := st.Snapshot()
	queries := [][]string{
		{"0.0.0.0/0"},
		{"10.1.0.0/16", "AS64501", "10.1.2.3", "192.0.2.0/24", "2001:db8::/32", "AS64999"},
		{"::/0", "AS64500"},
	}
	limits := [][]int{{37, 0, MaxPageLimit}, {4, 0}, {29, 0}}
	for qi, qs := range queries {
		for _, origin := range []*uint32{nil, ptr(uint32(64500))} {
			var answers []reports.Answer
			for _, q := range qs {
				pq, err := reports.ParseQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				answers = append(answers, reports.Lookup(snap.Analysis, pq, origin))
			}
			var b strings.Builder
			if err := reports.WriteLookupJSON(&b, answers); err != nil {
				t.Fatal(err)
			}
			want := decodeAnswers(t, b.String())
			u := "/api/lookup?q=" + strings.Join(qs, "&q=")
			if origin != nil {
				u += "&origin=AS64500"
			}
			for _, limit := range limits[qi] {
				t.Run(fmt.Sprintf("%s/limit=%d", u, limit), func(t *testing.T) {
					pages := walk(t, srv, u, limit, lookupEntries)
					got := joinAnswers(t, pages)
					if !reflect.DeepEqual(got, want) {
						gj, _ := json.Marshal(got)
						wj, _ := json.Marshal(want)
						t.Fatalf("%d pages joined:\n%.2000s\nwant:\n%.2000s", len(pages), gj, wj)
					}
				})
			}
		}
	}
}

// joinAnswers concatenates, across pages, the lists of the answers with
// the same "answer" index; their other fields must agree.
func joinAnswers(t *testing.T, pages []string) []any {
	t.Helper()
	var out []map[string]any
	for _, body := range pages {
		var doc struct{ Answers []map[string]any }
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, a := range doc.Answers {
			i := int(a["answer"].(float64))
			delete(a, "answer")
			switch {
			case i == len(out):
				out = append(out, a)
			case i == len(out)-1:
				prev := out[i]
				for k, v := range a {
					if l, ok := v.([]any); ok {
						old, _ := prev[k].([]any)
						prev[k] = append(old, l...)
					} else if !reflect.DeepEqual(prev[k], v) {
						t.Fatalf("answer %d: field %s differs between pages: %v, %v", i, k, prev[k], v)
					}
				}
			default:
				t.Fatalf("answer %d after answer %d", i, len(out)-1)
			}
		}
	}
	res := make([]any, len(out))
	for i := range out {
		res[i] = out[i]
	}
	return res
}

func invalidEntries(body string) int {
	var doc struct{ Invalids []any }
	json.Unmarshal([]byte(body), &doc)
	return len(doc.Invalids)
}

// TestInvalidsPagesWalk: every page of /api/invalids joined is the
// unpaged list (analyze's invalids, filtered), for each page size and
// filter.
func TestInvalidsPagesWalk(t *testing.T) {
	st := pageState(t, 3000)
	srv := New(Config{Table: st})
	rep, _ := srv.Report()
	for _, filter := range []string{"", "class=wrong_origin", "impact=unreachable", "origin=AS64502&dropped=true"} {
		var want []reports.Invalid
		f, err := parseInvalidFilter(mustQuery(t, filter))
		if err != nil {
			t.Fatal(err)
		}
		for i := range rep.Invalids {
			if f.match(&rep.Invalids[i]) {
				want = append(want, rep.Invalids[i])
			}
		}
		if filter == "" && len(want) <= DefaultPageLimit {
			t.Fatalf("fixture: %d invalids, want more than a default page", len(want))
		}
		for _, limit := range []int{7, 250, 0, MaxPageLimit} {
			t.Run(fmt.Sprintf("%s/limit=%d", filter, limit), func(t *testing.T) {
				var got []reports.Invalid
				for _, body := range walk(t, srv, "/api/invalids?"+filter, limit, invalidEntries) {
					var doc struct{ Invalids []reports.Invalid }
					if err := json.Unmarshal([]byte(body), &doc); err != nil {
						t.Fatal(err)
					}
					got = append(got, doc.Invalids...)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%d rows joined, want %d", len(got), len(want))
				}
			})
		}
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestInvalidsCursorAcrossChanges: a cursor names the last route of its
// page, so when the table changes between pages the walk still lists each
// route present throughout exactly once, and routes that appeared after
// the cursor's place.
func TestInvalidsCursorAcrossChanges(t *testing.T) {
	st := pageState(t, 300)
	srv := New(Config{Table: st, MaxWait: -1}) // the pages after the change must see it
	code, _, body := get(t, srv, "/api/invalids?limit=10")
	var p1 struct {
		Invalids []reports.Invalid
		Next     string `json:"next_cursor"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &p1) != nil || p1.Next == "" {
		t.Fatalf("first page: %d %s", code, body)
	}
	// Withdraw a route of the first page, announce a new invalid route
	// before the cursor and one after it.
	first := p1.Invalids[0]
	for _, pk := range fixPeers {
		st.Apply(&route.Route{Kind: route.Withdraw, Peer: pk, Prefix: first.Prefix, RPKIState: route.RPKIAbsent})
	}
	add := func(pfx string) {
		r := route.Route{Kind: route.Announce, Peer: fixPeers[0], Prefix: netip.MustParsePrefix(pfx),
			Path: []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{65000, 64666}}}, RPKIState: route.RPKIAbsent}
		r.Origin = rov.OriginOf(r.Path)
		st.Apply(&r)
	}
	add("10.0.0.0/25")  // sorts before the cursor: not on later pages
	add("10.0.40.0/25") // after it: on a later page
	var rest []reports.Invalid
	for _, b := range walkFrom(t, srv, "/api/invalids?", p1.Next, 10, invalidEntries) {
		var doc struct{ Invalids []reports.Invalid }
		json.Unmarshal([]byte(b), &doc)
		rest = append(rest, doc.Invalids...)
	}
	seen := map[string]int{}
	for _, inv := range append(p1.Invalids, rest...) {
		seen[fmt.Sprint(inv.Prefix, *inv.Origin)]++
	}
	rep, _ := srv.Report()
	for _, inv := range rep.Invalids {
		k := fmt.Sprint(inv.Prefix, *inv.Origin)
		if inv.Prefix.String() == "10.0.0.0/25" {
			if seen[k] != 0 {
				t.Errorf("%s (before the cursor) listed after it", k)
			}
			continue
		}
		if seen[k] != 1 {
			t.Errorf("%s listed %d times, want once", k, seen[k])
		}
	}
}

// TestPageErrors: a limit out of range and a cursor this server did not
// issue for these parameters are 400s with a JSON error; a lookup cursor
// whose snapshot is gone is a 409.
func TestPageErrors(t *testing.T) {
	st := pageState(t, 300)
	now := time.Unix(1700000000, 0)
	srv := New(Config{Table: st, Now: func() time.Time { return now }})
	_, _, body := get(t, srv, "/api/lookup?q=10.0.0.0/8&limit=5")
	var lk struct {
		Next string `json:"next_cursor"`
	}
	json.Unmarshal([]byte(body), &lk)
	_, _, body = get(t, srv, "/api/invalids?limit=5")
	var inv struct {
		Next string `json:"next_cursor"`
	}
	json.Unmarshal([]byte(body), &inv)
	if lk.Next == "" || inv.Next == "" {
		t.Fatalf("fixture: no next cursors (%q, %q)", lk.Next, inv.Next)
	}
	tests := []struct {
		name, url string
		code      int
	}{
		{"limit 0", "/api/invalids?limit=0", 400},
		{"negative limit", "/api/lookup?q=10.0.0.0/8&limit=-1", 400},
		{"limit above the maximum", fmt.Sprintf("/api/invalids?limit=%d", MaxPageLimit+1), 400},
		{"limit not a number", "/api/lookup?q=10.0.0.0/8&limit=all", 400},
		{"limit at the maximum", fmt.Sprintf("/api/invalids?limit=%d", MaxPageLimit), 200},
		{"cursor not base64", "/api/invalids?cursor=!!!", 400},
		{"cursor not JSON", "/api/invalids?cursor=" + "bm90IGpzb24", 400},
		{"cursor too long", "/api/invalids?cursor=" + strings.Repeat("A", maxCursor+1), 400},
		{"lookup cursor on invalids", "/api/invalids?cursor=" + lk.Next, 400},
		{"invalids cursor on lookup", "/api/lookup?q=10.0.0.0/8&cursor=" + inv.Next, 400},
		{"cursor with other filters", "/api/invalids?class=both&cursor=" + inv.Next, 400},
		{"cursor with other queries", "/api/lookup?q=10.0.0.0/16&cursor=" + lk.Next, 400},
		{"cursor with another origin", "/api/lookup?q=10.0.0.0/8&origin=AS1&cursor=" + lk.Next, 400},
		{"cursor forged beyond the answer", "/api/lookup?q=10.0.0.0/8&cursor=" + cursor{Sig: signature("/api/lookup", mustQuery(t, "q=10.0.0.0/8")), Epoch: st.Snapshot().Epoch, Item: 1 << 30}.encode(), 400},
		{"cursor forged to a negative item", "/api/lookup?q=10.0.0.0/8&cursor=" + cursor{Sig: signature("/api/lookup", mustQuery(t, "q=10.0.0.0/8")), Epoch: st.Snapshot().Epoch, Item: -1}.encode(), 400},
		{"lookup cursor, same parameters", "/api/lookup?q=10.0.0.0/8&limit=5&cursor=" + lk.Next, 200},
		{"limit may change between pages", "/api/lookup?q=10.0.0.0/8&limit=50&cursor=" + lk.Next, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := get(t, srv, tt.url)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %.300s", code, tt.code, body)
			}
			if code != 200 {
				var e struct{ Error string }
				if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
					t.Errorf("error body %q: want {\"error\": ...}", body)
				}
			}
		})
	}
	// The table changes: the lookup cursor's snapshot stays pinned ...
	r := route.Route{Kind: route.Announce, Peer: fixPeers[0], Prefix: netip.MustParsePrefix("10.200.0.0/24"),
		Path: []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{65000, 64666}}}, RPKIState: route.RPKIAbsent}
	r.Origin = rov.OriginOf(r.Path)
	st.Apply(&r)
	if code, _, body := get(t, srv, "/api/lookup?q=10.0.0.0/8&limit=5&cursor="+lk.Next); code != 200 {
		t.Fatalf("pinned snapshot: %d %s", code, body)
	}
	// ... until pinFor has passed: then the walk must start again.
	now = now.Add(pinFor + time.Second)
	code, _, body := get(t, srv, "/api/lookup?q=10.0.0.0/8&limit=5&cursor="+lk.Next)
	if code != http.StatusConflict || !strings.Contains(body, "start again") {
		t.Fatalf("stale cursor: %d %s, want 409", code, body)
	}
}

// TestPagesGzip: with Accept-Encoding: gzip the page is gzipped and
// decompresses to the same document; with q=0, or without the header, it
// is not.
func TestPagesGzip(t *testing.T) {
	srv := New(Config{Table: pageState(t, 300)})
	for _, u := range []string{"/api/invalids?limit=50", "/api/lookup?q=10.0.0.0/8&q=AS64500&limit=70"} {
		_, _, plain := get(t, srv, u)
		for _, tc := range []struct {
			accept string
			gz     bool
		}{{"gzip", true}, {"br, gzip;q=0.5", true}, {"GZIP", true}, {"gzip;q=0", false}, {"identity", false}, {"", false}} {
			t.Run(u+"/"+tc.accept, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodGet, u, nil)
				if tc.accept != "" {
					req.Header.Set("Accept-Encoding", tc.accept)
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				res := rec.Result()
				body, _ := io.ReadAll(res.Body)
				if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gz {
					t.Fatalf("Content-Encoding %q, want gzip=%v", res.Header.Get("Content-Encoding"), tc.gz)
				}
				if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary %q: want Accept-Encoding", res.Header.Get("Vary"))
				}
				if tc.gz {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if string(body) != plain {
					t.Fatalf("decoded body differs from the plain one")
				}
			})
		}
	}
}
