// Command mrt2bird replays an MRT file (a RIB dump or BGP4MP update files,
// any compression rovimpact reads) into a table and writes what the table
// holds at the end as BIRD 2 static routes, for bench/watch_bird2.sh: bird2
// reads no MRT, so the table becomes two static protocols (s4, s6) whose
// routes carry the path's AS_PATH and ORIGIN in per-route attribute blocks,
// and bird's BGP exports them as a router would (prepending its own AS).
//
//	mrt2bird -o routes.conf updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz
//
// bird's static protocol holds one route per prefix, so one path per prefix
// is written: the first peer's (in the table's peer order) that holds one.
// bird 2.0's filter language can prepend AS_SEQUENCE members but not build
// an AS_SET or AS_CONFED segment, so a path holding one is left out; both
// kinds of skip are counted on stderr, never silent. The output is
// included by the bird config the bench writes (include "routes.conf";).
// Exits 1 on damaged input: a benchmark of a silently shortened table
// would report the wrong paths/s.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
)

func main() {
	out := flag.String("o", "", "write the bird static protocols to `file` (required)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mrt2bird -o OUT.conf FILE...")
		os.Exit(2)
	}
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mrt2bird:", err)
		os.Exit(1)
	}
}

// counts is what run wrote and left out.
type counts struct {
	v4, v6, otherPeers, asSet, noPath int
}

func run(out string, files []string) error {
	rib := mrt.NewRIB()
	for _, name := range files {
		if err := replay(rib, name); err != nil {
			return err
		}
	}
	var c counts
	err := atomicfile.Write(out, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		for _, fam := range []struct {
			name string
			is4  bool
		}{{"s4", true}, {"s6", false}} {
			fmt.Fprintf(bw, "protocol static %s {\n  %s;\n", fam.name, map[bool]string{true: "ipv4", false: "ipv6"}[fam.is4])
			var last netip.Prefix
			for r := range rib.All() {
				if r.Prefix.Addr().Is4() != fam.is4 {
					continue
				}
				if r.Prefix == last {
					c.otherPeers++
					continue
				}
				last = r.Prefix
				if !writeRoute(bw, r, &c) {
					continue
				}
				if fam.is4 {
					c.v4++
				} else {
					c.v6++
				}
			}
			fmt.Fprintln(bw, "}")
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "mrt2bird: %s: %d prefixes (%d IPv4, %d IPv6) of %d paths held; left out: %d paths of other peers for a prefix written, %d with an AS_SET or confederation segment, %d with an empty AS_PATH\n",
		out, c.v4+c.v6, c.v4, c.v6, rib.Len(), c.otherPeers, c.asSet, c.noPath)
	return nil
}

// writeRoute writes r as a static route whose AS_PATH is r's (AS_SEQUENCE
// segments only) and reports whether it did.
func writeRoute(w *bufio.Writer, r *route.Route, c *counts) bool {
	n := 0
	for _, s := range r.Path {
		if s.Type != rov.ASSequence {
			c.asSet++
			return false
		}
		n += len(s.ASNs)
	}
	if n == 0 {
		// An empty AS_PATH is an iBGP route of the collector's own AS;
		// bird would send it with only its own AS, another origin.
		c.noPath++
		return false
	}
	fmt.Fprintf(w, "  route %s blackhole {", r.Prefix)
	// prepend puts each AS in front: walk the path from its origin end.
	for i := len(r.Path) - 1; i >= 0; i-- {
		asns := r.Path[i].ASNs
		for j := len(asns) - 1; j >= 0; j-- {
			fmt.Fprintf(w, " bgp_path.prepend(%d);", asns[j])
		}
	}
	fmt.Fprintln(w, " };")
	return true
}

func replay(rib *mrt.RIB, name string) error {
	f, err := compressed.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := routefile.NewSource(f, name)
	if err != nil {
		return err
	}
	for src.Next() {
		r := src.Route()
		rib.Apply(r, route.KeyOf(src.Peers()[r.Peer.Index]))
	}
	if err := src.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if st := src.Stats(); st.Skipped["corrupt"] > 0 || st.SkippedBytes > 0 {
		return fmt.Errorf("%s: damaged input: %d corrupt records, %d bytes skipped resynchronising", name, st.Skipped["corrupt"], st.SkippedBytes)
	}
	return nil
}
