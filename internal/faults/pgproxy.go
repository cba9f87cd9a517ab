package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// PGOptions configures a PGProxy.
type PGOptions struct {
	// DropRate is the probability, from 0 to 1, that the proxy drops a
	// commit reply instead of forwarding it (SetDropRate changes it).
	DropRate float64
	// Start is the starting state of the draws of DropRate; zero picks a
	// random one, which PGProxy.Start reports, so that a failing run can
	// be repeated.
	Start uint64
	// DialTimeout bounds each connection to the server; 5 seconds when
	// zero.
	DialTimeout time.Duration
}

// PGStats counts what a PGProxy saw since it started.
type PGStats struct {
	// Conns is how many client connections the proxy accepted.
	Conns int64
	// Commits is how many commit replies the server sent through the
	// proxy, forwarded or dropped.
	Commits int64
	// Implicit is how many of them were replies of autocommit writes.
	Implicit int64
	// Dropped is how many commit replies the proxy dropped, cutting the
	// client's and the server's connections instead.
	Dropped int64
}

// PGProxy is a TCP proxy for the PostgreSQL wire protocol that can lose
// the replies to commits (see the package documentation). Create one with
// NewPGProxy, point clients at Addr (or a DSN from DSN), and Close it when
// done. Its methods are safe for concurrent use.
type PGProxy struct {
	ln          net.Listener
	target      string
	dialTimeout time.Duration
	start       uint64

	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	next   int // commit replies to drop, whatever the rate
	links  map[*pgLink]struct{}
	closed bool
	wg     sync.WaitGroup // the accept loop and every link

	conns, commits, implicit, dropped atomic.Int64
}

// NewPGProxy starts a proxy on 127.0.0.1, on a free port, to the
// PostgreSQL server at target (host:port). A DropRate outside 0 to 1 is an
// error.
func NewPGProxy(target string, opts PGOptions) (*PGProxy, error) {
	if err := checkRate(opts.DropRate); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faults: target %q is not host:port: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faults: listening: %w", err)
	}
	start := opts.Start
	if start == 0 {
		start = rand.Uint64() | 1
	}
	p := &PGProxy{
		ln: ln, target: target, dialTimeout: opts.DialTimeout, start: start,
		rng: rand.New(rand.NewPCG(start, start^0x9e3779b97f4a7c15)), rate: opts.DropRate,
		links: map[*pgLink]struct{}{},
	}
	if p.dialTimeout <= 0 {
		p.dialTimeout = 5 * time.Second
	}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func checkRate(rate float64) error {
	if !(rate >= 0 && rate <= 1) {
		return fmt.Errorf("faults: drop rate %v is not between 0 and 1", rate)
	}
	return nil
}

// Addr returns the proxy's address, host:port on 127.0.0.1.
func (p *PGProxy) Addr() string { return p.ln.Addr().String() }

// Start returns the starting state of the proxy's draws.
func (p *PGProxy) Start() uint64 { return p.start }

// DSN returns dsn, a PostgreSQL URL (postgres://user@host:port/db?...),
// with its host and port replaced by the proxy's. Parameters that name
// hosts of their own (host=..., a list of hosts) are not rewritten.
func (p *PGProxy) DSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("faults: parsing the DSN: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("faults: the DSN is not a postgres:// URL")
	}
	u.Host = p.Addr()
	return u.String(), nil
}

// SetDropRate sets the probability, from 0 to 1, that a commit reply is
// dropped from now on.
func (p *PGProxy) SetDropRate(rate float64) error {
	if err := checkRate(rate); err != nil {
		return err
	}
	p.mu.Lock()
	p.rate = rate
	p.mu.Unlock()
	return nil
}

// DropNext makes the proxy drop the next n commit replies it sees, on any
// connection, whatever the drop rate.
func (p *PGProxy) DropNext(n int) {
	p.mu.Lock()
	p.next += max(n, 0)
	p.mu.Unlock()
}

// Stats returns the proxy's counts so far.
func (p *PGProxy) Stats() PGStats {
	return PGStats{Conns: p.conns.Load(), Commits: p.commits.Load(), Implicit: p.implicit.Load(), Dropped: p.dropped.Load()}
}

// Close stops the proxy: it stops accepting, cuts every connection and
// returns when every goroutine of the proxy has ended.
func (p *PGProxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	links := make([]*pgLink, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range links {
		l.cut()
	}
	p.wg.Wait()
	return err
}

// drop decides whether to drop a commit reply the server sent, and counts
// it.
func (p *PGProxy) drop(implicit bool) bool {
	p.commits.Add(1)
	if implicit {
		p.implicit.Add(1)
	}
	p.mu.Lock()
	d := false
	switch {
	case p.next > 0:
		p.next--
		d = true
	case p.rate > 0:
		d = p.rng.Float64() < p.rate
	}
	p.mu.Unlock()
	if d {
		p.dropped.Add(1)
	}
	return d
}

// serve accepts clients until the listener is closed.
func (p *PGProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.conns.Add(1)
		l := &pgLink{client: c}
		if !p.track(l) {
			_ = c.Close()
			return
		}
		go func() {
			defer p.wg.Done()
			defer p.untrack(l)
			p.relay(l)
		}()
	}
}

// track registers a link, and its goroutine in p.wg, unless the proxy is
// closed.
func (p *PGProxy) track(l *pgLink) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.links[l] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *PGProxy) untrack(l *pgLink) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// pgLink is one client connection and its connection to the server.
type pgLink struct {
	mu     sync.Mutex
	client net.Conn
	server net.Conn // nil until dialled
	done   bool     // cut: both closed
}

// setServer attaches the server connection; false, having closed it, when
// the link was cut meanwhile.
func (l *pgLink) setServer(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		_ = c.Close()
		return false
	}
	l.server = c
	return true
}

// cut closes both connections (once).
func (l *pgLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.done = true
	_ = l.client.Close()
	if l.server != nil {
		_ = l.server.Close()
	}
}
