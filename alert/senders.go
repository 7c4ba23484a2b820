package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"strings"
	"text/template"
	"time"
)

func asPermanent(err error, p **PermanentError) bool { return errors.As(err, p) }

// funcs are the template functions: json writes a value as JSON (a
// string quoted and escaped), so a template builds valid JSON.
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// DefaultWebhookTemplate posts the Message as JSON.
const DefaultWebhookTemplate = `{{json .}}`

// DefaultTextTemplate is the chat and mail text: the summary, one line
// per event, and what the rate limit held back.
const DefaultTextTemplate = `rovimpact: {{.Summary}}
{{range .Events}}{{.Line}}
{{end}}{{if .Suppressed}}({{.Suppressed}} earlier messages held back by the rate limit)
{{end}}`

// ParseTemplate parses a receiver's template.
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
}

func render(t *template.Template, m Message) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, m); err != nil {
		return nil, &PermanentError{fmt.Errorf("template: %w", err)}
	}
	return b.Bytes(), nil
}

// Webhook POSTs the template's JSON to URL.
type Webhook struct {
	URL      string
	Template *template.Template
	Client   *http.Client
}

func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := render(w.Template, m)
	if err != nil {
		return err
	}
	if !json.Valid(body) {
		return &PermanentError{fmt.Errorf("template: the body is not JSON: %.80q", body)}
	}
	return post(ctx, w.Client, w.URL, body)
}

// Slack POSTs {"text": ...} to a Slack-compatible incoming webhook
// (Slack, Mattermost, Rocket.Chat take this shape).
type Slack struct {
	URL      string
	Template *template.Template
	Client   *http.Client
}

func (s *Slack) Send(ctx context.Context, m Message) error {
	text, err := render(s.Template, m)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"text": strings.TrimRight(string(text), "\n")})
	return post(ctx, s.Client, s.URL, body)
}

func post(ctx context.Context, c *http.Client, url string, body []byte) error {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rovimpact-watch")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		return fmt.Errorf("%s: %s", url, resp.Status)
	default:
		return &PermanentError{fmt.Errorf("%s: %s", url, resp.Status)}
	}
}

// Syslog writes one RFC 5424 message per event to a syslog daemon over
// UDP (one datagram each, RFC 5426) or TCP (octet-counted frames, RFC 6587
// §3.4.1).
type Syslog struct {
	Network  string // "udp" or "tcp"
	Addr     string
	Facility int // RFC 5424 §6.2.1 (3: daemon)
	Hostname string
	AppName  string
}

// severity of an event (RFC 5424 §6.2.1): warning for what needs a look,
// notice for what ends a condition or is informational.
func severity(e Event) int {
	if e.Clear || strings.HasSuffix(e.Name, "_up") || strings.HasSuffix(e.Name, "_disappeared") || e.Name == "initial_load" {
		return 5
	}
	return 4
}

// Format is one event as an RFC 5424 SYSLOG-MSG: no structured data, the
// event name as MSGID and its Line as MSG.
func (s *Syslog) Format(e Event) string {
	host := s.Hostname
	if host == "" {
		host = "-"
	}
	app := s.AppName
	if app == "" {
		app = "rovimpact"
	}
	return fmt.Sprintf("<%d>1 %s %s %s %d %s - %s", s.Facility*8+severity(e), e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
		host, app, os.Getpid(), e.Name, e.Line())
}

func (s *Syslog) Send(ctx context.Context, m Message) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, s.Network, s.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	for _, e := range m.Events {
		msg := s.Format(e)
		if s.Network == "tcp" {
			msg = fmt.Sprintf("%d %s", len(msg), msg)
		}
		if _, err := io.WriteString(c, msg); err != nil {
			return err
		}
	}
	return nil
}

// Mail sends the text template as a plain-text mail over SMTP (STARTTLS
// when the server offers it; no authentication: a local relay).
type Mail struct {
	Addr     string
	From     string
	To       []string
	Subject  *template.Template
	Template *template.Template
}

func (ml *Mail) Send(ctx context.Context, m Message) error {
	subj, err := render(ml.Subject, m)
	if err != nil {
		return err
	}
	body, err := render(ml.Template, m)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		ml.From, strings.Join(ml.To, ", "), strings.ReplaceAll(strings.TrimSpace(string(subj)), "\n", " "), m.Time.Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n", "\r\n"))
	return sendMail(ctx, ml.Addr, ml.From, ml.To, b.Bytes())
}

// sendMail is smtp.SendMail under ctx's deadline (SendMail has none).
func sendMail(ctx context.Context, addr, from string, to []string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
