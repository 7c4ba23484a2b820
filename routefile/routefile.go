// Package routefile opens a route file in whichever format it is: binary
// MRT (package mrt) or text (package bgpdumptext), told apart by content.
// It is the one place that knows the input formats, so adding one is a
// change here and a new reader package.
package routefile

import (
	"bufio"
	"fmt"
	"io"

	"github.com/rovimpact/rovimpact/bgpdumptext"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
)

// NewSource returns the right Source for r (already decompressed): the text
// reader when the input is bgpdump -m or "prefix origin" lines, the binary
// MRT reader otherwise. It decides from the first bytes, never the name.
func NewSource(r io.Reader, name string) (route.Source, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(512)
	if len(head) == 0 {
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%s: empty input", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if bgpdumptext.IsText(head) {
		return bgpdumptext.NewReader(br, name), nil
	}
	return mrt.NewReader(br, mrt.Options{Name: name}), nil
}
