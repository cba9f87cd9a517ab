package netcut_test

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/netcut"
)

// echo runs a line echo server on loopback and returns its address.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := c.Write([]byte(sc.Text() + "\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through a new connection to addr and reports
// whether it came back.
func roundTrip(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

// TestCutHealAndRetarget: connections pass, a cut drops the one held and
// refuses new ones, a heal lets them through again, and a new target
// takes the next connections.
func TestCutHealAndRetarget(t *testing.T) {
	p, err := netcut.Listen("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !roundTrip(p.Addr()) {
		t.Fatal("a connection through the proxy did not pass")
	}
	held, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := held.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(held).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	_ = held.SetReadDeadline(time.Now().Add(time.Second))
	var ne net.Error
	if _, err := held.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("a connection held across a cut was not closed (read: %v)", err)
	}
	if roundTrip(p.Addr()) {
		t.Error("a new connection passed while cut")
	}
	p.Heal()
	if !roundTrip(p.Addr()) {
		t.Error("a connection did not pass after the heal")
	}
	p.SetTarget("127.0.0.1:1") // nothing listens there
	if roundTrip(p.Addr()) {
		t.Error("a connection passed to a target that does not listen")
	}
	p.SetTarget(echo(t))
	if !roundTrip(p.Addr()) {
		t.Error("a connection did not pass to the new target")
	}
}
