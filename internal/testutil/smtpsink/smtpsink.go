// Package smtpsink is a minimal SMTP server for tests (RFC 5321: greeting,
// EHLO/HELO, MAIL, RCPT, DATA, QUIT; no STARTTLS, no AUTH) on loopback,
// which hands each mail it accepts to the test.
package smtpsink

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// Start listens on 127.0.0.1 until the test ends. Each mail received is
// sent on mails as its envelope lines ("MAIL FROM:<...>", "RCPT TO:<...>",
// each ending "\n") followed by the data as received (CRLF lines, without
// the final "."). The channel holds 16 mails; a sink whose test reads none
// stops answering after that.
func Start(tb testing.TB) (addr string, mails <-chan string) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	out := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, out)
		}
	}()
	return ln.Addr().String(), out
}

func serve(c net.Conn, out chan<- string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220 sink ESMTP\r\n")
	var env []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprint(c, "250 sink\r\n")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			env = append(env, strings.TrimSpace(line))
			fmt.Fprint(c, "250 ok\r\n")
		case cmd == "DATA":
			fmt.Fprint(c, "354 go on\r\n")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			out <- strings.Join(env, "\n") + "\n" + data.String()
			env = nil
			fmt.Fprint(c, "250 queued\r\n")
		case cmd == "QUIT":
			fmt.Fprint(c, "221 bye\r\n")
			return
		default:
			fmt.Fprint(c, "502 no\r\n")
		}
	}
}
