package rtr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// Timer defaults of RFC 8210 §6, used until a cache sends its own in a
// version 1 or 2 End of Data, and always in version 0 (RFC 6810 has none).
const (
	DefaultRefresh = 3600 * time.Second
	DefaultRetry   = 600 * time.Second
	DefaultExpire  = 7200 * time.Second
)

// Client limits, in the absence of Config values.
const (
	// DefaultResponseTimeout is how long a query may go unanswered (no
	// PDU at all, or none for that long inside a response) before the
	// cache is declared down.
	DefaultResponseTimeout = 30 * time.Second
	// DefaultMaxRetryDelay caps the reconnect backoff below the cache's
	// Retry interval: draft-ietf-sidrops-8210bis-26 §8.4 asks a router
	// whose cache has no data for "periodic Reset Queries ... maybe once a
	// minute or less frequently so as not to DoS the cache", and one
	// connection attempt a minute costs a cache nothing, while waiting out
	// a 600 s Retry leaves the union stale or empty for ten minutes.
	DefaultMaxRetryDelay = 60 * time.Second
	// DefaultMaxVRPs bounds what one response may leave the client
	// holding: about 5.5 times the 723k VRPs the global RPKI held in
	// late 2026, so growth fits and a runaway cache does not.
	DefaultMaxVRPs = 4_000_000
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
	// MaxVersion is the protocol version offered first: 2 when zero
	// (draft-ietf-sidrops-8210bis), or 1 (RFC 8210). The client steps
	// down one version each time the cache answers Unsupported Protocol
	// Version (8210bis §7), to 0 (RFC 6810) at the lowest.
	MaxVersion uint8
	// V0 starts with protocol version 0 (RFC 6810), whatever MaxVersion
	// says.
	V0 bool
	// Dial opens the connection; net.Dialer.DialContext when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RetryInterval is the first reconnect delay after a failed session
	// (default 5 s); it doubles on each further failure, up to the cache's
	// Retry interval (RFC 8210 §6) or MaxRetryDelay, whichever is lower.
	RetryInterval time.Duration
	// MaxRetryDelay caps the reconnect delay (default
	// DefaultMaxRetryDelay).
	MaxRetryDelay time.Duration
	// ResponseTimeout bounds every wait for the cache while a query is
	// outstanding: for the first PDU of the answer, and for each further
	// PDU until End of Data; a whole response must also end within ten
	// times it. It bounds connecting and writing too. A cache that misses
	// it is declared down: the connection is closed, Status.Connected is
	// false, and the client reconnects with backoff. Default
	// DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// MaxVRPs caps the VRPs one response may leave the client holding
	// (and, separately, the ASPA provider entries). Above it the client
	// sends Error Report "Internal Error" (RFC 8210 §12: "ran out of
	// memory"), drops the session and keeps its previous data. Default
	// DefaultMaxVRPs.
	MaxVRPs int
	// Logger receives session events; discarded when nil.
	Logger *slog.Logger
	// Clock drives timers; the real clock when nil.
	Clock Clock
}

// Update is one change of a cache's VRP set, sent after each End of Data
// (and when the data expires). Announced and Withdrawn are sorted by
// rov.CompareVRP.
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

	// Reuse hands Announced over to Set.Apply, which may then write the
	// change's VRPs over its elements (its Delta's Announced is then that
	// array): the caller reads no element of it afterwards. A first load
	// from a file (VRPs with TAs, in the loader's order) then holds its
	// VRPs once, not a second time as the Delta (40 MB each on a full
	// export). A Client's own Updates need no such thing (see Delta).
	Reuse bool

	// held is the client's whole set after this update (sorted, shared,
	// never modified): Set.Apply keeps it as the source's set when it is
	// the set the update leaves there (no SLURM filter removed anything),
	// so that the client and the Set hold one copy, not two.
	held []vkey
}

// ASPA is one customer's providers as a version 2 cache sent them
// (draft-ietf-sidrops-8210bis-26 §5.12): Providers are in increasing order
// and unique.
type ASPA struct {
	Customer  uint32
	Providers []uint32
}

// Status is a snapshot of a Client's session, for logs and metrics.
type Status struct {
	Source    string
	Addr      string
	Connected bool // a TCP connection to the cache is open
	// Established: a sync completed on the current connection and no
	// query has gone unanswered past ResponseTimeout since. This is what
	// "up" means for a cache.
	Established bool
	Version     uint8
	HasSession  bool // SessionID and Serial are those of a completed sync
	SessionID   uint16
	Serial      uint32
	LastUpdate  time.Time // last End of Data; zero before the first
	VRPs        int
	ASPAs       int // customers with an ASPA (version 2 only)
	Refresh     time.Duration
	Retry       time.Duration
	Expire      time.Duration
	// Expired: the data was dropped because no End of Data came within
	// Expire; cleared by the next sync.
	Expired bool
	// NextAttempt is when the client reconnects, while it waits to
	// (Clock time); zero while connected or connecting.
	NextAttempt time.Time

	Syncs          int // End of Data PDUs applied
	ResetSyncs     int // of which answered a Reset Query
	Connects       int // connections established
	ProtocolErrors int // sessions dropped for a protocol error, ours or the cache's
	Timeouts       int // sessions dropped because the cache did not answer in time
	CacheResets    int // Cache Reset PDUs received
	SkippedKeys    int // Router Key PDUs skipped (BGPsec, not used here)
	SkippedASPA    int // ASPA PDUs skipped (seen in a version 0 or 1 session)
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

	// progress counts PDUs read, answers the PDUs that answer a query
	// (Cache Response, Cache Reset, Error Report); the session loop
	// compares them with its marks to see a silent or stalled cache
	// without an event per PDU.
	progress atomic.Uint64
	answers  atomic.Uint64

	mu         sync.Mutex // guards st, vrps and aspas (writes), queryReset
	st         Status
	vrps       []vkey // sorted by vkey.Compare; replaced, never edited, so the reader may read it while a response is applied
	aspas      map[aspaKey][]uint32
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
	if c.cfg.MaxRetryDelay <= 0 {
		c.cfg.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if c.cfg.ResponseTimeout <= 0 {
		c.cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if c.cfg.MaxVRPs <= 0 {
		c.cfg.MaxVRPs = DefaultMaxVRPs
	}
	if c.cfg.Dial == nil {
		var d net.Dialer
		c.cfg.Dial = d.DialContext
	}
	version := uint8(MaxVersion)
	switch {
	case cfg.V0:
		version = 0
	case cfg.MaxVersion > 0 && cfg.MaxVersion < MaxVersion:
		version = cfg.MaxVersion
	}
	c.st = Status{Source: c.name, Addr: cfg.Addr, Version: version, Refresh: DefaultRefresh, Retry: DefaultRetry, Expire: DefaultExpire}
	c.aspas = map[aspaKey][]uint32{}
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
	s.ASPAs = countCustomers(c.aspas)
	return s
}

// VRPs returns the current VRP set, sorted by rov.CompareVRP. It copies the set
// (O(n log n)); consumers following Updates do not need it.
func (c *Client) VRPs() []rov.VRP {
	c.mu.Lock()
	defer c.mu.Unlock()
	return vrpsOf(c.vrps)
}

// ASPAs returns the ASPA records of the current data (version 2 sessions
// only), sorted by customer. The provider slices are shared and must not
// be modified. They are kept for AS_PATH verification; origin validation
// does not use them.
func (c *Client) ASPAs() []ASPA {
	c.mu.Lock()
	defer c.mu.Unlock()
	return mergeASPAs(c.aspas)
}

// Session-ending conditions that Run handles specially.
var (
	errFallback     = errors.New("cache does not support this protocol version; retrying one version lower")
	errNoData       = errors.New("cache has no data yet (No Data Available)")
	errCacheRestart = errors.New("cache is restarting (Cache Restart)")
	errExpired      = errors.New("no End of Data within the expire interval")
)

// TimeoutError says the cache did not answer a query in time: it is
// declared down (RFC 8210 §6 leaves the router to judge a silent cache;
// draft-ietf-sidrops-8210bis-26 §9 drops a session whose transport
// stalls).
type TimeoutError struct {
	Query   Type          // the query outstanding
	Waited  time.Duration // since it was sent
	Started bool          // the answer had begun (then stalled)
}

func (e *TimeoutError) Error() string {
	if e.Started {
		return fmt.Sprintf("the answer to %s stalled or did not complete within %v", e.Query, e.Waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("no answer to %s within %v", e.Query, e.Waited.Round(time.Millisecond))
}

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

// backoff is the delay before reconnect attempt n (n >= 1 failures in a
// row): first, doubled for each further failure, at most limit (and never
// below first).
func backoff(n int, first, limit time.Duration) time.Duration {
	limit = max(limit, first)
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Run connects to the cache, synchronises, follows its notifications and
// refresh timer, and reconnects after failures with backoff (RetryInterval
// doubling up to the cache's Retry or MaxRetryDelay), until ctx is done; it
// then returns ctx.Err(). Each session end is logged with its cause and the
// delay before the next attempt. While no session completes a sync, the
// data expires Expire after the last End of Data: Run then sends an Expired
// Update.
func (c *Client) Run(ctx context.Context) error {
	defer close(c.out)
	failures := 0
	for {
		end, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.setDown(err)
		if end.synced {
			failures = 0
		}
		delay := c.cfg.RetryInterval
		msg, level := "session ended", slog.LevelWarn
		var pe *ProtocolError
		var te *TimeoutError
		switch {
		case errors.Is(err, errFallback):
			// draft-ietf-sidrops-8210bis-26 §7: "if the router needs to
			// downgrade to a lower protocol version number, it MAY send
			// the first Serial Query or Reset Query immediately". One
			// version at a time rather than to the version of the Error
			// Report: stayrtr reports version 0 whatever it speaks.
			c.mu.Lock()
			if c.st.Version > 0 {
				c.st.Version--
			}
			v := c.st.Version
			c.mu.Unlock()
			msg, level, delay = fmt.Sprintf("falling back to RTR version %d", v), slog.LevelInfo, 0
		case errors.Is(err, errNoData):
			msg = "cache has no data yet"
		case errors.Is(err, errCacheRestart):
			msg, level = "cache is restarting", slog.LevelInfo
		case errors.As(err, &te):
			msg = "cache declared down: it did not answer in time"
		case errors.As(err, &pe):
			// Counted, and the session forgotten, by noteProtocolError.
			msg = "session dropped"
		}
		if delay > 0 {
			failures++
			delay = backoff(failures, c.cfg.RetryInterval, min(c.Status().Retry, c.cfg.MaxRetryDelay))
		}
		// One event name for every way a session ends; the reason says which.
		c.log.Log(ctx, level, "rtr_session_ended", "reason", msg, "err", err, "retry_in", delay, "failures", failures)
		c.mu.Lock()
		c.st.NextAttempt = c.clock.Now().Add(delay)
		c.mu.Unlock()
		err = c.wait(ctx, delay)
		c.mu.Lock()
		c.st.NextAttempt = time.Time{}
		c.mu.Unlock()
		if err != nil {
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
	if c.st.LastUpdate.IsZero() || (len(c.vrps) == 0 && len(c.aspas) == 0) || c.st.Expired {
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
	c.vrps = nil
	c.aspas = map[aspaKey][]uint32{}
	c.st.HasSession = false
	c.st.Expired = true
	c.st.Expirations++
	u := Update{Source: c.name, Reset: true, Expired: true, Version: c.st.Version,
		SessionID: c.st.SessionID, Serial: c.st.Serial, Time: c.clock.Now(), Expire: c.st.Expire}
	c.mu.Unlock()
	u.Withdrawn = vrpsOf(old)
	c.log.Warn("rtr_vrps_expired", "dropped", "all", "vrps", len(old), "expire", u.Expire, "last_update", at.Add(-u.Expire))
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

func (c *Client) setConnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Connected = true
	c.st.Established = false
	c.st.Connects++
}

func (c *Client) setDown(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Connected, c.st.Established = false, false
	var te *TimeoutError
	if errors.As(err, &te) {
		c.st.Timeouts++
	}
	if err != nil {
		c.st.LastError = err.Error()
	}
}

// event is what the reading goroutine tells the session loop.
type event struct {
	kind eventKind
	// evEOD: the completed response and its End of Data. The loop applies
	// it and closes applied; the reader waits for that before it reads
	// c.vrps again. Applying in the loop, not the reader, keeps the data
	// and the Updates in step: a response read after the loop gave up
	// (its connection failed) is never applied, so the client cannot
	// hold data its consumer was never told about.
	resp    *response
	eod     PDU
	applied chan struct{}
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

// sessionEnd is how a session ended, beyond its error.
type sessionEnd struct {
	synced bool // at least one End of Data was applied
}

// session runs one connection.
func (c *Client) session(ctx context.Context) (end sessionEnd, err error) {
	dctx, dcancel := context.WithTimeout(ctx, c.cfg.ResponseTimeout)
	conn, err := c.cfg.Dial(dctx, "tcp", c.cfg.Addr)
	dcancel()
	if err != nil {
		return end, fmt.Errorf("rtr %s: dial: %w", c.cfg.Addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c.setConnected()

	sessCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan event)
	readerDone := make(chan struct{})

	st := c.Status()
	version := st.Version
	var (
		inFlight, inFlightReset bool
		queryAt                 time.Time
		answersMark, progMark   uint64
		respTimer               <-chan time.Time
	)
	arm := func() {
		progMark = c.progress.Load()
		respTimer = c.clock.After(c.cfg.ResponseTimeout)
	}
	query := func(reset bool) error {
		c.mu.Lock()
		c.queryReset = reset
		session, serial := c.st.SessionID, c.st.Serial
		c.mu.Unlock()
		p := PDU{Version: version, Type: TypeResetQuery}
		if !reset {
			p = PDU{Version: version, Type: TypeSerialQuery, Session: session, Serial: serial}
		}
		inFlight, inFlightReset, queryAt = true, reset, c.clock.Now()
		answersMark = c.answers.Load()
		arm()
		return c.write(conn, &p)
	}
	defer func() {
		cancel() // a reader blocked handing over an event gives up
		conn.Close()
		<-readerDone // the reader reads c.vrps until it exits
		if !inFlight || inFlightReset {
			return
		}
		// A Serial Query was outstanding when the session failed: its
		// serial is no longer one the client can vouch for, and the next
		// connection starts with a Reset Query anyway (below).
		c.mu.Lock()
		c.st.HasSession = false
		c.mu.Unlock()
	}()
	// RFC 8210 §8.1: "When a transport connection is first established,
	// the router MUST send either a Reset Query or a Serial Query. A
	// Serial Query would be appropriate if the router has significant
	// unexpired data from a broken session with the same cache and
	// remembers the Session ID of that session". Always the Reset Query:
	// whether it is "the same cache" only the Session ID can tell (§5.1),
	// and caches reuse them. stayrtr 0.5.1 seeds its Session ID from its
	// start time in whole seconds and starts at serial 0, so when it is
	// restarted within the second of its previous start with other data
	// it answers the old Serial Query "no change", and a resuming client
	// would keep the old set, in silence, until the data expires. A reset
	// costs one full transfer per new connection; the old data stays in
	// use until its End of Data, and the Update withdraws what the new
	// set lacks. Serial Queries are kept for the refreshes and
	// notifications within a connection, where the cache process cannot
	// have changed.
	if err := query(true); err != nil {
		close(readerDone)
		return end, err
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
			return end, ctx.Err()
		case ev := <-events:
			switch ev.kind {
			case evErr:
				return end, ev.err
			case evEOD:
				u := c.apply(ev.resp, &ev.eod)
				close(ev.applied)
				end.synced, inFlight, respTimer = true, false, nil
				// Timers first: they count from the End of Data, not
				// from when the consumer took the Update.
				st := c.Status()
				refresh = c.clock.After(st.Refresh)
				expire = c.clock.After(st.Expire)
				if err := c.emit(ctx, u); err != nil {
					return end, err
				}
				if pendingNotify {
					pendingNotify = false
					if err := query(false); err != nil {
						return end, err
					}
				}
			case evNotify:
				st := c.Status()
				switch {
				case !st.HasSession || ev.session != st.SessionID:
					// A new session ID means the cache restarted: its
					// serials mean nothing to us (RFC 8210 §5.1), so the
					// router resets at once. While the first query is
					// outstanding the notify is ignored (8210bis §7).
					if !inFlight {
						if err := query(true); err != nil {
							return end, err
						}
					}
				case ev.serial == st.Serial:
					// Already current.
				case inFlight:
					pendingNotify = true
				default:
					if err := query(false); err != nil {
						return end, err
					}
				}
			case evCacheReset:
				// RFC 8210 §8.3: the cache cannot serve the serial asked
				// for; the router answers at once with a Reset Query. (A
				// Cache Reset answering a Reset Query is refused by the
				// reader, so this cannot loop.)
				c.mu.Lock()
				c.st.HasSession = false
				c.mu.Unlock()
				if err := query(true); err != nil {
					return end, err
				}
			}
		case <-respTimer:
			respTimer = nil
			if !inFlight {
				continue
			}
			waited := c.clock.Now().Sub(queryAt)
			if c.progress.Load() != progMark && waited < 10*c.cfg.ResponseTimeout {
				arm() // the answer is arriving
				continue
			}
			q := TypeSerialQuery
			if inFlightReset {
				q = TypeResetQuery
			}
			return end, fmt.Errorf("rtr %s: %w", c.cfg.Addr, &TimeoutError{Query: q, Waited: waited, Started: c.answers.Load() != answersMark})
		case <-refresh:
			refresh = nil
			if !inFlight {
				if err := query(false); err != nil {
					return end, err
				}
			}
		case <-expire:
			if at, ok := c.expiresAt(); ok && !c.clock.Now().Before(at) {
				return end, errExpired
			}
			expire = nil
		}
	}
}

func (c *Client) write(conn net.Conn, p *PDU) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var buf [64]byte
	conn.SetWriteDeadline(time.Now().Add(c.cfg.ResponseTimeout))
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
	conn.SetWriteDeadline(time.Now().Add(c.cfg.ResponseTimeout))
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

	aspaNext map[aspaKey][]uint32 // reset: the new ASPA set
	aspaSet  map[aspaKey][]uint32 // serial: announced or replaced
	aspaDel  map[aspaKey]struct{} // serial: withdrawn (held before)
	// aspaReplaced holds, per legacy record an announcement replaced in
	// this response, the providers it replaced, for the withdrawal of
	// them that the cache may send after the announcement.
	aspaReplaced  map[aspaKey][]uint32
	aspaProviders int // provider entries the ASPA data will hold, for the cap
}

// read decodes PDUs and builds responses. The session loop applies them
// (see evEOD) while the reader waits, so c.vrps and c.aspas do not change
// while it reads them without the lock.
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
		c.progress.Add(1)
		if p.Type == TypeErrorReport {
			c.answers.Add(1)
			// Any version: a cache that speaks only version 0 answers a
			// version 1 query with a version 0 Error Report (RFC 8210 §7).
			switch {
			case p.Code() == ErrUnsupportedVersion && version > 0:
				fail(errFallback)
			case p.Code() == ErrNoDataAvailable:
				fail(errNoData)
			case p.Code() == ErrCacheRestart && version >= 2:
				// 8210bis-26 §12: non-fatal; retry later (§8.5).
				fail(errCacheRestart)
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
			c.answers.Add(1)
			if r.active {
				protoErr(ErrCorruptData, "Cache Response inside a response")
				return
			}
			c.mu.Lock()
			reset, st := c.queryReset, c.st
			c.mu.Unlock()
			if !reset && p.Session != st.SessionID {
				// RFC 8210 §5.1: the party that finds a Session ID not
				// the one in use "MUST immediately terminate the session
				// with an Error Report PDU with code 0".
				protoErr(ErrCorruptData, "Cache Response session %d to a Serial Query of session %d", p.Session, st.SessionID)
				return
			}
			r = response{active: true, reset: reset, session: p.Session}
			if reset {
				r.next = make(map[vkey]struct{}, len(c.vrps))
				r.aspaNext = map[aspaKey][]uint32{}
			} else {
				r.adds, r.dels = map[vkey]struct{}{}, map[vkey]struct{}{}
				r.aspaSet, r.aspaDel = map[aspaKey][]uint32{}, map[aspaKey]struct{}{}
				for _, prov := range c.aspas {
					r.aspaProviders += len(prov)
				}
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
			if n := r.size(c.vrps); n > c.cfg.MaxVRPs {
				// RFC 8210 §12 code 1: "internal error unrelated to
				// protocol operation (ran out of memory, ...)": the
				// router will not hold more.
				protoErr(ErrInternalError, "response exceeds the router's limit of %d VRPs", c.cfg.MaxVRPs)
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
			done, resp := make(chan struct{}), r
			r = response{}
			if !send(event{kind: evEOD, resp: &resp, eod: p, applied: done}) {
				return
			}
			select {
			case <-done:
			case <-ctx.Done():
				return
			}
		case TypeCacheReset:
			c.answers.Add(1)
			c.mu.Lock()
			c.st.CacheResets++
			reset := c.queryReset
			c.mu.Unlock()
			switch {
			case r.active:
				protoErr(ErrCorruptData, "Cache Reset inside a response")
				return
			case reset:
				// RFC 8210 §5.9: Cache Reset answers a Serial Query the
				// cache cannot serve incrementally; a Reset Query needs
				// no increment. Answering it with a Reset Query again
				// would loop as fast as the network allows, so the
				// session is dropped and Run backs off.
				protoErr(ErrCorruptData, "Cache Reset in answer to a Reset Query")
				return
			}
			if !send(event{kind: evCacheReset}) {
				return
			}
		case TypeASPA:
			if version < 2 {
				// Not defined before version 2: counted and skipped.
				c.mu.Lock()
				c.st.SkippedASPA++
				c.mu.Unlock()
				continue
			}
			if !r.active {
				protoErr(ErrCorruptData, "ASPA PDU outside a Cache Response")
				return
			}
			if code, msg := r.aspa(&p, c.aspas); msg != "" {
				protoErr(code, "%s", msg)
				return
			}
			if r.aspaProviders > c.cfg.MaxVRPs {
				protoErr(ErrInternalError, "response exceeds the router's limit of %d ASPA provider entries", c.cfg.MaxVRPs)
				return
			}
		case TypeRouterKey:
			// BGPsec, not used here; counted so a report can say they
			// were there (RFC 8210 §5.10).
			c.mu.Lock()
			c.st.SkippedKeys++
			c.mu.Unlock()
		default:
			// Serial Query, Reset Query: router-to-cache only.
			protoErr(ErrInvalidRequest, "%s PDU sent by a cache", p.Type)
			return
		}
	}
}

// size is the number of VRPs the client would hold if the response ended
// now.
func (r *response) size(cur []vkey) int {
	if r.reset {
		return len(r.next)
	}
	return len(cur) + len(r.adds) - len(r.dels)
}

// prefix applies one prefix PDU to the response, checking the sequence
// rules of RFC 8210 §5.6: "receipt of ... an announcement of a record
// already announced ... Duplicate Announcement Received", "a withdrawal
// ... of a record not currently announced ... Withdrawal of Unknown
// Record". An announcement and a withdrawal of the same record within one
// response cancel out.
func (r *response) prefix(p *PDU, cur []vkey) (ErrorCode, string) {
	k := keyOfPDU(p)
	if r.reset {
		_, have := r.next[k]
		switch {
		case p.Announce() && have:
			return ErrDuplicateAnnouncement, fmt.Sprintf("duplicate announcement of %s", vrpOf(k))
		case p.Announce():
			r.next[k] = struct{}{}
		case !have:
			return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of unknown %s", vrpOf(k))
		default:
			delete(r.next, k)
		}
		return 0, ""
	}
	_, inCur := slices.BinarySearchFunc(cur, k, vkey.Compare)
	_, added := r.adds[k]
	_, deleted := r.dels[k]
	switch {
	case p.Announce() && deleted:
		delete(r.dels, k)
	case p.Announce() && (added || inCur):
		return ErrDuplicateAnnouncement, fmt.Sprintf("duplicate announcement of %s", vrpOf(k))
	case p.Announce():
		r.adds[k] = struct{}{}
	case added:
		delete(r.adds, k)
	case inCur && !deleted:
		r.dels[k] = struct{}{}
	default:
		return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of unknown %s", vrpOf(k))
	}
	return 0, ""
}

// aspa applies one ASPA PDU (version 2) to the response, with the rules of
// draft-ietf-sidrops-8210bis-26 §5.12 and §12, or of -11 §5.12 for the
// legacy layout (see decodeASPA).
func (r *response) aspa(p *PDU, cur map[aspaKey][]uint32) (ErrorCode, string) {
	cust, prov := p.ASN, p.Providers
	k := keyOfASPA(p)
	if p.Announce() {
		// §5.12: "For an announcement, the PDU MUST contain at least one
		// Provider Autonomous System Number. If it does not, an Error PDU
		// with Error Code 9 ... Also, an ASPA announcement PDU containing
		// multiple Provider Autonomous System Numbers MUST NOT contain AS
		// 0"; they come "in increasing numeric order" and each "MUST be
		// unique". -11 allowed an empty list ("The Provider AS Count ...
		// may be zero or more"); such a legacy PDU attests no provider,
		// which is what AS0 says today, and is kept as [0].
		switch {
		case len(prov) == 0 && p.ASPALegacy:
			prov = []uint32{0}
		case len(prov) == 0:
			return ErrASPAProviderList, fmt.Sprintf("ASPA announcement for AS%d without providers", cust)
		case len(prov) > 1 && prov[0] == 0:
			return ErrASPAProviderList, fmt.Sprintf("ASPA announcement for AS%d lists AS0 among %d providers", cust, len(prov))
		}
		for i := 1; i < len(prov); i++ {
			if prov[i] <= prov[i-1] {
				return ErrASPAProviderList, fmt.Sprintf("ASPA providers of AS%d not in increasing order or repeated (AS%d after AS%d)", cust, prov[i], prov[i-1])
			}
		}
		// §5.12: an announcement for a customer already held "replaces
		// the previous one" (not a Duplicate Announcement); in -11, one
		// for the same customer and address family.
		old := r.held(k, cur)
		if p.ASPALegacy && old != nil {
			if r.aspaReplaced == nil {
				r.aspaReplaced = map[aspaKey][]uint32{}
			}
			r.aspaReplaced[k] = old
		}
		r.aspaProviders += len(prov) - len(old)
		if r.reset {
			r.aspaNext[k] = prov
			return 0, ""
		}
		r.aspaSet[k] = prov
		delete(r.aspaDel, k)
		return 0, ""
	}
	// -26 §5.12: for a withdrawal "there MUST be no Provider list, and the
	// PDU Length MUST be 12" (a legacy withdrawal repeats its providers,
	// which decodeASPA reads as that layout); §12 code 6 when the customer
	// "does not exist in the receiver's database".
	if len(prov) != 0 && !p.ASPALegacy {
		return ErrASPAProviderList, fmt.Sprintf("ASPA withdrawal for AS%d with %d providers (length must be 12)", cust, len(prov))
	}
	held := r.held(k, cur)
	if p.ASPALegacy && len(prov) > 0 {
		// -11 §5.12: "Withdrawal of a non-existant or non-matching ASPA
		// PDU is an error"; a record is its customer, family and
		// providers. stayrtr 0.5.1 sends a changed record as the new
		// announcement first, then the withdrawal of the old one
		// (lib/server.go AddData: added, then removed): that withdrawal
		// matches what the announcement replaced and leaves the new
		// record alone.
		if old, ok := r.aspaReplaced[k]; ok && slices.Equal(old, prov) {
			delete(r.aspaReplaced, k)
			return 0, ""
		}
		if held != nil && !slices.Equal(held, prov) {
			return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of AS%d%s with providers %v, held %v", cust, k.afiText(), prov, held)
		}
	}
	if held == nil {
		return ErrWithdrawalUnknown, fmt.Sprintf("withdrawal of unknown ASPA for AS%d%s", cust, k.afiText())
	}
	r.aspaProviders -= len(held)
	if r.reset {
		delete(r.aspaNext, k)
		return 0, ""
	}
	delete(r.aspaSet, k)
	if _, ok := cur[k]; ok {
		r.aspaDel[k] = struct{}{}
	}
	return 0, ""
}

// held is the providers of k as the response leaves them so far; nil
// when the customer has no ASPA.
func (r *response) held(k aspaKey, cur map[aspaKey][]uint32) []uint32 {
	if r.reset {
		return r.aspaNext[k]
	}
	if prov, ok := r.aspaSet[k]; ok {
		return prov
	}
	if _, gone := r.aspaDel[k]; gone {
		return nil
	}
	return cur[k]
}

// collectAfterReset is the size of a Reset from which apply collects the
// response's map before it makes the Update's VRP list: about 50 MB of map
// for today's 723k VRPs, against a few milliseconds of one collection (the
// keys hold no pointers) once per full reload.
const collectAfterReset = 1 << 17

// apply installs a completed response and returns its Update.
func (c *Client) apply(r *response, eod *PDU) Update {
	now := c.clock.Now()
	u := Update{Source: c.name, Reset: r.reset, Version: eod.Version, SessionID: eod.Session, Serial: eod.Serial, Time: now}
	var next []vkey
	if r.reset {
		next = sortedKeysOf(r.next)
		r.next = nil // the map is twice the size of the slice: let it go now
		if len(next) >= collectAfterReset {
			// The runtime would not collect the map before the VRP list
			// below is made (its heap goal was set while the map was
			// live), so the two would add up at the load's peak.
			runtime.GC()
		}
		var gone []vkey
		diffKeys(c.vrps, next, func(k vkey) { gone = append(gone, k) }, func(vkey) {})
		u.Announced, u.Withdrawn = vrpsOf(next), vrpsOf(gone)
	} else {
		adds, dels := sortedKeysOf(r.adds), sortedKeysOf(r.dels)
		u.Announced, u.Withdrawn = vrpsOf(adds), vrpsOf(dels)
		// The held set without dels, merged with adds (disjoint from it).
		next = make([]vkey, 0, len(c.vrps)+len(adds)-len(dels))
		i, j := 0, 0
		for _, k := range c.vrps {
			for i < len(dels) && dels[i].Compare(k) < 0 {
				i++
			}
			if i < len(dels) && dels[i] == k {
				continue
			}
			for j < len(adds) && adds[j].Compare(k) < 0 {
				next = append(next, adds[j])
				j++
			}
			next = append(next, k)
		}
		next = append(next, adds[j:]...)
	}
	u.held = next
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vrps = next
	if r.reset {
		c.aspas = r.aspaNext
		c.st.ResetSyncs++
	} else {
		for k := range r.aspaDel {
			delete(c.aspas, k)
		}
		maps.Copy(c.aspas, r.aspaSet)
	}
	c.st.HasSession, c.st.SessionID, c.st.Serial, c.st.LastUpdate = true, eod.Session, eod.Serial, now
	c.st.Established, c.st.Expired = true, false
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
