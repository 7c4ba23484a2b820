// Package alert tells operators about watch's events: webhooks (JSON from
// a template), Slack-compatible incoming webhooks, syslog (RFC 5424) and
// mail (SMTP). Each receiver has filters (the operator's own prefixes and
// ASNs, classes, impacts, event names, a minimum count), a hold-down (a
// condition is told only once it has persisted), a rate limit and retries
// with backoff. The filtering, hold-down and rate limit are pure functions
// of the events and the time given; only the senders do I/O.
package alert

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// Event is one thing watch tells: an invalid route appearing,
// disappearing or changing, a peer or cache going up or down, a peer's
// initial table loaded (End-of-RIB), a VRP source change. Names are
// snake_case and stable; the JSON field names are too.
type Event struct {
	Name string    `json:"event"`
	Time time.Time `json:"time"`
	// Cause is why it happened, where watch knows: route_announced,
	// route_withdrawn, vrps_changed, peer_down, peer_up, end_of_rib.
	Cause string `json:"cause,omitempty"`

	Prefix    netip.Prefix    `json:"prefix,omitzero"`
	Origin    *rov.Origin     `json:"origin,omitempty"`
	Class     classify.Class  `json:"class,omitzero"`
	Impact    classify.Impact `json:"impact,omitzero"`
	OldClass  classify.Class  `json:"old_class,omitzero"`
	OldImpact classify.Impact `json:"old_impact,omitzero"`
	// VRP is the deciding VRP ("192.0.2.0/24-24 AS64500"), when one
	// covers the route.
	VRP   string `json:"vrp,omitempty"`
	Paths int    `json:"paths,omitempty"`
	Peers int    `json:"peers,omitempty"`

	// Peer names a session ("bgp 192.0.2.1 AS64501"); Source a VRP source.
	Peer   string `json:"peer,omitempty"`
	Source string `json:"source,omitempty"`
	// Counts summarise a batch (a peer's initial load, a peer going down).
	Counts map[string]int `json:"counts,omitempty"`

	// InitialLoad marks a route event of a session's initial table: such
	// events are summed up in one initial_load event, and reach only
	// receivers that watch the operator's own space (Filter.Prefixes or
	// ASNs), for whom a route of their space matters by itself.
	InitialLoad bool `json:"initial_load,omitempty"`

	// Clear marks the end of a condition an earlier event began (a route
	// no longer invalid, a peer back up): it cancels a held-down event of
	// the same Key, or is told if that event was.
	Clear bool `json:"-"`
}

// Key names the condition an event is about, so that its clearing event
// can find it.
func (e Event) Key() string {
	switch {
	case e.Prefix.IsValid():
		o := ""
		if e.Origin != nil {
			o = e.Origin.String()
		}
		return "route " + e.Prefix.String() + " " + o
	case e.Peer != "":
		return "peer " + e.Peer
	case e.Source != "":
		return "source " + e.Source
	}
	return e.Name
}

// Line is the event as one line of text (syslog, chat, mail).
func (e Event) Line() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Prefix.IsValid() {
		fmt.Fprintf(&b, " %s", e.Prefix)
	}
	if e.Origin != nil {
		fmt.Fprintf(&b, " %s", e.Origin)
	}
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	kv("class", e.Class.String())
	kv("impact", e.Impact.String())
	kv("old_class", e.OldClass.String())
	kv("old_impact", e.OldImpact.String())
	kv("cause", e.Cause)
	kv("vrp", quoteIfSpace(e.VRP))
	kv("peer", quoteIfSpace(e.Peer))
	kv("source", quoteIfSpace(e.Source))
	for _, k := range sortedKeys(e.Counts) {
		kv(k, fmt.Sprint(e.Counts[k]))
	}
	return b.String()
}

func quoteIfSpace(s string) string {
	if strings.ContainsAny(s, " \"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// Message is what one receiver is sent at once: the events that came due
// together, and how many earlier messages the rate limit held back.
type Message struct {
	Receiver   string    `json:"receiver"`
	Time       time.Time `json:"time"`
	Summary    string    `json:"summary"`
	Events     []Event   `json:"events"`
	Suppressed int       `json:"suppressed,omitempty"`
}

// summary is "3 events: 2 invalid_appeared, 1 peer_down".
func summary(evs []Event) string {
	n := map[string]int{}
	var order []string
	for _, e := range evs {
		if n[e.Name] == 0 {
			order = append(order, e.Name)
		}
		n[e.Name]++
	}
	parts := make([]string, len(order))
	for i, name := range order {
		parts[i] = fmt.Sprintf("%d %s", n[name], name)
	}
	word := "events"
	if len(evs) == 1 {
		word = "event"
	}
	return fmt.Sprintf("%d %s: %s", len(evs), word, strings.Join(parts, ", "))
}
