package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rovimpact/rovimpact/internal/testutil/smtpsink"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func origin(as uint32) *rov.Origin { return &rov.Origin{Kind: rov.OriginAS, ASN: as} }

func appeared(p string, as uint32, at time.Time) Event {
	return Event{Name: "invalid_appeared", Time: at, Cause: "route_announced", Prefix: netip.MustParsePrefix(p), Origin: origin(as),
		Class: classify.WrongOrigin, Impact: classify.Unreachable, Paths: 2, Peers: 1}
}

func disappeared(p string, as uint32, at time.Time) Event {
	return Event{Name: "invalid_disappeared", Time: at, Cause: "route_withdrawn", Prefix: netip.MustParsePrefix(p), Origin: origin(as),
		OldClass: classify.WrongOrigin, OldImpact: classify.Unreachable, Clear: true}
}

// hook is an HTTP receiver in the test: it records every body and answers
// with the statuses queued (then 200).
type hook struct {
	mu       sync.Mutex
	bodies   []string
	statuses []int
	srv      *httptest.Server
}

func newHook(t *testing.T, statuses ...int) *hook {
	h := &hook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		h.bodies = append(h.bodies, string(b))
		if len(h.statuses) > 0 {
			w.WriteHeader(h.statuses[0])
			h.statuses = h.statuses[1:]
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies)
}

// noSleep records the backoff waits instead of sleeping.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *noSleep) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return nil
}

func parseOne(t *testing.T, doc string) Receiver {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

func notifier(t *testing.T, rs ...Receiver) (*Notifier, *noSleep) {
	ns := &noSleep{}
	n := New(rs, Options{Sleep: ns.sleep, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(n.Close)
	return n, ns
}

// TestWebhookBody: the JSON POST an HTTP receiver gets, from the default
// template (the Message) and from a template of the operator's.
func TestWebhookBody(t *testing.T) {
	h := newHook(t)
	def := parseOne(t, fmt.Sprintf("- {name: raw, type: webhook, url: %q}", h.srv.URL))
	custom := parseOne(t, fmt.Sprintf(`- name: custom
  type: webhook
  url: %q
  template: '{"text": {{json .Summary}}, "first": {{json (index .Events 0).Prefix}}, "n": {{len .Events}}}'`, h.srv.URL+"/c"))
	n, _ := notifier(t, def, custom)
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n.Flush()
	got := h.got()
	slices.Sort(got)
	want := []string{
		`{"receiver":"raw","time":"2026-12-02T12:00:00Z","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"2026-12-02T12:00:00Z","cause":"route_announced","prefix":"192.0.2.0/24","origin":"AS64501","class":"wrong_origin","impact":"unreachable","paths":2,"peers":1}]}`,
		`{"text": "1 event: 1 invalid_appeared", "first": "192.0.2.0/24", "n": 1}`,
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bodies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSlackBody: a Slack-compatible incoming webhook gets {"text": ...}
// with one line per event.
func TestSlackBody(t *testing.T) {
	h := newHook(t)
	n, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: slack, url: %q}", h.srv.URL)))
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0), {Name: "session_down", Time: t0, Peer: "bgp 192.0.2.1 AS64501",
		Cause: "hold-timer-expired", Counts: map[string]int{"paths": 12, "invalids": 3}}})
	n.Flush()
	want := `{"text":"rovimpact: 2 events: 1 invalid_appeared, 1 session_down\ninvalid_appeared 192.0.2.0/24 AS64501 class=wrong_origin impact=unreachable cause=route_announced\nsession_down cause=hold-timer-expired peer=\"bgp 192.0.2.1 AS64501\" invalids=3 paths=12"}`
	if got := h.got(); len(got) != 1 || got[0] != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestRetries: a receiver answering 503 is tried again after the backoff,
// doubling; a 400 is not retried; past the retries it is given up.
func TestRetries(t *testing.T) {
	h := newHook(t, 503, 503)
	n, ns := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, retries: 3, backoff: 1s}", h.srv.URL)))
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n.Flush()
	if len(h.got()) != 3 || !slices.Equal(ns.waits, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("%d tries, waits %v: want 3 tries after 1s and 2s", len(h.got()), ns.waits)
	}
	h4 := newHook(t, 400)
	n4, ns4 := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, retries: 3}", h4.srv.URL)))
	n4.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n4.Flush()
	if len(h4.got()) != 1 || len(ns4.waits) != 0 {
		t.Errorf("400: %d tries, want 1", len(h4.got()))
	}
	h5 := newHook(t, 500, 500, 500)
	n5, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, retries: 1}", h5.srv.URL)))
	n5.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n5.Flush()
	if len(h5.got()) != 2 {
		t.Errorf("retries 1: %d tries, want 2", len(h5.got()))
	}
}

// TestHoldDown: an invalid is told only once it has lasted the hold-down;
// one that goes within it (a flap) is never told; the end of one that was
// told is told.
func TestHoldDown(t *testing.T) {
	h := newHook(t)
	n, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, hold-down: 5m, template: '{{json .Summary}}'}", h.srv.URL)))
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0), appeared("198.51.100.0/24", 64502, t0)})
	n.Handle(t0.Add(time.Minute), []Event{disappeared("198.51.100.0/24", 64502, t0.Add(time.Minute))}) // a flap
	n.Tick(t0.Add(4*time.Minute + 59*time.Second))
	n.Flush()
	if got := h.got(); len(got) != 0 {
		t.Fatalf("told within the hold-down: %q", got)
	}
	n.Tick(t0.Add(5 * time.Minute))
	n.Tick(t0.Add(6 * time.Minute)) // told once only
	n.Flush()
	if got := h.got(); !slices.Equal(got, []string{`"1 event: 1 invalid_appeared"`}) {
		t.Fatalf("after the hold-down: %q", got)
	}
	n.Handle(t0.Add(7*time.Minute), []Event{disappeared("192.0.2.0/24", 64501, t0.Add(7*time.Minute))})
	n.Flush()
	if got := h.got(); len(got) != 2 || got[1] != `"1 event: 1 invalid_disappeared"` {
		t.Fatalf("the end of a told invalid: %q", got)
	}
}

// TestRateLimit: at most 2 messages an hour; the ones over it are counted
// in the next message sent once a token is back.
func TestRateLimit(t *testing.T) {
	h := newHook(t)
	n, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, rate-limit: 2/1h, template: '[{{json .Summary}}, {{.Suppressed}}]'}", h.srv.URL)))
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Minute)
		n.Handle(at, []Event{appeared(fmt.Sprintf("192.0.2.%d/32", i), 64501, at)})
	}
	n.Flush()
	if got := h.got(); len(got) != 2 {
		t.Fatalf("%d messages in 4 minutes, want 2: %q", len(got), got)
	}
	at := t0.Add(33 * time.Minute) // 30 minutes give one token back
	n.Handle(at, []Event{appeared("192.0.2.9/32", 64501, at)})
	n.Flush()
	if got := h.got(); len(got) != 3 || got[2] != `["1 event: 1 invalid_appeared", 2]` {
		t.Fatalf("after the limit: %q", got)
	}
}

// TestFilter: the operator's space is prefixes covering or covered by the
// watch list, or origins in it; classes, impacts, names and min-count.
func TestFilter(t *testing.T) {
	f := Filter{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}, ASNs: []uint32{64500}}
	for _, tc := range []struct {
		e    Event
		want bool
	}{
		{appeared("192.0.2.128/25", 1, t0), true},   // covered by mine
		{appeared("192.0.0.0/16", 1, t0), true},     // covers mine
		{appeared("198.51.100.0/24", 1, t0), false}, // not mine
		{appeared("198.51.100.0/24", 64500, t0), true},
		{appeared("2001:db8:1::/48", 1, t0), true},
		{Event{Name: "session_down", Peer: "bgp 192.0.2.1 AS1"}, true}, // not about space
	} {
		if got := f.Match(tc.e); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.e.Line(), got, tc.want)
		}
	}
	// A route of an initial table reaches only receivers watching space.
	il := appeared("192.0.2.0/24", 1, t0)
	il.InitialLoad = true
	if !f.Match(il) || (&Filter{Events: []string{"invalid_appeared"}}).Match(il) {
		t.Error("initial-load route events: want them for a watch list only")
	}
	g := Filter{Classes: []classify.Class{classify.TooSpecific}, Impacts: []classify.Impact{classify.Unreachable}}
	if g.Match(appeared("192.0.2.0/24", 1, t0)) { // wrong_origin
		t.Error("class filter passed wrong_origin")
	}
	d := disappeared("192.0.2.0/24", 1, t0)
	if !(&Filter{Classes: []classify.Class{classify.WrongOrigin}}).Match(d) {
		t.Error("a disappeared route matches on its old class")
	}
	// min-count: 1 due event waits; with a second, both go.
	h := newHook(t)
	n, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: webhook, url: %q, template: '{{len .Events}}', filter: {min-count: 2}}", h.srv.URL)))
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n.Flush()
	n.Handle(t0.Add(time.Minute), []Event{appeared("192.0.2.1/32", 64501, t0)})
	n.Flush()
	if got := h.got(); !slices.Equal(got, []string{"2"}) {
		t.Errorf("min-count 2: %q", got)
	}
}

// TestSyslog: an RFC 5424 line per event to a UDP listener in the test,
// and octet-counted frames (RFC 6587 §3.4.1) to a TCP one.
func TestSyslog(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r := parseOne(t, fmt.Sprintf("- {type: syslog, address: 'udp://%s', facility: local3}", pc.LocalAddr()))
	r.Sender.(*Syslog).Hostname = "watch1"
	n, _ := notifier(t, r)
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n.Flush()
	buf := make([]byte, 2048)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	// local3 (19) * 8 + warning (4) = 156.
	want := fmt.Sprintf("<156>1 2026-12-02T12:00:00.000000Z watch1 rovimpact %d invalid_appeared - invalid_appeared 192.0.2.0/24 AS64501 class=wrong_origin impact=unreachable cause=route_announced", os.Getpid())
	if got := string(buf[:k]); got != want {
		t.Errorf("syslog UDP:\n got %q\nwant %q", got, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	r = parseOne(t, fmt.Sprintf("- {type: syslog, address: 'tcp://%s'}", ln.Addr()))
	r.Sender.(*Syslog).Hostname = "watch1"
	n, _ = notifier(t, r)
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0), disappeared("198.51.100.0/24", 64502, t0)})
	n.Flush()
	m1 := fmt.Sprintf("<28>1 2026-12-02T12:00:00.000000Z watch1 rovimpact %d invalid_appeared - invalid_appeared 192.0.2.0/24 AS64501 class=wrong_origin impact=unreachable cause=route_announced", os.Getpid())
	select {
	case s := <-got:
		if want := fmt.Sprintf("%d %s", len(m1), m1); s != want {
			t.Errorf("syslog TCP:\n got %q\nwant %q", s, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no TCP syslog message")
	}
}

// TestMail: the mail an SMTP sink in the test receives, envelope,
// headers and body.
func TestMail(t *testing.T) {
	addr, mails := smtpsink.Start(t)
	n, _ := notifier(t, parseOne(t, fmt.Sprintf("- {type: mail, smtp: %q, from: rovimpact@example.net, to: [noc@example.net, ops@example.net]}", addr)))
	n.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n.Flush()
	select {
	case got := <-mails:
		want := "MAIL FROM:<rovimpact@example.net>\nRCPT TO:<noc@example.net>\nRCPT TO:<ops@example.net>\n" +
			"From: rovimpact@example.net\r\nTo: noc@example.net, ops@example.net\r\nSubject: rovimpact: 1 event: 1 invalid_appeared\r\n" +
			"Date: Wed, 02 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			"rovimpact: 1 event: 1 invalid_appeared\r\ninvalid_appeared 192.0.2.0/24 AS64501 class=wrong_origin impact=unreachable cause=route_announced\r\n"
		if got != want {
			t.Errorf("mail:\n got %q\nwant %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no mail")
	}
}

// TestParseErrors: every mistake in a receiver names its line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"- {type: pager}", "line 1: type \"pager\": want webhook, slack, syslog or mail"},
		{"- type: webhook\n", "line 1: webhook receiver \"webhook-1\" needs url"},
		{"- type: webhook\n  url: ftp://x\n", "line 2: url \"ftp://x\": want http:// or https://"},
		{"- type: webhook\n  url: http://127.0.0.1/\n  template: '{{.Nope'\n", "line 3: template: template: webhook-1 template:1: unclosed action"},
		{"- type: syslog\n  address: 127.0.0.1:514\n", "line 2: address \"127.0.0.1:514\": want udp://IP:PORT or tcp://IP:PORT"},
		{"- type: mail\n  smtp: 127.0.0.1:25\n  from: a@example.net\n", "line 1: mail receiver \"mail-1\" needs to"},
		{"- type: slack\n  url: http://127.0.0.1/\n  hold-down: soon\n", "line 3: hold-down \"soon\": want a duration (30s, 5m)"},
		{"- type: slack\n  url: http://127.0.0.1/\n  rate-limit: 10\n", "line 3: rate-limit \"10\": want MESSAGES/DURATION (10/1h)"},
		{"- type: slack\n  url: http://127.0.0.1/\n  filter:\n    prefixes: [192.0.2.1/24]\n", "line 4: prefixes: \"192.0.2.1/24\": want a prefix without host bits"},
		{"- type: slack\n  url: http://127.0.0.1/\n  filter:\n    impacts:\n      - unreachable\n      - gone\n", "line 6: impacts: \"gone\": want same_prefix, covered, more_specifics or unreachable"},
		{"- type: slack\n  url: http://127.0.0.1/\n  filter: {events: [invalid_appeared, route_flap]}\n", "line 3: events: \"route_flap\": want one of invalid_appeared, invalid_disappeared, invalid_changed, initial_load, session_up, session_down, cache_up, cache_down"},
		{"- type: slack\n  url: http://127.0.0.1/\n  hold_down: 5m\n", "line 3: unknown key \"hold_down\" (want name, type, url, template, subject, address, facility, app-name, smtp, from, to, hold-down, rate-limit, retries, backoff, filter)"},
		{"- {type: slack, url: 'http://127.0.0.1/', name: a}\n- {type: slack, url: 'http://127.0.0.1/', name: a}\n", "line 2: receiver name \"a\" given twice (first on line 1)"},
		{"type: slack\n", "line 1: want a list of receivers (- type: webhook ...)"},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.doc), &n); err != nil {
			t.Fatal(err)
		}
		_, err := Parse(n.Content[0])
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
}

// FuzzParse: any YAML gives receivers or a *LineError, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"- {type: webhook, url: 'http://127.0.0.1/'}", "- type: syslog\n  address: udp://127.0.0.1:514\n",
		"- {type: mail, smtp: a, from: b, to: [c]}", "- {type: slack, url: 'http://x/', filter: {prefixes: [10.0.0.0/8], impacts: [covered]}}",
		"- {type: webhook, url: 'http://x/', template: '{{.Nope'}", "- [1, 2]", "x: 1", "- {type: slack, url: 'http://x/', rate-limit: 1/0s}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 {
			return
		}
		rs, err := Parse(n.Content[0])
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v (%T), want *LineError", err, err)
		}
		for _, r := range rs {
			if r.Sender == nil || r.Name == "" {
				t.Fatalf("receiver %+v without a sender or name", r)
			}
		}
	})
}

// TestAdopt: a reload's new Notifier keeps, per receiver name, the events
// held down (with their start) and what was told.
func TestAdopt(t *testing.T) {
	h := newHook(t)
	doc := fmt.Sprintf("- {name: noc, type: webhook, url: %q, hold-down: 5m, template: '{{json .Summary}}'}", h.srv.URL)
	n1, _ := notifier(t, parseOne(t, doc))
	n1.Handle(t0, []Event{appeared("192.0.2.0/24", 64501, t0)})
	n1.Handle(t0.Add(5*time.Minute), []Event{appeared("198.51.100.0/24", 64502, t0.Add(5*time.Minute))})
	n1.Flush() // the first is told; the second is held down
	n2, _ := notifier(t, parseOne(t, doc))
	n2.Adopt(n1)
	n1.Close()
	n2.Tick(t0.Add(10 * time.Minute)) // the second's hold-down began before the reload
	n2.Handle(t0.Add(11*time.Minute), []Event{disappeared("192.0.2.0/24", 64501, t0.Add(11*time.Minute))})
	n2.Flush()
	want := []string{`"1 event: 1 invalid_appeared"`, `"1 event: 1 invalid_appeared"`, `"1 event: 1 invalid_disappeared"`}
	if got := h.got(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
