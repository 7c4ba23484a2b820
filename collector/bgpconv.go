package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// typeURL is how gobgp's API names a message inside an anypb.Any.
func typeURL(m proto.Message) string {
	return "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
}

var (
	urlIPPrefix = typeURL(&api.IPAddressPrefix{})
	urlASPath   = typeURL(&api.AsPathAttribute{})
	urlNextHop  = typeURL(&api.NextHopAttribute{})
	urlMPReach  = typeURL(&api.MpReachNLRIAttribute{})
	urlExtComm  = typeURL(&api.ExtendedCommunitiesAttribute{})
	urlRPKI     = typeURL(&api.ValidationExtended{})
)

// Reasons a gobgp path is not turned into a route (Stats.Skipped keys).
const (
	skipFamily   = "family"         // not IPv4/IPv6 unicast
	skipBadPath  = "bad_path"       // NLRI or attribute gobgp gave us does not decode
	skipNoASPath = "missing_aspath" // announcement without AS_PATH (RFC 4271 §5.1.2 mandatory)
)

var errSkip = errors.New("skip")

// pathConverter turns gobgp API paths into mrt.Routes. It decodes only the
// four attributes a Route needs, into messages and slices it reuses, so a
// conversion allocates only what protobuf decoding itself must. Not safe
// for concurrent use.
type pathConverter struct {
	nlri   api.IPAddressPrefix
	asPath api.AsPathAttribute
	nh     api.NextHopAttribute
	mp     api.MpReachNLRIAttribute
	ext    api.ExtendedCommunitiesAttribute
	val    api.ValidationExtended
	segs   []rov.Segment
	asns   []uint32
	uo     proto.UnmarshalOptions
}

func (c *pathConverter) unmarshal(a *anypb.Any, m proto.Message) error {
	return c.uo.Unmarshal(a.GetValue(), m)
}

// convert fills r from p. It returns (reason, error) when p is skipped:
// reason is the Stats.Skipped key. Peer is left to the caller.
func (c *pathConverter) convert(p *api.Path, r *mrt.Route) (string, error) {
	f := p.GetFamily()
	if f.GetSafi() != api.Family_SAFI_UNICAST || (f.GetAfi() != api.Family_AFI_IP && f.GetAfi() != api.Family_AFI_IP6) {
		return skipFamily, errSkip
	}
	if p.GetNlri().GetTypeUrl() != urlIPPrefix {
		return skipFamily, errSkip
	}
	if err := c.unmarshal(p.Nlri, &c.nlri); err != nil {
		return skipBadPath, fmt.Errorf("NLRI: %w", err)
	}
	addr, err := netip.ParseAddr(c.nlri.Prefix)
	if err != nil {
		return skipBadPath, fmt.Errorf("NLRI prefix %q: %w", c.nlri.Prefix, err)
	}
	pfx, err := addr.Unmap().Prefix(int(c.nlri.PrefixLen))
	if err != nil || c.nlri.PrefixLen > uint32(addr.Unmap().BitLen()) {
		return skipBadPath, fmt.Errorf("NLRI %s/%d: bad length", c.nlri.Prefix, c.nlri.PrefixLen)
	}
	*r = mrt.Route{
		Prefix:     pfx,
		PathID:     p.GetIdentifier(),
		RPKIState:  mrt.RPKIAbsent,
		FromUpdate: true,
		Path:       r.Path[:0],
	}
	if ts := p.GetAge(); ts != nil {
		r.Time = ts.AsTime()
	} else {
		r.Time = time.Now()
	}
	if p.GetIsWithdraw() {
		r.Kind = mrt.Withdraw
		return "", nil
	}
	r.Kind = mrt.Announce
	sawASPath := false
	c.asns = c.asns[:0]
	c.segs = c.segs[:0]
	for _, a := range p.GetPattrs() {
		switch a.GetTypeUrl() {
		case urlASPath:
			if err := c.unmarshal(a, &c.asPath); err != nil {
				return skipBadPath, fmt.Errorf("AS_PATH: %w", err)
			}
			sawASPath = true
			for _, s := range c.asPath.Segments {
				c.asns = append(c.asns, s.Numbers...)
			}
			// Slice the segments out of one backing array, after it stopped growing.
			off := 0
			for _, s := range c.asPath.Segments {
				n := len(s.Numbers)
				c.segs = append(c.segs, rov.Segment{Type: rov.SegmentType(s.Type), ASNs: c.asns[off : off+n : off+n]})
				off += n
			}
		case urlNextHop:
			if err := c.unmarshal(a, &c.nh); err != nil {
				return skipBadPath, fmt.Errorf("NEXT_HOP: %w", err)
			}
			if nh, err := netip.ParseAddr(c.nh.NextHop); err == nil {
				r.NextHop = nh.Unmap()
			}
		case urlMPReach:
			if err := c.unmarshal(a, &c.mp); err != nil {
				return skipBadPath, fmt.Errorf("MP_REACH_NLRI: %w", err)
			}
			if len(c.mp.NextHops) > 0 {
				if nh, err := netip.ParseAddr(c.mp.NextHops[0]); err == nil {
					r.NextHop = nh.Unmap()
				}
			}
		case urlExtComm:
			if err := c.unmarshal(a, &c.ext); err != nil {
				return skipBadPath, fmt.Errorf("EXTENDED_COMMUNITIES: %w", err)
			}
			for _, e := range c.ext.Communities {
				if e.GetTypeUrl() != urlRPKI {
					continue
				}
				if err := c.unmarshal(e, &c.val); err != nil {
					return skipBadPath, fmt.Errorf("RFC 8097 community: %w", err)
				}
				r.RPKIState = rpkiState(c.val.State)
			}
		}
	}
	if !sawASPath {
		return skipNoASPath, fmt.Errorf("%s: announcement without AS_PATH", pfx)
	}
	r.Path = append(r.Path, c.segs...)
	r.Origin = rov.OriginOf(r.Path)
	return "", nil
}

// rpkiState maps the RFC 8097 §2 validation state value (0 valid,
// 1 not found, 2 invalid) to mrt.RPKIState; other values are undefined by
// the RFC and read as absent.
func rpkiState(v uint32) mrt.RPKIState {
	if v <= 2 {
		return mrt.RPKIState(v)
	}
	return mrt.RPKIAbsent
}
