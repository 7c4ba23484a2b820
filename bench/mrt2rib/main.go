// Command mrt2rib replays an MRT file (a RIB dump or BGP4MP update files, any
// compression rovimpact reads) into a table and writes what the table holds
// at the end as one MRT TABLE_DUMP_V2 file, for bench/watch_gobgpd.sh:
// `gobgp mrt inject global` reads only TABLE_DUMP_V2 and silently passes
// over BGP4MP records, so an update file such as the PCH full table must be
// turned into a RIB before gobgpd can send it.
//
//	mrt2rib -o table.mrt updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz
//
// The file carries what rovimpact keeps of a route (prefix, path id, AS
// path, next hop, RFC 8097 state; ORIGIN is written as IGP), not the
// other attributes (communities, MED, ...). It prints the path and peer
// counts on stderr and exits 1 on damaged input: a benchmark of a
// silently shortened table would report the wrong paths/s.
package main

import (
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
)

func main() {
	out := flag.String("o", "", "write the TABLE_DUMP_V2 `file` here (required)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mrt2rib -o OUT.mrt FILE...")
		os.Exit(2)
	}
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mrt2rib:", err)
		os.Exit(1)
	}
}

func run(out string, files []string) error {
	rib := mrt.NewRIB()
	for _, name := range files {
		if err := replay(rib, name); err != nil {
			return err
		}
	}
	keys := rib.Peers()
	peers := make([]route.Peer, len(keys))
	for i, k := range keys {
		peers[i] = route.Peer{Index: i, AS: k.AS, IP: k.IP}
	}
	var st mrt.WriterStats
	prefixes := 0
	err := atomicfile.Write(out, func(w io.Writer) error {
		mw := mrt.NewWriter(w, mrt.WriterOptions{ViewName: "mrt2rib"})
		if err := mw.WritePeers(peers); err != nil {
			return err
		}
		var last netip.Prefix
		for r := range rib.All() {
			if r.Prefix != last {
				prefixes++
				last = r.Prefix
			}
			if err := mw.Add(r); err != nil {
				return fmt.Errorf("%s %s: %w", r.Prefix, keys[r.Peer.Index].IP, err)
			}
		}
		err := mw.Close()
		st = mw.Stats()
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if st.Entries != int64(rib.Len()) {
		return fmt.Errorf("%s: wrote %d paths of %d held", out, st.Entries, rib.Len())
	}
	fmt.Fprintf(os.Stderr, "mrt2rib: %s: %d paths, %d prefixes, %d peers, %d records, %d bytes\n", out, st.Entries, prefixes, len(peers), st.Records, st.Bytes)
	return nil
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
