package serve

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
)

// Paging of /api/invalids and /api/lookup. An answer is cut in pages of at
// most `limit` items (invalid routes; for lookup, the entries of the
// answers' lists: VRPs, routes, suggestions), streamed item by item, so a
// request costs its page, never the whole answer: at 100k routes
// /api/lookup?q=0.0.0.0/0 used to build 114 MB per response.
const (
	// DefaultPageLimit is the page size when the request gives no limit.
	DefaultPageLimit = 1000
	// MaxPageLimit is the largest limit a request may ask for; above it
	// the request is refused (400), not silently cut.
	MaxPageLimit = 10000
	// pinFor is how long the snapshot a lookup cursor was cut from stays
	// available to the next page (see pager).
	pinFor = 2 * time.Minute
	// keepLookup is how long the snapshot lookups read stays held after
	// the last lookup (see lookupSnapshot).
	keepLookup = time.Minute
	// maxCursor bounds the cursor parameter before it is decoded.
	maxCursor = 512
)

// errStaleCursor: the lookup cursor names a snapshot no longer kept.
var errStaleCursor = errors.New("the table changed since this cursor was issued and its snapshot is no longer kept: start again without cursor")

// pager keeps the snapshot the last lookup cursor was cut from, for
// pinFor, so that walking the pages of a lookup sees one table even while
// routes change (a live table changes many times a second). One snapshot
// at most is kept besides the current one: a second walk started from a
// newer snapshot replaces it, and the first walk's next page is a 409.
// Once pinFor has passed it is let go even if no request comes (a
// snapshot of a full table is tens of MB).
type pager struct {
	holder
	until time.Time
}

func (p *pager) pin(s *live.Snapshot, now time.Time) {
	p.mu.Lock()
	p.until = now.Add(pinFor)
	p.mu.Unlock()
	p.hold(s, pinFor)
}

func (p *pager) get(epoch uint64, now time.Time) *live.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.snap == nil || now.After(p.until) {
		p.snap = nil
		return nil
	}
	if p.snap.Epoch != epoch {
		return nil
	}
	return p.snap
}

// holder keeps a snapshot alive for a while after its last use, then lets
// it go: the live table holds its snapshots only weakly (see
// live.State.Snapshot), so what a holder lets go is freed once no one else
// reads it.
type holder struct {
	mu    sync.Mutex
	snap  *live.Snapshot
	gen   uint64 // holds so far: a release of an older hold does nothing
	timer *time.Timer
}

// hold keeps sn for d (real time) from now.
func (h *holder) hold(sn *live.Snapshot, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.snap = sn
	h.gen++
	gen := h.gen
	if h.timer != nil {
		h.timer.Stop()
	}
	h.timer = time.AfterFunc(d, func() {
		h.mu.Lock()
		if h.gen == gen {
			h.snap = nil
		}
		h.mu.Unlock()
	})
}

// lookupSnapshot returns the table's current snapshot for a lookup and
// holds it for keepLookup: lookups in a row on a table that does not
// change read one snapshot instead of each building its own, and a watch
// no one queries holds none.
func (s *Server) lookupSnapshot() *live.Snapshot {
	snap := s.cfg.Table.Snapshot()
	s.recent.hold(snap, keepLookup)
	return snap
}

// cursor is where the next page starts, given to the client as an opaque
// base64url string. Sig binds it to the request's other parameters.
type cursor struct {
	Sig uint64 `json:"s"`
	// /api/invalids: the last route of the previous page (its origin as
	// reports sorts it: an ASN, or 1<<32 for AS_SET). Pages follow the
	// routes' order, not a snapshot: a newer report resumes after it.
	Prefix string `json:"p,omitempty"`
	Origin int64  `json:"o,omitempty"`
	// /api/lookup: the snapshot, the answer (index of its q) and the item
	// within it.
	Epoch  uint64 `json:"e,omitempty"`
	Answer int    `json:"a,omitempty"`
	Item   int    `json:"i,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sig uint64) (cursor, error) {
	var c cursor
	if len(s) > maxCursor {
		return c, fmt.Errorf("cursor: %d bytes, not one this server issued", len(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("cursor %q: not one this server issued: %w", s, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, fmt.Errorf("cursor %q: not one this server issued: %w", s, err)
	}
	if c.Sig != sig {
		return c, fmt.Errorf("cursor %q: issued for other query parameters (give the same ones with a cursor)", s)
	}
	if c.Answer < 0 || c.Item < 0 || c.Origin < 0 || c.Origin > 1<<32 {
		return c, fmt.Errorf("cursor %q: out of range", s)
	}
	return c, nil
}

// signature hashes the request's parameters other than limit and cursor.
func signature(path string, q url.Values) uint64 {
	h := fnv.New64a()
	io.WriteString(h, path)
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "limit" && k != "cursor" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			fmt.Fprintf(h, "\x00%s=%s", k, v)
		}
	}
	return h.Sum64()
}

// parseLimit reads ?limit=: DefaultPageLimit when absent, 1..MaxPageLimit.
func parseLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return DefaultPageLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageLimit {
		return 0, fmt.Errorf("limit %q: want 1 to %d", s, MaxPageLimit)
	}
	return n, nil
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// (RFC 9110 §12.5.3) with a non-zero weight.
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if n := strings.ToLower(strings.TrimSpace(name)); n != "gzip" && n != "x-gzip" {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
			return q > 0
		}
	}
	return false
}

var (
	gzipPool = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: cannot fail
		return w
	}}
	bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 32<<10) }}
)

// stream writes a JSON response as it is produced: through a 32 KiB
// buffer and, when the client accepts it, gzip; both are pooled, so a
// response holds a fixed amount of memory whatever its length. Write
// errors (a client gone) are kept and end the work early (failed).
type stream struct {
	bw  *bufio.Writer
	gz  *gzip.Writer
	enc *json.Encoder
	err error
}

func startStream(w http.ResponseWriter, r *http.Request, epoch uint64, at time.Time) *stream {
	stamp(w, epoch, at)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	s := &stream{bw: bufPool.Get().(*bufio.Writer)}
	var out io.Writer = w
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		s.gz = gzipPool.Get().(*gzip.Writer)
		s.gz.Reset(w)
		out = s.gz
	}
	w.WriteHeader(http.StatusOK)
	s.bw.Reset(out)
	s.enc = json.NewEncoder(s.bw)
	return s
}

func (s *stream) failed() bool { return s.err != nil }

func (s *stream) raw(str string) {
	if s.err == nil {
		_, s.err = s.bw.WriteString(str)
	}
}

func (s *stream) bytes(b []byte) {
	if s.err == nil {
		_, s.err = s.bw.Write(b)
	}
}

// value writes v compactly (the encoder adds a newline).
func (s *stream) value(v any) {
	if s.err == nil {
		s.err = s.enc.Encode(v)
	}
}

// nextCursor writes the paging fields that close a document.
func (s *stream) paging(next string, limit int) {
	s.raw(`"next_cursor":`)
	if next == "" {
		s.raw("null")
	} else {
		s.value(next)
	}
	s.raw(`,"limit":` + strconv.Itoa(limit) + "}\n")
}

// finish flushes the buffer and the gzip stream and returns both to their
// pools.
func (s *stream) finish() error {
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	s.bw.Reset(io.Discard)
	bufPool.Put(s.bw)
	if s.gz != nil {
		if err := s.gz.Close(); s.err == nil {
			s.err = err
		}
		s.gz.Reset(io.Discard)
		gzipPool.Put(s.gz)
	}
	return s.err
}

// apiInvalids answers /api/invalids: the analyze JSON's invalid routes,
// filtered, one page at a time:
//
//	{"invalids":[...],"next_cursor":"..."|null,"limit":N}
//
// Pages follow the rows' order (prefix, then origin) and a cursor names
// the last route of its page, so the next page resumes after it in the
// current report even when the table changed meanwhile: routes present
// throughout are listed exactly once.
func (s *Server) apiInvalids(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseInvalidFilter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	limit, err := parseLimit(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	b := s.current()
	rows := b.report.Invalids
	start := 0
	if cs := q.Get("cursor"); cs != "" {
		c, err := decodeCursor(cs, signature(r.URL.Path, q))
		if err == nil && c.Prefix == "" {
			err = fmt.Errorf("cursor %q: not an /api/invalids cursor", cs)
		}
		var p netip.Prefix
		if err == nil {
			if p, err = netip.ParsePrefix(c.Prefix); err != nil {
				err = fmt.Errorf("cursor %q: %w", cs, err)
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		var origin *uint32
		if c.Origin < 1<<32 {
			o := uint32(c.Origin)
			origin = &o
		}
		start = reports.InvalidsAfter(rows, p, origin)
	}
	st := startStream(w, r, b.epoch, b.at)
	st.raw(`{"invalids":[`)
	n, next := 0, ""
	var last *reports.Invalid // the last row written
	for i := start; i < len(rows) && !st.failed(); i++ {
		inv := &rows[i]
		if !f.match(inv) {
			continue
		}
		if n == limit {
			c := cursor{Sig: signature(r.URL.Path, q), Prefix: last.Prefix.String(), Origin: 1 << 32}
			if last.Origin != nil {
				c.Origin = int64(*last.Origin)
			}
			next = c.encode()
			break
		}
		if n > 0 {
			st.raw(",")
		}
		st.value(inv)
		last = inv
		n++
	}
	st.raw("],")
	st.paging(next, limit)
	if err := st.finish(); err != nil {
		s.log.Debug("invalids response not written", "err", err)
	}
}

// maxQueries bounds the q parameters of one lookup request.
const maxQueries = 100

// apiLookup answers /api/lookup: the lookup JSON, one page at a time:
//
//	{"answers":[{...,"answer":I,...}],"next_cursor":"..."|null,"limit":N}
//
// A page holds at most limit entries of the answers' lists; an answer cut
// by a page end goes on at the start of the next page, with the same
// fields besides its lists and the same "answer" (the index of its q), so
// concatenating the lists of equal "answer"s across pages gives lookup's
// answer. All pages of one walk come from the snapshot of its first page
// (see pager); when that snapshot is gone the cursor is refused (409).
func (s *Server) apiLookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	qs := q["q"]
	if len(qs) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("missing q: want ?q=192.0.2.0/24, ?q=192.0.2.10 or ?q=AS64500 (repeatable)"))
		return
	}
	if len(qs) > maxQueries {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%d queries: at most %d per request", len(qs), maxQueries))
		return
	}
	var origin *uint32
	if o := q.Get("origin"); o != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(o), "AS"), 10, 32)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("origin %q: want an AS (AS64500 or 64500)", o))
			return
		}
		v := uint32(n)
		origin = &v
	}
	parsed := make([]reports.Query, 0, len(qs))
	for _, s := range qs {
		pq, err := reports.ParseQuery(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		parsed = append(parsed, pq)
	}
	limit, err := parseLimit(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	sig := signature(r.URL.Path, q)
	// Lookups read the snapshot's analysis directly: no report build.
	snap := s.lookupSnapshot()
	var c cursor
	if cs := q.Get("cursor"); cs != "" {
		if c, err = decodeCursor(cs, sig); err == nil && (c.Prefix != "" || c.Answer >= len(parsed)) {
			err = fmt.Errorf("cursor %q: not a cursor of this lookup", cs)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if c.Epoch != snap.Epoch {
			if snap = s.pages.get(c.Epoch, s.cfg.Now()); snap == nil {
				writeError(w, http.StatusConflict, errStaleCursor)
				return
			}
		}
	}
	// The first answer is planned before the status is sent, so that a
	// cursor pointing beyond it is still a 400.
	plan := reports.PlanLookup(snap.Analysis, parsed[c.Answer], origin)
	if c.Item > plan.Len() || c.Item > 0 && c.Item == plan.Len() {
		writeError(w, http.StatusBadRequest, fmt.Errorf("cursor: item %d beyond answer %d's %d", c.Item, c.Answer, plan.Len()))
		return
	}
	st := startStream(w, r, snap.Epoch, snap.Built)
	st.raw(`{"answers":[`)
	budget, next := limit, ""
	for ai, off := c.Answer, c.Item; ai < len(parsed) && !st.failed(); ai, off = ai+1, 0 {
		if ai != c.Answer {
			if budget == 0 {
				next = cursor{Sig: sig, Epoch: snap.Epoch, Answer: ai}.encode()
				break
			}
			plan = reports.PlanLookup(snap.Analysis, parsed[ai], origin)
		}
		if ai != c.Answer {
			st.raw(",")
		}
		n := plan.Len()
		end := min(n, off+budget)
		writeAnswer(st, plan, ai, off, end)
		// An answer with no entries still takes one of the page's places,
		// so that a page of empty answers ends too.
		budget -= max(end-off, 1)
		budget = max(budget, 0)
		if end < n {
			next = cursor{Sig: sig, Epoch: snap.Epoch, Answer: ai, Item: end}.encode()
			break
		}
		plan = nil
	}
	st.raw("],")
	st.paging(next, limit)
	if next != "" {
		s.pages.pin(snap, s.cfg.Now())
	}
	if err := st.finish(); err != nil {
		s.log.Debug("lookup response not written", "err", err)
	}
}

// writeAnswer writes one answer of a lookup page: its fields besides the
// lists (as reports.Answer marshals them), "answer": its index, then the
// entries [from, to) of its lists, each list under its own name; lists
// with no entry on the page are left out, as lookup leaves out empty ones.
func writeAnswer(st *stream, plan *reports.LookupPlan, index, from, to int) {
	head, _ := json.Marshal(plan.Head()) // reports' own types: cannot fail
	head = bytes.TrimSuffix(bytes.TrimRight(head, "\n"), []byte("}"))
	st.bytes(head)
	st.raw(`,"answer":` + strconv.Itoa(index))
	field := ""
	err := plan.Items(from, to, func(f string, item any) error {
		if f != field {
			if field != "" {
				st.raw("]")
			}
			st.raw(`,"` + f + `":[`)
			field = f
		} else {
			st.raw(",")
		}
		st.value(item)
		return st.err
	})
	if field != "" {
		st.raw("]")
	}
	st.raw("}")
	if err != nil && st.err == nil {
		st.err = err
	}
}
