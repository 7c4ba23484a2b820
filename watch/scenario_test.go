package watch

// Scenario tests: a real watch (Run, in-process) fed by real peers on
// loopback (Debian gobgpd or bird2 over BGP, stayrtr over RPKI-RTR), whose
// alerts are delivered to receivers inside the test: an HTTP server for the
// webhook, a UDP listener for syslog, an SMTP sink for mail. Each check is
// of the exact bytes delivered, with only the clock's readings replaced by
// <T> (after checking they are times).

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/smtpsink"
	"github.com/rovimpact/rovimpact/rtr"
)

// svcRun is a watch running in-process.
type svcRun struct {
	w    *Service
	logs *testutil.SyncBuffer
	stop func() error
}

// startService runs watch with opts until the test ends (or stop); it
// fills the settings a test has no reason to choose.
func startService(t *testing.T, opts Options) *svcRun {
	t.Helper()
	if opts.LogFormat == "" {
		opts.LogFormat = "json"
	}
	if opts.Interval == 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.MaxChangeLogs == 0 {
		opts.MaxChangeLogs = 1000
	}
	if opts.RTRRetry == 0 {
		opts.RTRRetry = 200 * time.Millisecond
	}
	if opts.RTRTimeout == 0 {
		opts.RTRTimeout = rtr.DefaultResponseTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EORTimeout == 0 {
		opts.EORTimeout = DefaultEORTimeout
	}
	opts.ShutdownDeadline = 5 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	run := &svcRun{logs: &testutil.SyncBuffer{}}
	ready := make(chan *Service, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts, run.logs, func(w *Service) { ready <- w }) }()
	var once sync.Once
	var err error
	run.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("watch did not stop within 10 s")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := run.stop(); err != nil {
			t.Errorf("watch: %v\n%s", err, run.logs)
		}
	})
	select {
	case run.w = <-ready:
	case err := <-done:
		t.Fatalf("watch ended before it was ready: %v\n%s", err, run.logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("watch not ready within 10 s\n%s", run.logs)
	}
	return run
}

// logged waits (at most 15 s) until the log holds at least n lines
// containing s.
func (r *svcRun) logged(t *testing.T, s string, n int) {
	t.Helper()
	testutil.Eventually(t, 15*time.Second, "log "+s, func() (bool, string) {
		return strings.Count(r.logs.String(), s) >= n, tailLines(r.logs.String(), 30)
	})
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// --- receivers in the test ---------------------------------------------

// inbox collects what one receiver in the test is sent.
type inbox struct {
	name string
	ch   chan string
}

func newInbox(name string) *inbox { return &inbox{name: name, ch: make(chan string, 64)} }

// next waits at most 15 s for the next delivery.
func (b *inbox) next(t *testing.T, run *svcRun) string {
	t.Helper()
	select {
	case s := <-b.ch:
		return s
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: nothing delivered within 15 s\nwatch log:\n%s", b.name, tailLines(run.logs.String(), 40))
	}
	return ""
}

// empty fails when anything is waiting (call it after a later delivery
// has been taken, so that it is a check of order, not of time).
func (b *inbox) empty(t *testing.T) {
	t.Helper()
	select {
	case s := <-b.ch:
		t.Errorf("%s: an unexpected delivery:\n%s", b.name, s)
	default:
	}
}

// webhookInbox is an HTTP server taking POSTed bodies.
func webhookInbox(t *testing.T) (*inbox, string) {
	b := newInbox("webhook")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		b.ch <- string(body)
	}))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

// syslogInbox is a UDP syslog listener (RFC 5426: one message a datagram).
func syslogInbox(t *testing.T) (*inbox, string) {
	b := newInbox("syslog")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			b.ch <- string(buf[:n])
		}
	}()
	return b, pc.LocalAddr().String()
}

// receivers parses an alerts list as the config file's alerts key.
func receivers(t *testing.T, doc string) ([]alert.Receiver, string) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	rs, err := alert.Parse(n.Content[0])
	if err != nil {
		t.Fatalf("alerts: %v\n%s", err, doc)
	}
	return rs, doc
}

var (
	jsonTime   = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`)
	syslogTime = regexp.MustCompile(`^(<\d+>1) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z `)
	mailDate   = regexp.MustCompile(`\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n`)
)

// stamped replaces the times in a delivery by <T>.
func stamped(s string) string {
	s = jsonTime.ReplaceAllString(s, `"<T>"`)
	s = syslogTime.ReplaceAllString(s, "$1 <T> ")
	return mailDate.ReplaceAllString(s, "\r\nDate: <T>\r\n")
}

// expect takes the next delivery of b and compares it, times stamped out,
// with want.
func (b *inbox) expect(t *testing.T, run *svcRun, step, want string) {
	t.Helper()
	got := b.next(t, run)
	if s := stamped(got); s != want {
		t.Errorf("%s, %s:\n got %q\nwant %q", step, b.name, s, want)
	}
}

// threeReceivers configures one receiver of each kind, all with filter
// and extra (YAML flow mapping entries), and returns their inboxes
// (webhook, syslog, mail) and the receivers.
func threeReceivers(t *testing.T, filter, extra string) (hook, sys, mail *inbox, rs []alert.Receiver, text string) {
	hook, url := webhookInbox(t)
	sys, sysAddr := syslogInbox(t)
	mail = newInbox("mail")
	smtpAddr, mails := smtpsink.Start(t)
	go func() {
		for m := range mails {
			mail.ch <- m
		}
	}()
	rs, text = receivers(t, fmt.Sprintf(`
- {name: noc, type: webhook, url: %q, filter: %s%s}
- {name: log, type: syslog, address: "udp://%s", filter: %s%s}
- {name: mail, type: mail, smtp: %q, from: rovimpact@example.net, to: [noc@example.net], filter: %s%s}
`, url, filter, extra, sysAddr, filter, extra, smtpAddr, filter, extra))
	return hook, sys, mail, rs, text
}

var pid = fmt.Sprint(os.Getpid())

// mailText is the default mail for one message: envelope, headers, the
// default text template's lines.
func mailText(summary string, lines ...string) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<rovimpact@example.net>\nRCPT TO:<noc@example.net>\n")
	b.WriteString("From: rovimpact@example.net\r\nTo: noc@example.net\r\nSubject: rovimpact: " + summary + "\r\n")
	b.WriteString("Date: <T>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("rovimpact: " + summary + "\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

// syslogLine is one RFC 5424 line as the syslog receiver sends it
// (facility daemon: 3*8 + severity).
func syslogLine(severity int, event, line string) string {
	return fmt.Sprintf("<%d>1 <T> - rovimpact %s %s - %s", 24+severity, pid, event, line)
}
