package codegen

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// rounds is the number of Feistel rounds. It must be even, so that the
// halves come back to their original moduli. Eight is the round count of
// NIST's FF3-1; see the package documentation.
const rounds = 8

// permutation is a keyed bijection on [0, radix^length): an FF1-shaped
// alternating Feistel network over the numeral halves (x, y) in
// Z_a x Z_b, a = radix^u, b = radix^v, u = length/2, v = length-u, whose
// round function is AES-128 under a key derived from the caller's secret and
// the whole code specification.
//
// Round j maps (x in Z_p, y in Z_q) to (y, (x + F_j(y)) mod p) and so swaps
// the moduli; after an even number of rounds x is back in Z_a and y in Z_b.
// The domain is exactly radix^length, so no cycle walking is needed: every
// index has exactly one code and every well-formed code exactly one index.
type permutation struct {
	block cipher.Block
	a, b  uint64 // radix^u, radix^v
}

// scratch is the per-call buffer the round function encrypts in. It lives on
// the heap (a pool hands it out) because cipher.Block is an interface, which
// would make a stack buffer escape and allocate on every call.
type scratch [32]byte

// deriveKey returns the AES-128 key for one code specification: the first
// 16 bytes of HMAC-SHA256(secret, info). info encodes everything that shapes
// the codes, so that two specifications sharing a secret get unrelated
// permutations.
func deriveKey(secret, info []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(info)
	return m.Sum(nil)[:16]
}

func newPermutation(key []byte, radix uint64, length int) *permutation {
	block, err := aes.NewCipher(key)
	if err != nil {
		// A 16-byte key is always accepted; this cannot happen.
		panic("codegen: " + err.Error())
	}
	u := length / 2
	v := length - u
	return &permutation{block: block, a: pow(radix, u), b: pow(radix, v)}
}

// pow returns r^n; the caller ensures it does not overflow.
func pow(r uint64, n int) uint64 {
	p := uint64(1)
	for range n {
		p *= r
	}
	return p
}

// f is round function j on input y, reduced to [0, m).
func (p *permutation) f(s *scratch, j int, y, m uint64) uint64 {
	s[0] = byte(j)
	binary.LittleEndian.PutUint64(s[8:16], y)
	p.block.Encrypt(s[16:32], s[0:16])
	// Fixed-point range reduction: floor(h*m / 2^64), bias below m/2^64.
	hi, _ := bits.Mul64(binary.LittleEndian.Uint64(s[16:24]), m)
	return hi
}

// forward maps the halves (x in Z_a, y in Z_b) of an index to the halves of
// its code.
func (p *permutation) forward(s *scratch, x, y uint64) (uint64, uint64) {
	pm, qm := p.a, p.b
	for j := range rounds {
		z := x + p.f(s, j, y, pm)
		if z >= pm {
			z -= pm
		}
		x, y = y, z
		pm, qm = qm, pm
	}
	return x, y
}

// inverse undoes forward.
func (p *permutation) inverse(s *scratch, x, y uint64) (uint64, uint64) {
	for j := rounds - 1; j >= 0; j-- {
		// Before round j the state was (x0 in Z_pm, y0); after it (y0, z).
		pm := p.a
		if j&1 == 1 {
			pm = p.b
		}
		y0, z := x, y
		f := p.f(s, j, y0, pm)
		x0 := z + pm - f
		if x0 >= pm {
			x0 -= pm
		}
		x, y = x0, y0
	}
	return x, y
}
