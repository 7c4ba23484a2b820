package alert

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Sender delivers one message to one receiver; an error of type
// *PermanentError is not retried.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a delivery failure another try cannot mend (a 4xx
// answer, a template that does not render).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Policy is how a receiver is told: after how long, how often, how hard.
type Policy struct {
	// HoldDown: an event is told only once its condition has lasted this
	// long (a clearing event before then cancels it: a flap is not told).
	HoldDown time.Duration
	// RateLimit messages per RatePer at most (0: no limit); the ones over
	// it are dropped and counted in the next message's Suppressed.
	RateLimit int
	RatePer   time.Duration
	// Retries after a failed delivery, waiting Backoff, then twice that,
	// and so on (at most a minute).
	Retries int
	Backoff time.Duration
}

// Receiver is one configured destination.
type Receiver struct {
	Name   string
	Filter Filter
	Policy Policy
	Sender Sender
}

// Options are the Notifier's clock and log.
type Options struct {
	Log *slog.Logger
	// Sleep waits d or until ctx ends (tests inject one that does not
	// sleep); time.Sleep with ctx when nil.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Notifier applies each receiver's filter, hold-down and rate limit to
// the events watch hands it, and delivers the messages in the background,
// one sender goroutine per receiver, so a slow receiver never holds watch
// up. Handle and Tick are called from one goroutine (watch's loop).
type Notifier struct {
	opt   Options
	rcv   []*state
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup // sender goroutines
	queue sync.WaitGroup // messages not yet delivered or given up
	once  sync.Once
}

type pending struct {
	ev    Event
	since time.Time
}

// state is one receiver's memory.
type state struct {
	Receiver
	pending    map[string]*pending
	order      []string // pending keys in arrival order
	due        []Event  // clearing events to tell at the next Tick
	told       map[string]bool
	tokens     float64
	last       time.Time
	suppressed int
	out        chan Message
}

// New starts a Notifier for receivers; Close stops it.
func New(receivers []Receiver, opt Options) *Notifier {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Sleep == nil {
		opt.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	n := &Notifier{opt: opt}
	n.ctx, n.stop = context.WithCancel(context.Background())
	for _, r := range receivers {
		s := &state{Receiver: r, pending: map[string]*pending{}, told: map[string]bool{}, tokens: float64(r.Policy.RateLimit),
			out: make(chan Message, 64)}
		n.rcv = append(n.rcv, s)
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.deliver(s) }()
	}
	return n
}

// Adopt takes over, for each receiver of n named as one of old's, what old
// remembers: events still held down (with the time they began), which
// conditions were told (so their end is told), and the rate limit's
// count of held-back messages. A reload uses it so that new settings do
// not restart every hold-down or forget what was told. Call it before n is
// used, from the goroutine that called old's Handle and Tick.
func (n *Notifier) Adopt(old *Notifier) {
	if old == nil {
		return
	}
	for _, s := range n.rcv {
		for _, o := range old.rcv {
			if o.Name != s.Name {
				continue
			}
			s.pending, s.order, s.told, s.due, s.suppressed = o.pending, o.order, o.told, o.due, o.suppressed
			s.tokens, s.last = min(s.tokens, o.tokens), o.last
		}
	}
}

// Receivers names the receivers, in configuration order.
func (n *Notifier) Receivers() []string {
	var out []string
	for _, s := range n.rcv {
		out = append(out, s.Name)
	}
	return out
}

// Handle takes the events of one check at now: each receiver holds the
// ones its filter passes until their hold-down has passed (see Tick).
func (n *Notifier) Handle(now time.Time, events []Event) {
	for _, s := range n.rcv {
		for _, e := range events {
			if !s.Filter.Match(e) {
				continue
			}
			k := e.Key()
			if e.Clear {
				if _, ok := s.pending[k]; ok {
					delete(s.pending, k)
					s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == k })
					continue
				}
				if s.told[k] {
					delete(s.told, k)
					s.due = append(s.due, e)
				}
				continue
			}
			if p, ok := s.pending[k]; ok {
				p.ev = e // the latest state, held since the first
				continue
			}
			s.pending[k] = &pending{ev: e, since: now}
			s.order = append(s.order, k)
		}
	}
	n.Tick(now)
}

// Tick sends, per receiver, the events whose hold-down has passed at now
// (with at least Filter.MinCount of them), within the rate limit.
func (n *Notifier) Tick(now time.Time) {
	for _, s := range n.rcv {
		var due []Event
		var keys []string
		for _, k := range s.order {
			if p := s.pending[k]; !now.Before(p.since.Add(s.Policy.HoldDown)) {
				due = append(due, p.ev)
				keys = append(keys, k)
			}
		}
		if len(due) > 0 && len(due) < s.Filter.MinCount {
			due, keys = nil, nil // wait for company; they stay pending
		}
		for _, k := range keys {
			delete(s.pending, k)
			s.told[k] = true
		}
		s.order = slices.DeleteFunc(s.order, func(k string) bool { _, ok := s.pending[k]; return !ok })
		due = append(s.due, due...)
		s.due = nil
		if len(due) == 0 {
			continue
		}
		if !s.allow(now) {
			s.suppressed++
			n.opt.Log.Warn("alert_rate_limited", "receiver", s.Name, "events", len(due), "suppressed", s.suppressed)
			continue
		}
		m := Message{Receiver: s.Name, Time: now, Summary: summary(due), Events: due, Suppressed: s.suppressed}
		s.suppressed = 0
		n.queue.Add(1)
		select {
		case s.out <- m:
		default:
			n.queue.Done()
			s.suppressed++
			n.opt.Log.Error("alert_queue_full", "receiver", s.Name, "events", len(due))
		}
	}
}

// allow takes a token of the receiver's bucket: RateLimit tokens, one
// back every RatePer/RateLimit.
func (s *state) allow(now time.Time) bool {
	p := s.Policy
	if p.RateLimit <= 0 {
		return true
	}
	if !s.last.IsZero() && now.After(s.last) {
		s.tokens = min(float64(p.RateLimit), s.tokens+float64(now.Sub(s.last))/float64(p.RatePer)*float64(p.RateLimit))
	}
	s.last = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// deliver sends the receiver's messages, retrying with backoff.
func (n *Notifier) deliver(s *state) {
	for m := range s.out {
		n.send(s, m)
		n.queue.Done()
	}
}

func (n *Notifier) send(s *state, m Message) {
	wait := s.Policy.Backoff
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		err := s.Sender.Send(ctx, m)
		cancel()
		if err == nil {
			n.opt.Log.Info("alert_sent", "receiver", s.Name, "events", len(m.Events), "tries", try+1)
			return
		}
		var perm *PermanentError
		if try >= s.Policy.Retries || asPermanent(err, &perm) || n.ctx.Err() != nil {
			n.opt.Log.Error("alert_failed", "receiver", s.Name, "events", len(m.Events), "tries", try+1, "err", err)
			return
		}
		n.opt.Log.Warn("alert_retry", "receiver", s.Name, "try", try+1, "wait", wait, "err", err)
		if n.opt.Sleep(n.ctx, wait) != nil {
			return
		}
		wait = min(2*wait, time.Minute)
	}
}

// Flush waits until every message handed to the senders is delivered or
// given up.
func (n *Notifier) Flush() { n.queue.Wait() }

// Close delivers what is queued and stops the senders; retries still
// waiting end at once.
func (n *Notifier) Close() { n.once.Do(n.close) }

func (n *Notifier) close() {
	for _, s := range n.rcv {
		close(s.out)
	}
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		n.stop()
		<-done
	}
	n.stop()
}
