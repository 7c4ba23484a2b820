// Command bmpfeed plays a BMP router for bench/api_rss.sh: it writes a VRP
// file, connects to a BMP station, reports one peer up and announces n
// synthetic IPv4 /24 routes (RFC 7854 route monitoring), then holds the
// connection open until killed (closing it would flush the routes).
//
//	bmpfeed -vrps vrps.json -n 100000 [-connect 127.0.0.1:11019]
//
// The table is the one BenchmarkLookupAllRoutes (serve) builds: /24s under
// 10.0.0.0/8 and up, origins 64500-64502, one VRP per /16 for AS64500 with
// maxLength 24 or 23 (valid, wrong_origin, too_specific and both routes).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"
)

func main() {
	connect := flag.String("connect", "", "BMP station `ADDR:PORT` (empty: only write the VRP file)")
	vrpFile := flag.String("vrps", "", "write the VRPs to this JSON `file`")
	n := flag.Int("n", 100000, "routes to announce")
	flag.Parse()
	if *vrpFile != "" {
		type roa struct {
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
			ASN       string `json:"asn"`
			TA        string `json:"ta"`
		}
		var doc struct {
			ROAs []roa `json:"roas"`
		}
		for x := range *n/256 + 1 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(10 + x/256), byte(x), 0, 0}), 16)
			doc.ROAs = append(doc.ROAs, roa{p.String(), 23 + x%2, "AS64500", "bench"})
		}
		b, err := json.Marshal(doc)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*vrpFile, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *connect == "" {
		return
	}
	c, err := net.Dial("tcp", *connect)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(c, 1<<20)
	must := func(b []byte, err error) {
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			log.Fatal(err)
		}
	}
	hdr := *bmp.NewBMPPeerHeader(bmp.BMP_PEER_TYPE_GLOBAL, 0, 0, "192.0.2.5", 64496, "192.0.2.99", 1700000000)
	open := func(as uint32) *bgp.BGPMessage {
		caps := []bgp.ParameterCapabilityInterface{bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC), bgp.NewCapFourOctetASNumber(as)}
		return bgp.NewBGPOpenMessage(23456, 90, "192.0.2.99", []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
	}
	must(bmp.NewBMPInitiation([]bmp.BMPInfoTLVInterface{bmp.NewBMPInfoTLVString(bmp.BMP_INIT_TLV_TYPE_SYS_NAME, "bmpfeed")}).Serialize())
	must(bmp.NewBMPPeerUpNotification(hdr, "192.0.2.1", 179, 40000, open(64511), open(64496)).Serialize())
	for i := range *n {
		a := netip.AddrFrom4([4]byte{byte(10 + i/65536), byte(i / 256), byte(i), 0})
		attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
			bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{64496, uint32(64500 + i%3)})}),
			bgp.NewPathAttributeNextHop("192.0.2.1")}
		u := bgp.NewBGPUpdateMessage(nil, attrs, []*bgp.IPAddrPrefix{bgp.NewIPAddrPrefix(24, a.String())})
		must(bmp.NewBMPRouteMonitoring(hdr, u).Serialize())
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "bmpfeed: %d routes sent; holding the connection\n", *n)
	select {}
}
