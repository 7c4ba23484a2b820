// Command decompress reads files through internal/compressed and discards
// the output, printing the decompressed size and how the stream ended: the
// decompressor alone, for bench/bzip2-bomb.sh to measure its peak RSS.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rovimpact/rovimpact/internal/compressed"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: decompress FILE...")
		os.Exit(2)
	}
	code := 0
	for _, name := range os.Args[1:] {
		f, err := compressed.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
			continue
		}
		n, err := io.Copy(io.Discard, f)
		f.Close()
		status := "ok"
		if err != nil {
			status = err.Error()
			code = 1
		}
		fmt.Printf("%s\t%d bytes\t%s\n", name, n, status)
	}
	os.Exit(code)
}
