package mrt

import (
	"bufio"
	"fmt"
	"github.com/rovimpact/rovimpact/route"
	"io"
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
	if IsText(head) {
		return NewTextReader(br, name), nil
	}
	return NewReader(br, Options{Name: name}), nil
}
