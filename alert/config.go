package alert

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/rov"
)

// LineError is a mistake in the alerts configuration at a line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// keys are the keys a receiver takes.
var keys = []string{"name", "type", "url", "template", "subject", "address", "facility", "app-name", "smtp", "from", "to",
	"hold-down", "rate-limit", "retries", "backoff", "filter"}

var filterKeys = []string{"prefixes", "asns", "classes", "impacts", "events", "min-count"}

// Section reads the alerts key of the config file named file (a
// flagfile.Section for watch --config; receivers have no flags): the
// receivers and the list as YAML text. A mistake at a line is a
// *flagfile.Error naming the file, line and key.
func Section(file string, key, v *yaml.Node) ([]Receiver, string, error) {
	rs, err := Parse(v)
	if le := (*LineError)(nil); errors.As(err, &le) {
		return nil, "", &flagfile.Error{File: file, Line: le.Line, Key: key.Value, Err: le.Err}
	}
	text, _ := yaml.Marshal(v)
	return rs, string(text), err
}

// Parse reads the receivers of a YAML list of mappings (the alerts key of
// watch's config file):
//
//   - name: noc
//     type: webhook          # webhook, slack, syslog or mail
//     url: http://127.0.0.1:9000/rovimpact
//     template: '{"text": {{json .Summary}}}'
//     hold-down: 5m
//     rate-limit: 10/1h
//     retries: 3
//     backoff: 2s
//     filter: {prefixes: [192.0.2.0/24], asns: [64500], impacts: [unreachable], min-count: 1}
//
// Every mistake is a *LineError.
func Parse(node *yaml.Node) ([]Receiver, error) {
	if node.Kind != yaml.SequenceNode {
		return nil, &LineError{node.Line, errors.New("want a list of receivers (- type: webhook ...)")}
	}
	var out []Receiver
	names := map[string]int{}
	for i, n := range node.Content {
		r, err := parseReceiver(n, i)
		if err != nil {
			return nil, err
		}
		if l, dup := names[r.Name]; dup {
			return nil, &LineError{n.Line, fmt.Errorf("receiver name %q given twice (first on line %d)", r.Name, l)}
		}
		names[r.Name] = n.Line
		out = append(out, r)
	}
	return out, nil
}

func parseReceiver(n *yaml.Node, i int) (Receiver, error) {
	var r Receiver
	if n.Kind != yaml.MappingNode {
		return r, &LineError{n.Line, errors.New("want a mapping (type: webhook, url: ...)")}
	}
	f, err := fields(n, keys)
	if err != nil {
		return r, err
	}
	str := func(k string) string {
		if v := f[k]; v != nil {
			return v.Value
		}
		return ""
	}
	typ := str("type")
	r.Name = str("name")
	if r.Name == "" {
		r.Name = fmt.Sprintf("%s-%d", typ, i+1)
	}
	policy := Policy{RatePer: time.Hour, Retries: 3, Backoff: 2 * time.Second}
	for _, d := range []struct {
		key string
		p   *time.Duration
	}{{"hold-down", &policy.HoldDown}, {"backoff", &policy.Backoff}} {
		if v := f[d.key]; v != nil {
			if *d.p, err = time.ParseDuration(v.Value); err != nil || *d.p < 0 {
				return r, &LineError{v.Line, fmt.Errorf("%s %q: want a duration (30s, 5m)", d.key, v.Value)}
			}
		}
	}
	if v := f["retries"]; v != nil {
		if policy.Retries, err = strconv.Atoi(v.Value); err != nil || policy.Retries < 0 || policy.Retries > 20 {
			return r, &LineError{v.Line, fmt.Errorf("retries %q: want 0 to 20", v.Value)}
		}
	}
	if v := f["rate-limit"]; v != nil {
		n, per, ok := strings.Cut(v.Value, "/")
		policy.RateLimit, err = strconv.Atoi(n)
		if ok {
			policy.RatePer, _ = time.ParseDuration(per)
		}
		if err != nil || !ok || policy.RateLimit < 1 || policy.RatePer <= 0 {
			return r, &LineError{v.Line, fmt.Errorf("rate-limit %q: want MESSAGES/DURATION (10/1h)", v.Value)}
		}
	}
	r.Policy = policy
	if v := f["filter"]; v != nil {
		if r.Filter, err = parseFilter(v); err != nil {
			return r, err
		}
	}
	tmpl := func(key, def string) (*template.Template, error) {
		text, line := def, n.Line
		if v := f[key]; v != nil {
			text, line = v.Value, v.Line
		}
		t, err := ParseTemplate(r.Name+" "+key, text)
		if err != nil {
			return nil, &LineError{line, fmt.Errorf("%s: %v", key, err)}
		}
		return t, nil
	}
	need := func(k string) (*yaml.Node, error) {
		if f[k] == nil || f[k].Value == "" && f[k].Kind == yaml.ScalarNode {
			return nil, &LineError{n.Line, fmt.Errorf("%s receiver %q needs %s", typ, r.Name, k)}
		}
		return f[k], nil
	}
	client := &http.Client{Timeout: 20 * time.Second}
	switch typ {
	case "webhook", "slack":
		u, err := need("url")
		if err != nil {
			return r, err
		}
		if pu, err := url.Parse(u.Value); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return r, &LineError{u.Line, fmt.Errorf("url %q: want http:// or https://", u.Value)}
		}
		def := DefaultWebhookTemplate
		if typ == "slack" {
			def = DefaultTextTemplate
		}
		t, err := tmpl("template", def)
		if err != nil {
			return r, err
		}
		if typ == "webhook" {
			r.Sender = &Webhook{URL: u.Value, Template: t, Client: client}
		} else {
			r.Sender = &Slack{URL: u.Value, Template: t, Client: client}
		}
	case "syslog":
		a, err := need("address")
		if err != nil {
			return r, err
		}
		network, addr, ok := strings.Cut(a.Value, "://")
		if _, perr := netip.ParseAddrPort(addr); !ok || (network != "udp" && network != "tcp") || perr != nil {
			return r, &LineError{a.Line, fmt.Errorf("address %q: want udp://IP:PORT or tcp://IP:PORT", a.Value)}
		}
		s := &Syslog{Network: network, Addr: addr, Facility: 3, AppName: str("app-name")}
		if v := f["facility"]; v != nil {
			if s.Facility = slices.Index(facilities, v.Value); s.Facility < 0 {
				return r, &LineError{v.Line, fmt.Errorf("facility %q: want one of %s", v.Value, strings.Join(facilities, ", "))}
			}
		}
		r.Sender = s
	case "mail":
		a, err := need("smtp")
		if err != nil {
			return r, err
		}
		if _, err := need("from"); err != nil {
			return r, err
		}
		to, err := need("to")
		if err != nil {
			return r, err
		}
		m := &Mail{Addr: a.Value, From: str("from")}
		if m.To, err = strings1(to); err != nil {
			return r, err
		}
		if m.Subject, err = tmpl("subject", "rovimpact: {{.Summary}}"); err != nil {
			return r, err
		}
		if m.Template, err = tmpl("template", DefaultTextTemplate); err != nil {
			return r, err
		}
		r.Sender = m
	default:
		line := n.Line
		if v := f["type"]; v != nil {
			line = v.Line
		}
		return r, &LineError{line, fmt.Errorf("type %q: want webhook, slack, syslog or mail", typ)}
	}
	return r, nil
}

// facilities are RFC 5424 §6.2.1's facility names, by code.
var facilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
	"ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

func parseFilter(n *yaml.Node) (Filter, error) {
	var fl Filter
	if n.Kind != yaml.MappingNode {
		return fl, &LineError{n.Line, errors.New("filter: want a mapping (prefixes: [...], asns: [...])")}
	}
	f, err := fields(n, filterKeys)
	if err != nil {
		return fl, err
	}
	each := func(k string, parse func(string) error) error {
		v := f[k]
		if v == nil {
			return nil
		}
		items, err := list(v)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := parse(it.Value); err != nil {
				return &LineError{it.Line, fmt.Errorf("%s: %v", k, err)}
			}
		}
		return nil
	}
	if err := each("prefixes", func(s string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Masked() != p {
			return fmt.Errorf("%q: want a prefix without host bits", s)
		}
		fl.Prefixes = append(fl.Prefixes, p)
		return nil
	}); err != nil {
		return fl, err
	}
	if err := each("asns", func(s string) error {
		a, err := rov.ParseASN(s)
		fl.ASNs = append(fl.ASNs, a)
		return err
	}); err != nil {
		return fl, err
	}
	if err := each("classes", func(s string) error {
		c, err := classify.ParseClass(s)
		if err == nil && c == classify.None {
			err = errors.New("empty class")
		}
		fl.Classes = append(fl.Classes, c)
		return err
	}); err != nil {
		return fl, err
	}
	if err := each("impacts", func(s string) error {
		i := slices.IndexFunc(classify.Impacts, func(i classify.Impact) bool { return i.String() == s })
		if i < 0 {
			return fmt.Errorf("%q: want same_prefix, covered, more_specifics or unreachable", s)
		}
		fl.Impacts = append(fl.Impacts, classify.Impacts[i])
		return nil
	}); err != nil {
		return fl, err
	}
	if err := each("events", func(s string) error {
		if !slices.Contains(EventNames, s) {
			return fmt.Errorf("%q: want one of %s", s, strings.Join(EventNames, ", "))
		}
		fl.Events = append(fl.Events, s)
		return nil
	}); err != nil {
		return fl, err
	}
	if v := f["min-count"]; v != nil {
		if fl.MinCount, err = strconv.Atoi(v.Value); err != nil || fl.MinCount < 0 {
			return fl, &LineError{v.Line, fmt.Errorf("min-count %q: want a count", v.Value)}
		}
	}
	return fl, nil
}

// fields maps a mapping's keys to their values, refusing unknown and
// repeated keys.
func fields(n *yaml.Node, allowed []string) (map[string]*yaml.Node, error) {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, &LineError{k.Line, fmt.Errorf("unknown key %q (want %s)", k.Value, strings.Join(allowed, ", "))}
		}
		if out[k.Value] != nil {
			return nil, &LineError{k.Line, fmt.Errorf("%s given twice", k.Value)}
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil, &LineError{k.Line, fmt.Errorf("%s: no value", k.Value)}
		}
		if k.Value != "filter" && k.Value != "to" && !slices.Contains(filterKeys, k.Value) && v.Kind != yaml.ScalarNode {
			return nil, &LineError{v.Line, fmt.Errorf("%s: want one value", k.Value)}
		}
		out[k.Value] = v
	}
	return out, nil
}

// list is a value or a list of plain values.
func list(v *yaml.Node) ([]*yaml.Node, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{v}, nil
	case yaml.SequenceNode:
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, &LineError{it.Line, errors.New("want a plain value")}
			}
		}
		return v.Content, nil
	}
	return nil, &LineError{v.Line, errors.New("want a value or a list")}
}

func strings1(v *yaml.Node) ([]string, error) {
	items, err := list(v)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Value)
	}
	return out, nil
}

// EventNames are the events watch tells, named as its log lines.
var EventNames = []string{"invalid_appeared", "invalid_disappeared", "invalid_changed", "initial_load",
	"session_up", "session_down", "cache_up", "cache_down"}
