//go:build unix

package study

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// TestLoadBothErrorOrder: VRPs and routes are read at once, yet a VRP
// error wins over a route error whichever side fails first, as when they
// were read one after the other; a route error alone is returned as is.
func TestLoadBothErrorOrder(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.mrt")
	errVRP := errors.New("vrps: bad")

	t.Run("routes fail first", func(t *testing.T) {
		c := Config{Routes: []string{missing}, Warn: io.Discard}
		_, _, err := loadBoth(context.Background(), c, func(io.Writer) (*rov.Index, error) {
			time.Sleep(100 * time.Millisecond) // the missing file fails at once
			return nil, errVRP
		})
		if err != errVRP {
			t.Fatalf("err = %v, want the VRP error", err)
		}
	})

	t.Run("vrps fail first", func(t *testing.T) {
		// The route read blocks opening a FIFO until the VRP side has
		// failed; then it reads an empty stream and the missing file.
		fifo := filepath.Join(dir, "routes.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		c := Config{Routes: []string{fifo, missing}, Warn: io.Discard}
		_, _, err := loadBoth(context.Background(), c, func(io.Writer) (*rov.Index, error) {
			go func() {
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
			}()
			return nil, errVRP
		})
		if err != errVRP {
			t.Fatalf("err = %v, want the VRP error", err)
		}
	})

	t.Run("routes fail alone", func(t *testing.T) {
		c := Config{Routes: []string{missing}, Warn: io.Discard}
		_, _, err := loadBoth(context.Background(), c, func(io.Writer) (*rov.Index, error) {
			return rov.NewIndex(nil), nil
		})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want the missing route file", err)
		}
	})
}

// TestRunErrors: Run's errors and warnings through the real loaders, the
// VRP side's (load, then CheckVRPs) before the route side's.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,192.0.2.1/24,24,x\n")
	empty := write("empty.json", `{"roas": []}`)
	expired := write("expired.json", `{"roas": [{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 64500, "ta": "x", "expires": 1}]}`)
	missing := filepath.Join(dir, "missing.mrt")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	run := func(vrps, routes string) (string, error) {
		var warn bytes.Buffer
		_, err := Run(context.Background(), Config{VRP: VRPOptions{Files: []string{vrps}}, Routes: []string{routes}, Now: now, Warn: &warn, Analysis: AnalysisOptions{ASSet: "invalid"}})
		return warn.String(), err
	}
	if _, err := run(bad, missing); err == nil || !strings.Contains(err.Error(), "bad.csv") {
		t.Errorf("bad VRPs and missing routes: %v, want the VRP file's error", err)
	}
	if _, err := run(empty, missing); err == nil || !strings.Contains(err.Error(), "no VRPs left") {
		t.Errorf("empty VRPs and missing routes: %v, want CheckVRPs' error", err)
	}
	warn, err := run(expired, missing)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("expired VRPs and missing routes: %v, want the route error", err)
	}
	if !strings.Contains(warn, "1 of 1 VRPs expired") {
		t.Errorf("expired VRPs: warnings %q, want the expiry warning", warn)
	}
}
