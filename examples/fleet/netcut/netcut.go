// Package netcut is a TCP proxy on loopback that can cut the network
// between its clients and its target: while cut, it drops every
// connection it holds and refuses new ones, as a store whose uplink went
// down would see it. The fleet example puts it between the tills and the
// central to script outages.
package netcut

import (
	"context"
	"io"
	"net"
	"sync"
)

// Proxy forwards each connection it accepts to its target address. It is
// safe for concurrent use.
type Proxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string
	cut    bool
	conns  map[net.Conn]struct{}
	done   chan struct{}
}

// Listen starts a proxy on addr (such as "127.0.0.1:0") to target. Close
// it when done.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	go p.serve()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget points new connections at target (a restarted central on
// another port), and drops the connections to the old one.
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	p.Drop()
}

// Cut drops every connection and refuses new ones until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.Drop()
}

// Heal lets connections through again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Drop closes the connections the proxy holds now (requests in flight
// fail midway) and lets new ones through.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Close stops the proxy and drops its connections.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	<-p.done
	p.Drop()
	return err
}

func (p *Proxy) serve() {
	defer close(p.done)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		go p.forward(c)
	}
}

// track adds c to the connections Drop closes; false when cut.
func (p *Proxy) track(cs ...net.Conn) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return "", false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return p.target, true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

// forward pipes c to a new connection to the target, both ways, until
// either side closes or the proxy drops them.
func (p *Proxy) forward(c net.Conn) {
	target, ok := p.track(c)
	if !ok {
		c.Close()
		return
	}
	var d net.Dialer
	up, err := d.DialContext(context.Background(), "tcp", target)
	if err != nil {
		p.untrack(c)
		return
	}
	if _, ok := p.track(up); !ok {
		p.untrack(c, up)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src) // ends when either side closes or is dropped
		p.untrack(c, up)
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
}
