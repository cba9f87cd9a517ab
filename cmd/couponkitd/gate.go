package main

import "sync"

// gate counts the requests in flight, so that the store is closed only
// after the last has returned: enter before using the store, exit after;
// closeAndWait refuses every later enter and waits for those inside.
type gate struct {
	mu     sync.Mutex
	idle   sync.Cond
	n      int
	closed bool
}

func newGate() *gate {
	g := &gate{}
	g.idle.L = &g.mu
	return g
}

// enter lets a request in, or reports false once the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

// exit lets out a request enter let in.
func (g *gate) exit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		g.idle.Broadcast()
	}
}

// closeAndWait closes the gate and returns once every request it let in
// has exited.
func (g *gate) closeAndWait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.n > 0 {
		g.idle.Wait()
	}
}
