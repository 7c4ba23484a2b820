package watch

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/study"
)

// Options are a watch's settings as the operator gave them (flags or the
// config file); check turns them into the collectors' configurations.
// Messages name the flags (--listen), which are also the config file's keys.
type Options struct {
	// VRP sources.
	VRPFiles    []string
	SLURM       []string
	DropExpired bool
	RTR         []string
	RTRRetry    time.Duration
	RTRTimeout  time.Duration

	// PeerRoles (--peer-role AS|IP=ROLE) and PeerRolesFile (--peer-roles,
	// CSV) give the peers' relationships for ASPA path verification, as
	// `rovimpact aspa` takes them; unnamed peers are verified upstream.
	PeerRoles     []string
	PeerRolesFile string

	// Classify is the ROV policy (its LocalAS is also the collector's BGP
	// AS); Policy is how reports state it.
	Classify classify.Options
	Policy   reports.Policy

	// Route sources.
	Listen      string
	Neighbors   []string
	Accept      []string
	AcceptAS    uint32
	RouterID    string
	BMP         string
	BMPAccept   []string
	MaxPrefixes uint32
	// EORTimeout is how long a session's initial table is held for its
	// End-of-RIB (RFC 4724 §2) before it is told as one initial_load
	// event (cause load_timeout) anyway: a BGP speaker without graceful
	// restart sends no End-of-RIB (gobgpd, for one). Until then its
	// routes are not told one by one. 0 ends the load at the first check.
	EORTimeout time.Duration

	// Outputs and periodic work.
	HTTP            string
	LogFormat       string
	Interval        time.Duration
	SummaryInterval time.Duration
	FilePoll        time.Duration
	Dump            string
	DumpInterval    time.Duration
	DumpKeep        int           // dumps kept (0: all)
	DumpMaxAge      time.Duration // dumps older are removed (0: none)
	MaxChangeLogs   int
	// DebugAddr, when set, serves Go's profiles (net/http/pprof) on this
	// loopback ADDR:PORT (see debug.go); "" (the default): not at all.
	DebugAddr string

	Now func() time.Time
	// HTTPExplicit and ListenExplicit say the address was given, so
	// binding beyond loopback is the operator's choice.
	HTTPExplicit     bool
	ListenExplicit   bool
	ShutdownDeadline time.Duration

	// Alerts are the alert receivers (the config file's alerts list);
	// AlertsText is that list as written, so a reload sees a change.
	Alerts     []alert.Receiver
	AlertsText string

	// Reload, when set, reads the configuration again (SIGHUP); see
	// Service.reload for what a reload can change.
	Reload func() (Options, error)
}

// DefaultEORTimeout is --eor-timeout's default: long enough for a full
// table over a slow session, short enough that a peer that never sends
// End-of-RIB is not silent about its invalids for long.
const DefaultEORTimeout = 5 * time.Minute

// DefaultHTTP is the API's loopback default: read-only, but it exposes the
// whole table, so nothing beyond the host sees it unless asked.
const DefaultHTTP = "127.0.0.1:8323"

// UsageError is a mistake in the Options: the command line's exit 2.
// Flag is the flag (config key) it is about, when the message starts with
// one, so that a caller can point at the config file's line.
type UsageError struct {
	Flag string
	msg  string
}

func (e *UsageError) Error() string { return e.msg }

// ExitCode is exitcode.Usage.
func (e *UsageError) ExitCode() exitcode.Code { return exitcode.Usage }

func usageError(format string, args ...any) error {
	e := &UsageError{msg: fmt.Sprintf(format, args...)}
	if name, ok := strings.CutPrefix(e.msg, "--"); ok {
		if i := strings.IndexAny(name, " :"); i > 0 {
			e.Flag = name[:i]
		}
	}
	return e
}

// Check reports the first mistake in opts (a *UsageError), as Run would.
func Check(opts Options) error {
	_, err := check(opts)
	return err
}

// config is Options checked and parsed.
type config struct {
	bgp     *collector.BGPConfig
	bmp     *collector.BMPConfig
	logJSON bool
	roles   classify.RoleMap
}

// check turns the options into collector configurations; any mistake is a
// *UsageError.
func check(opts Options) (config, error) {
	var c config
	switch opts.LogFormat {
	case "text":
	case "json":
		c.logJSON = true
	default:
		return c, usageError("--log-format %q: want text or json", opts.LogFormat)
	}
	if len(opts.Neighbors) == 0 && len(opts.Accept) == 0 && opts.BMP == "" {
		return c, usageError("no route source: give --neighbor IP[:AS], --accept PREFIX or --bmp ADDR:PORT")
	}
	if len(opts.VRPFiles) == 0 && len(opts.RTR) == 0 {
		return c, usageError("no VRP source: give --rtr HOST:PORT or --vrps FILE")
	}
	if opts.Interval <= 0 {
		return c, usageError("--interval %v: want a positive duration", opts.Interval)
	}
	if opts.Dump != "" && opts.DumpInterval <= 0 {
		return c, usageError("--dump-interval %v: want a positive duration", opts.DumpInterval)
	}
	if opts.EORTimeout < 0 {
		return c, usageError("--eor-timeout %v: want a duration (0: do not wait for End-of-RIB)", opts.EORTimeout)
	}
	if opts.DumpKeep < 0 {
		return c, usageError("--dump-keep %d: want a count (0: keep all)", opts.DumpKeep)
	}
	if opts.DumpMaxAge < 0 {
		return c, usageError("--dump-max-age %v: want a duration (0: no limit)", opts.DumpMaxAge)
	}
	if len(opts.Neighbors) > 0 || len(opts.Accept) > 0 {
		listen, err := netip.ParseAddrPort(opts.Listen)
		if err != nil {
			return c, usageError("--listen %q: want ADDR:PORT (127.0.0.1:1179)", opts.Listen)
		}
		if opts.Classify.LocalAS == 0 {
			return c, usageError("BGP needs --local-as: the AS the collector announces in its OPEN (your AS)")
		}
		cfg := collector.BGPConfig{Listen: listen, LocalAS: opts.Classify.LocalAS, AcceptAS: opts.AcceptAS, MaxPrefixes: opts.MaxPrefixes}
		switch {
		case opts.RouterID != "":
			id, err := netip.ParseAddr(opts.RouterID)
			if err != nil || !id.Is4() {
				return c, usageError("--router-id %q: want an IPv4 address", opts.RouterID)
			}
			cfg.RouterID = id
		case listen.Addr().Is4() && !listen.Addr().IsUnspecified():
			cfg.RouterID = listen.Addr()
		default:
			cfg.RouterID = netip.MustParseAddr("127.0.0.1")
		}
		for _, n := range opts.Neighbors {
			nb, err := ParseNeighbor(n)
			if err != nil {
				return c, err
			}
			cfg.Neighbors = append(cfg.Neighbors, nb)
		}
		for _, a := range opts.Accept {
			p, err := netip.ParsePrefix(a)
			if err != nil || p.Masked() != p {
				return c, usageError("--accept %q: want a prefix without host bits (10.0.0.0/24)", a)
			}
			cfg.Accept = append(cfg.Accept, p)
		}
		c.bgp = &cfg
	}
	if opts.BMP != "" {
		ap, err := netip.ParseAddrPort(opts.BMP)
		if err != nil {
			return c, usageError("--bmp %q: want ADDR:PORT (127.0.0.1:11019)", opts.BMP)
		}
		cfg := collector.BMPConfig{Listen: ap, MaxPrefixes: int(opts.MaxPrefixes)}
		for _, a := range opts.BMPAccept {
			p, err := netip.ParsePrefix(a)
			if err != nil || p.Masked() != p {
				return c, usageError("--bmp-accept %q: want a prefix without host bits (192.0.2.0/24)", a)
			}
			cfg.Accept = append(cfg.Accept, p)
		}
		c.bmp = &cfg
	}
	if opts.HTTP != "" {
		if _, err := netip.ParseAddrPort(opts.HTTP); err != nil {
			return c, usageError("--http %q: want ADDR:PORT with an IP address (127.0.0.1:8323), or \"\" for no HTTP", opts.HTTP)
		}
	}
	if opts.DebugAddr != "" {
		if err := checkDebugAddr(opts.DebugAddr); err != nil {
			return c, err
		}
	}
	for _, r := range opts.RTR {
		if _, port, err := splitHostPort(r); err != nil || port == "" {
			return c, usageError("--rtr %q: want HOST:PORT (127.0.0.1:3323)", r)
		}
	}
	roles, err := study.ParseRoles(opts.PeerRoles, opts.PeerRolesFile)
	if err != nil {
		var ue *study.UsageError
		if errors.As(err, &ue) || opts.PeerRolesFile == "" {
			return c, usageError("%v", err)
		}
		return c, usageError("--peer-roles %v", err)
	}
	c.roles = roles
	return c, nil
}

// ParseNeighbor reads "192.0.2.1", "192.0.2.1:64501", "2001:db8::1" or
// "[2001:db8::1]:64501" (an IPv6 address with an AS needs brackets, since
// "2001:db8::1:64501" is itself an address).
func ParseNeighbor(s string) (collector.Neighbor, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return collector.Neighbor{Addr: a.Unmap()}, nil
	}
	host, as, err := splitHostPort(s)
	if err == nil {
		a, aerr := netip.ParseAddr(host)
		n, nerr := rov.ParseASN(as)
		if aerr == nil && nerr == nil && n != 0 {
			return collector.Neighbor{Addr: a.Unmap(), AS: n}, nil
		}
	}
	return collector.Neighbor{}, usageError("--neighbor %q: want IP or IP:AS (192.0.2.1:64501, [2001:db8::1]:64501)", s)
}

func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", errors.New("no port")
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return "", "", errors.New("IPv6 address without brackets")
	}
	if host == "" {
		return "", "", errors.New("no host")
	}
	return host, port, nil
}
