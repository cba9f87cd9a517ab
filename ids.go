package couponkit

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/couponkit/couponkit/errcode"
)

// idGen makes ids that are unique across engines (a random 64-bit prefix)
// and increasing within one (a zero-padded counter), so that ids sort in
// creation order per engine.
type idGen struct {
	prefix string
	n      atomic.Uint64
}

func newIDGen() (*idGen, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, errcode.Wrap(errcode.Unavailable, err, "reading random id prefix")
	}
	return &idGen{prefix: hex.EncodeToString(b[:])}, nil
}

// idLen is the length of an id: the 16 hex digits of the prefix and 13
// base-36 digits of the counter.
const idLen = 16 + 13

func (g *idGen) next() string {
	var buf [idLen]byte
	g.put(buf[:])
	return string(buf[:])
}

// put writes the next id into b, which has room for idLen bytes.
func (g *idGen) put(b []byte) {
	n := copy(b, g.prefix)
	d := strconv.AppendUint(b[n:n], g.n.Add(1), 36)
	pad := 13 - len(d)
	copy(b[n+pad:], d)
	for i := n; i < n+pad; i++ {
		b[i] = '0'
	}
}

// idPair returns two fresh ids. The default generator makes both in one
// allocation, which a redemption, needing an id for itself and one for its
// event, saves every time.
func (e *Engine) idPair() (string, string) {
	if e.ids == nil {
		return e.newID(), e.newID()
	}
	var buf [2 * idLen]byte
	e.ids.put(buf[:idLen])
	e.ids.put(buf[idLen:])
	s := string(buf[:])
	return s[:idLen], s[idLen:]
}

// idSource gives the ids of the records a write makes: the engine's
// generator, or a fixed sequence in tests.
type idSource interface {
	// nextID returns a fresh id.
	nextID() string
	// idPair returns two fresh ids.
	idPair() (string, string)
}

// nextID returns a fresh id from the engine's generator (Config.NewID).
func (e *Engine) nextID() string { return e.newID() }
