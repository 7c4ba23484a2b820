package rtr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// Timer defaults of RFC 8210 §6, used until a cache sends its own in a
// version 1 End of Data, and always in version 0 (RFC 6810 has none).
const (
	DefaultRefresh = 3600 * time.Second
	DefaultRetry   = 600 * time.Second
	DefaultExpire  = 7200 * time.Second
)

// Clock is the time source of a Client; tests inject a fake one to see
// timers fire without waiting.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Client. Only Addr is required.
type Config struct {
	// Addr is the cache's HOST:PORT (TCP, RFC 8210 §9).
	Addr string
	// Name is the Source of the client's Updates; Addr when empty.
	Name string
	// V0 starts with protocol version 0 (RFC 6810) instead of 1. Without
	// it the client falls back to 0 by itself when the cache answers
	// Unsupported Protocol Version (RFC 8210 §7).
	V0 bool
	// Dial opens the connection; net.Dialer.DialContext when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RetryInterval is the first reconnect delay after a failed session
	// (default 5 s); it doubles on each further failure, up to the cache's
	// Retry interval (RFC 8210 §6).
	RetryInterval time.Duration
	// Logger receives session events; discarded when nil.
	Logger *slog.Logger
	// Clock drives timers; the real clock when nil.
	Clock Clock
}

// Update is one change of a cache's VRP set, sent after each End of Data
// (and when the data expires). Announced and Withdrawn are sorted by
// CompareVRP.
//
// A delta (Reset false) lists what the serial response announced and
// withdrew, netted: applying it to the previous set gives the new one.
// A Reset (after a Reset Query) carries the complete new set in Announced
// and, in Withdrawn, what the previous set had and the new one lacks, so a
// consumer may either replace its copy or apply the delta. Expired (with
// Reset) empties the set: no End of Data came within the Expire interval
// (RFC 8210 §6). An Update with both lists empty says the cache confirmed
// the set is current, which refreshes its age in a Set.
type Update struct {
	Source    string
	Reset     bool
	Expired   bool
	Announced []rov.VRP
	Withdrawn []rov.VRP
	Version   uint8
	SessionID uint16
	Serial    uint32
	// Time is when the End of Data arrived (Clock time).
	Time time.Time
	// Expire is how long the data stays usable without another End of
	// Data.
	Expire time.Duration
}

// Status is a snapshot of a Client's session, for logs and metrics.
type Status struct {
	Source     string
	Addr       string
	Connected  bool
	Version    uint8
	HasSession bool // SessionID and Serial are those of a completed sync
	SessionID  uint16
	Serial     uint32
	LastUpdate time.Time // last End of Data; zero before the first
	VRPs       int
	Refresh    time.Duration
	Retry      time.Duration
	Expire     time.Duration

	Syncs          int // End of Data PDUs applied
	ResetSyncs     int // of which answered a Reset Query
	Connects       int // connections established
	ProtocolErrors int // sessions dropped for a protocol error, ours or the cache's
	SkippedKeys    int // Router Key PDUs skipped (BGPsec, not used here)
	SkippedASPA    int // ASPA PDUs skipped (path validation, not used here)
	Expirations    int // times the data expired
	LastError      string
}

// Client keeps the VRP set of one RPKI cache current. Create it with
// NewClient, start Run, and drain Updates. Status and VRPs may be called
// from any goroutine.
type Client struct {
	cfg   Config
	name  string
	clock Clock
	log   *slog.Logger
	out   chan Update

	wmu sync.Mutex // serialises writes to the connection

	mu         sync.Mutex // guards st, vrps (writes), queryReset
	st         Status
	vrps       map[vkey]struct{}
	queryReset bool // the query in flight is a Reset Query
}

// NewClient returns a Client for cfg. It does not connect: Run does.
func NewClient(cfg Config) *Client {
	c := &Client{cfg: cfg, name: cfg.Name, clock: cfg.Clock, log: cfg.Logger, out: make(chan Update, 4)}
	if c.name == "" {
		c.name = cfg.Addr
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("rtr", c.name)
	if c.cfg.RetryInterval <= 0 {
		c.cfg.RetryInterval = 5 * time.Second
	}
	if c.cfg.Dial == nil {
		var d net.Dialer
		c.cfg.Dial = d.DialContext
	}
	c.st = Status{Source: c.name, Addr: cfg.Addr, Version: 1, Refresh: DefaultRefresh, Retry: DefaultRetry, Expire: DefaultExpire}
	if cfg.V0 {
		c.st.Version = 0
	}
	c.vrps = map[vkey]struct{}{}
	return c
}

// Updates delivers the changes. Run blocks until each Update is taken, so
// the consumer must keep reading; the channel is closed when Run returns.
func (c *Client) Updates() <-chan Update { return c.out }

// Status returns a snapshot of the session state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.st
	s.VRPs = len(c.vrps)
	return s
}

// VRPs returns the current VRP set, sorted by CompareVRP. It copies the set
// (O(n log n)); consumers following Updates do not need it.
func (c *Client) VRPs() []rov.VRP {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortedVRPs(c.vrps)
}

// Session-ending conditions that Run handles specially.
var (
	errFallback = errors.New("cache does not support protocol version 1; retrying with version 0")
	errNoData   = errors.New("cache has no data yet (No Data Available)")
	errExpired  = errors.New("no End of Data within the expire interval")
)

// ProtocolError is a protocol violation that ends a session: one we found
// in what the cache sent (we sent it an Error Report with Code), or one the
// cache reported to us in an Error Report (FromCache). Either way the next
// session starts with a Reset Query.
type ProtocolError struct {
	Code      ErrorCode
	FromCache bool
	Text      string
}

func (e *ProtocolError) Error() string {
	if e.FromCache {
		return fmt.Sprintf("cache sent Error Report %s: %q", e.Code, e.Text)
	}
	return fmt.Sprintf("protocol error %s: %s", e.Code, e.Text)
}

// Run connects to the cache, synchronises, follows its notifications and
// refresh timer, and reconnects after failures with backoff, until ctx is
// done; it then returns ctx.Err(). While no session completes a sync, the
// data expires Expire after the last End of Data: Run then sends an Expired
// Update.
func (c *Client) Run(ctx context.Context) error {
	defer close(c.out)
	failures := 0
	for {
		synced, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.setConnected(false, err)
		delay := c.cfg.RetryInterval
		var pe *ProtocolError
		switch {
		case errors.Is(err, errFallback):
			c.mu.Lock()
			c.st.Version = 0
			c.mu.Unlock()
			c.log.Info("falling back to RTR version 0 (RFC 6810)")
			delay = 0
		case errors.Is(err, errNoData):
			delay = c.Status().Retry
		case errors.As(err, &pe):
			// Counted, and the session forgotten, by noteProtocolError.
			c.log.Warn("session dropped", "err", err)
		default:
			c.log.Warn("session ended", "err", err)
		}
		if synced {
			failures = 0
		} else if delay > 0 {
			failures++
			for i := 1; i < failures && delay < c.Status().Retry; i++ {
				delay *= 2
			}
			delay = min(delay, max(c.Status().Retry, c.cfg.RetryInterval))
		}
		if err := c.wait(ctx, delay); err != nil {
			return err
		}
	}
}

// wait sleeps d, expiring the data if its expire time passes meanwhile.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	deadline := c.clock.Now().Add(d)
	for {
		if err := c.expireIfDue(ctx); err != nil {
			return err
		}
		now := c.clock.Now()
		if !now.Before(deadline) {
			return nil
		}
		step := deadline.Sub(now)
		if at, ok := c.expiresAt(); ok && at.Sub(now) < step {
			step = max(at.Sub(now), 0)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.clock.After(step):
		}
	}
}

// expiresAt is when the current data expires, if there is any.
func (c *Client) expiresAt() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.LastUpdate.IsZero() || len(c.vrps) == 0 {
		return time.Time{}, false
	}
	return c.st.LastUpdate.Add(c.st.Expire), true
}

// expireIfDue drops the data once it is older than Expire (RFC 8210 §6:
// "the router ... MUST NOT retain the data past the time indicated by
// this parameter") and sends an Expired Update. Called only while no
// session reads, so it is the only writer.
func (c *Client) expireIfDue(ctx context.Context) error {
	at, ok := c.expiresAt()
	if !ok || c.clock.Now().Before(at) {
		return nil
	}
	c.mu.Lock()
	old := c.vrps
	c.vrps = map[vkey]struct{}{}
	c.st.HasSession = false
	c.st.Expirations++
	u := Update{Source: c.name, Reset: true, Expired: true, Version: c.st.Version,
		SessionID: c.st.SessionID, Serial: c.st.Serial, Time: c.clock.Now(), Expire: c.st.Expire}
	c.mu.Unlock()
	u.Withdrawn = sortedVRPs(old)
	c.log.Warn("VRP data expired", "vrps", len(old), "expire", u.Expire)
	return c.emit(ctx, u)
}

func (c *Client) emit(ctx context.Context, u Update) error {
	select {
	case c.out <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) setConnected(up bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Connected = up
	if up {
		c.st.Connects++
	}
	if err != nil {
		c.st.LastError = err.Error()
	}
}

// event is what the reading goroutine tells the session loop.
type event struct {
	kind    eventKind
	update  Update // evEOD
	serial  uint32 // evNotify
	session uint16 // evNotify
	err     error  // evErr
}

type eventKind uint8

const (
	evEOD eventKind = iota
	evNotify
	evCacheReset
	evErr
)

// session runs one connection; synced reports whether at least one End of
// Data was applied.
func (c *Client) session(ctx context.Context) (synced bool, err error) {
	conn, err := c.cfg.Dial(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return false, fmt.Errorf("rtr %s: dial: %w", c.cfg.Addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c.setConnected(true, nil)

	sessCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan event)
	readerDone := make(chan struct{})
	defer func() {
		conn.Close()
		<-readerDone // the reader owns c.vrps until it exits
	}()

	st := c.Status()
	version := st.Version
	inFlight := false
	query := func(reset bool) error {
		c.mu.Lock()
		c.queryReset = reset
		session, serial := c.st.SessionID, c.st.Serial
		c.mu.Unlock()
		p := PDU{Version: version, Type: TypeResetQuery}
		if !reset {
			p = PDU{Version: version, Type: TypeSerialQuery, Session: session, Serial: serial}
		}
		inFlight = true
		return c.write(conn, &p)
	}
	// RFC 8210 §8.3/§8.4: a router that already holds a session's data
	// resumes it with a Serial Query; otherwise it starts with a Reset
	// Query.
	if err := query(!st.HasSession); err != nil {
		close(readerDone)
		return false, err
	}
	go c.read(sessCtx, conn, version, events, readerDone)

	var refresh, expire <-chan time.Time
	if at, ok := c.expiresAt(); ok {
		expire = c.clock.After(max(at.Sub(c.clock.Now()), 0))
	}
	pendingNotify := false
	for {
		select {
		case <-ctx.Done():
			return synced, ctx.Err()
		case ev := <-events:
			switch ev.kind {
			case evErr:
				return synced, ev.err
			case evEOD:
				synced, inFlight = true, false
				// Timers first: they count from the End of Data, not
				// from when the consumer took the Update.
				st := c.Status()
				refresh = c.clock.After(st.Refresh)
				expire = c.clock.After(st.Expire)
				if err := c.emit(ctx, ev.update); err != nil {
					return synced, err
				}
				if pendingNotify {
					pendingNotify = false
					if err := query(false); err != nil {
						return synced, err
					}
				}
			case evNotify:
				st := c.Status()
				switch {
				case !st.HasSession || ev.session != st.SessionID:
					// A new session ID means the cache restarted: its
					// serials mean nothing to us (RFC 8210 §5.1).
					if !inFlight {
						if err := query(true); err != nil {
							return synced, err
						}
					}
				case ev.serial == st.Serial:
					// Already current.
				case inFlight:
					pendingNotify = true
				default:
					if err := query(false); err != nil {
						return synced, err
					}
				}
			case evCacheReset:
				// RFC 8210 §5.9: the cache cannot serve the serial asked
				// for; the router answers with a Reset Query.
				c.mu.Lock()
				c.st.HasSession = false
				c.mu.Unlock()
				if err := query(true); err != nil {
					return synced, err
				}
			}
		case <-refresh:
			refresh = nil
			if !inFlight {
				if err := query(false); err != nil {
					return synced, err
				}
			}
		case <-expire:
			if at, ok := c.expiresAt(); ok && !c.clock.Now().Before(at) {
				return synced, errExpired
			}
			expire = nil
		}
	}
}

func (c *Client) write(conn net.Conn, p *PDU) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var buf [64]byte
	if _, err := conn.Write(AppendPDU(buf[:0], p)); err != nil {
		return fmt.Errorf("rtr %s: send %s: %w", c.cfg.Addr, p.Type, err)
	}
	return nil
}

// sendError reports a protocol error to the cache (RFC 8210 §5.11) and
// returns it as a *ProtocolError. Error Reports are never answered with
// one (RFC 8210 §12).
func (c *Client) sendError(conn net.Conn, version uint8, code ErrorCode, quote []byte, text string) error {
	if len(quote) > MaxPDULen/2 {
		quote = quote[:MaxPDULen/2]
	}
	pe := &ProtocolError{Code: code, Text: text}
	c.noteProtocolError(pe)
	p := PDU{Version: version, Type: TypeErrorReport, Session: uint16(code), ErrPDU: quote, ErrText: text}
	c.wmu.Lock()
	conn.Write(AppendPDU(nil, &p)) // best effort: the session ends either way
	c.wmu.Unlock()
	return pe
}

// noteProtocolError counts a protocol error and forgets the session: RFC
// 8210 §5.6/§12, after a protocol error the router starts over with a
// Reset Query. The data is kept until that reset replaces it (or it
// expires). It runs before the Error Report goes out, so an observer of
// the report sees the state already updated.
func (c *Client) noteProtocolError(pe *ProtocolError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.HasSession = false
	c.st.ProtocolErrors++
	c.st.LastError = pe.Error()
}

// response accumulates one Cache Response up to its End of Data.
type response struct {
	active  bool
	reset   bool
	session uint16
	next    map[vkey]struct{} // reset: the new set
	adds    map[vkey]struct{} // serial: announced, net
	dels    map[vkey]struct{} // serial: withdrawn, net
}

// read decodes PDUs and builds responses. It is the only writer of c.vrps
// while the session lives, so it reads c.vrps without the lock.
func (c *Client) read(ctx context.Context, conn net.Conn, version uint8, events chan<- event, done chan<- struct{}) {
	defer close(done)
	send := func(ev event) bool {
		select {
		case events <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(err error) { send(event{kind: evErr, err: err}) }
	rd := NewReader(conn)
	var p PDU
	var r response
	for {
		if err := rd.Next(&p); err != nil {
			var de *DecodeError
			if errors.As(err, &de) && !errors.Is(err, io.ErrUnexpectedEOF) {
				// A malformed PDU (RFC 8210 §12), reported to the cache
				// unless it is itself an Error Report.
				if de.Type == TypeErrorReport {
					pe := &ProtocolError{Code: de.Code, Text: err.Error()}
					c.noteProtocolError(pe)
					err = pe
				} else {
					err = c.sendError(conn, version, de.Code, de.PDU, err.Error())
				}
			}
			fail(fmt.Errorf("rtr %s: %w", c.cfg.Addr, err))
			return
		}
		if p.Type == TypeErrorReport {
			// Any version: a cache that speaks only version 0 answers a
			// version 1 query with a version 0 Error Report (RFC 8210 §7).
			switch {
			case p.Code() == ErrUnsupportedVersion && version > 0:
				fail(errFallback)
			case p.Code() == ErrNoDataAvailable:
				fail(errNoData)
			default:
				pe := &ProtocolError{Code: p.Code(), FromCache: true, Text: p.ErrText}
				c.noteProtocolError(pe)
				fail(fmt.Errorf("rtr %s: %w", c.cfg.Addr, pe))
			}
			return
		}
		if p.Version != version {
			// RFC 8210 §7: "... a different version number than the one
			// negotiated ... Unexpected Protocol Version".
			fail(c.sendError(conn, version, ErrUnexpectedProtoVersion, AppendPDU(nil, &p),
				fmt.Sprintf("%s PDU of version %d in a version %d session", p.Type, p.Version, version)))
			return
		}
		protoErr := func(code ErrorCode, format string, args ...any) {
			fail(c.sendError(conn, version, code, AppendPDU(nil, &p), fmt.Sprintf(format, args...)))
		}
		switch p.Type {
		case TypeSerialNotify:
			if !send(event{kind: evNotify, serial: p.Serial, session: p.Session}) {
				return
			}
		case TypeCacheResponse:
			if r.active {
				protoErr(ErrCorruptData, "Cache Response inside a response")
				return
			}
			c.mu.Lock()
			reset, st := c.queryReset, c.st
			c.mu.Unlock()
			if !reset && p.Session != st.SessionID {
				protoErr(ErrCorruptData, "Cache Response session %d to a Serial Query of session %d", p.Session, st.SessionID)
				return
			}
			r = response{active: true, reset: reset, session: p.Session}
			if reset {
				r.next = make(map[vkey]struct{}, len(c.vrps))
			} else {
				r.adds, r.dels = map[vkey]struct{}{}, map[vkey]struct{}{}
			}
		case TypeIPv4Prefix, TypeIPv6Prefix:
			if !r.active {
				protoErr(ErrCorruptData, "%s PDU outside a Cache Response", p.Type)
				return
			}
			if code, msg := r.prefix(&p, c.vrps); msg != "" {
				protoErr(code, "%s", msg)
				return
			}
		case TypeEndOfData:
			if !r.active {
				protoErr(ErrCorruptData, "End of Data outside a Cache Response")
				return
			}
			if p.Session != r.session {
				protoErr(ErrCorruptData, "End of Data session %d in a response of session %d", p.Session, r.session)
				return
			}
			u := c.apply(&r, &p)
			r = response{}
			if !send(event{kind: evEOD, update: u}) {
				return
			}
		case TypeCacheReset:
			if r.active {
				protoErr(ErrCorruptData, "Cache Reset inside a response")
				return
			}
			if !send(event{kind: evCacheReset}) {
				return
			}
		case TypeRouterKey, TypeASPA:
			// Not used for origin validation; counted so a report can
			// say they were there (RFC 8210 §5.10, 8210bis ASPA).
			c.mu.Lock()
			if p.Type == TypeRouterKey {
				c.st.SkippedKeys++
			} else {
				c.st.SkippedASPA++
			}
			c.mu.Unlock()
		default:
			// Serial Query, Reset Query: router-to-cache only.
			protoErr(ErrInvalidRequest, "%s PDU sent by a cache", p.Type)
			return
		}
	}
}

// prefix applies one prefix PDU to the response, checking the sequence
// rules of RFC 8210 §5.6: "receipt of ... an announcement of a record
// already announced ... Duplicate Announcement Received", "a withdrawal
// ... of a record not currently announced ... Withdrawal of Unknown
// Record". An announcement and a withdrawal of the same record within one
// response cancel out.
func (r *response) prefix(p *PDU, cur map[vkey]struct{}) (ErrorCode, string) {
	k := keyOfPDU(p)
	if r.reset {
		_, have := r.next[k]
		switch {
		case p.Announce() && have:
			return ErrDuplicateAnnouncement, fmt.Sprintf("duplicate announcement of %s", k.vrp())
		case p.Announce():
			r.next[k] = struct{}{}
		case !have:
			return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of unknown %s", k.vrp())
		default:
			delete(r.next, k)
		}
		return 0, ""
	}
	_, inCur := cur[k]
	_, added := r.adds[k]
	_, deleted := r.dels[k]
	switch {
	case p.Announce() && deleted:
		delete(r.dels, k)
	case p.Announce() && (added || inCur):
		return ErrDuplicateAnnouncement, fmt.Sprintf("duplicate announcement of %s", k.vrp())
	case p.Announce():
		r.adds[k] = struct{}{}
	case added:
		delete(r.adds, k)
	case inCur && !deleted:
		r.dels[k] = struct{}{}
	default:
		return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of unknown %s", k.vrp())
	}
	return 0, ""
}

// apply installs a completed response and returns its Update.
func (c *Client) apply(r *response, eod *PDU) Update {
	now := c.clock.Now()
	u := Update{Source: c.name, Reset: r.reset, Version: eod.Version, SessionID: eod.Session, Serial: eod.Serial, Time: now}
	if r.reset {
		gone := map[vkey]struct{}{}
		for k := range c.vrps {
			if _, ok := r.next[k]; !ok {
				gone[k] = struct{}{}
			}
		}
		u.Announced, u.Withdrawn = sortedVRPs(r.next), sortedVRPs(gone)
	} else {
		u.Announced, u.Withdrawn = sortedVRPs(r.adds), sortedVRPs(r.dels)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.reset {
		c.vrps = r.next
		c.st.ResetSyncs++
	} else {
		for k := range r.dels {
			delete(c.vrps, k)
		}
		for k := range r.adds {
			c.vrps[k] = struct{}{}
		}
	}
	c.st.HasSession, c.st.SessionID, c.st.Serial, c.st.LastUpdate = true, eod.Session, eod.Serial, now
	c.st.Syncs++
	if eod.Version > 0 {
		// RFC 8210 §6 ranges; a value outside them is replaced by the
		// default rather than trusted (a zero refresh would spin).
		c.st.Refresh = timer(eod.Refresh, 1, 86400, DefaultRefresh)
		c.st.Retry = timer(eod.Retry, 1, 7200, DefaultRetry)
		c.st.Expire = timer(eod.Expire, 600, 172800, DefaultExpire)
	}
	u.Expire = c.st.Expire
	return u
}

func timer(v, lo, hi uint32, def time.Duration) time.Duration {
	if v < lo || v > hi {
		return def
	}
	return time.Duration(v) * time.Second
}
