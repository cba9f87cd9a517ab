package main

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestGate: closeAndWait returns only after every request let in has
// exited, and no request enters after it.
func TestGate(t *testing.T) {
	g := newGate()
	var inside atomic.Int64
	release := make(chan struct{})
	for range 8 {
		if !g.enter() {
			t.Fatal("enter on an open gate: false")
		}
		inside.Add(1)
		go func() {
			<-release
			inside.Add(-1)
			g.exit()
		}()
	}
	closed := make(chan struct{})
	go func() {
		g.closeAndWait()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("closeAndWait returned with requests inside")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("closeAndWait did not return after every request exited")
	}
	if n := inside.Load(); n != 0 {
		t.Errorf("%d requests inside after closeAndWait", n)
	}
	if g.enter() {
		t.Error("enter on a closed gate: true")
	}
	g.closeAndWait() // closing again, with nothing inside, returns
}
