package codegen

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"sync"

	"github.com/couponkit/couponkit/errcode"
)

// Limits on a code's shape.
const (
	// MinLength is the fewest generated characters a code may have.
	MinLength = 2
	// MaxAffix is the longest a prefix or suffix may be, in bytes.
	MaxAffix = 32
	// MinKeyLen is the shortest secret key accepted, in bytes.
	MinKeyLen = 16

	maxLength = 64 // more digits than any uint64 space has (radix 2 allows 63)
	maxWidth  = 2*MaxAffix + maxLength + 1
)

// kind tells the key derivation which constructor built a generator.
type kind byte

const (
	kindUnique     kind = 'U'
	kindRandomized kind = 'R'
)

// UniqueSpec describes a series of generated unique codes. A code is
// Prefix, then Length characters of Alphabet, then the check character when
// CheckChar is set, then Suffix; its width is the sum.
//
// Count and MaxFill do not change which codes are made: raising them later
// keeps every code already issued.
type UniqueSpec struct {
	// Alphabet of the generated characters (required).
	Alphabet *Alphabet
	// Length is the number of generated characters, at least MinLength; it
	// does not count the prefix, suffix or check character. The capacity,
	// Alphabet.Size()^Length, must fit in a uint64.
	Length int
	// Prefix and Suffix are fixed text around the generated part, at most
	// MaxAffix printable ASCII bytes each, already in canonical form (that
	// is, Alphabet.Canonical leaves them unchanged), so that a code typed in
	// any accepted way still matches them.
	Prefix, Suffix string
	// CheckChar appends one check character (see the package documentation).
	// The alphabet must support it (Alphabet.SupportsCheckChar).
	CheckChar bool
	// Count, when not 0, is the number of codes the series must be able to
	// issue; a spec that cannot is refused up front.
	Count uint64
	// MaxFill is the largest share of the code space that may be issued, in
	// (0, 1]; 0 means 1. See Generator.Limit.
	MaxFill float64
}

// Generator makes the codes of one series: code(i) = encode(P_key(i)) for
// every index i in [0, Capacity()), where P_key is a keyed permutation. Issuing
// the i-th code needs nothing but the generator and the counter i; the codes
// of distinct indexes are distinct by construction, and the same key and spec
// always give the same codes, so an interrupted bulk issue resumes from its
// counter.
//
// The key-free part, the Format, is embedded: a Generator canonicalises and
// checks typed codes as its Format does, and &g.Format serves code where
// only parsing is needed.
//
// A Generator is immutable (do not assign to its Format) and safe for
// concurrent use by many goroutines (for instance on disjoint ranges of
// indexes in Generate). It must not be copied after first use.
type Generator struct {
	// Format is the shape of the codes: Canonical, Capacity, Width and the
	// other methods of Format are the generator's.
	Format
	u       int // digits in the high half
	limit   uint64
	maxFill float64
	perm    *permutation
	fast32  bool   // both halves are below 2^32
	magic   uint64 // ceil(2^64 / radix), for division of 32-bit values
	pool    sync.Pool
}

// NewUnique returns the generator for spec, keyed with the caller's secret
// key (at least MinKeyLen bytes; keep it as secret as the codes are
// valuable). The key is not retained: a per-spec AES key is derived from it,
// so one secret may serve several series with different specs, but two
// series with the same spec and key have the same codes: give each series
// its own key. Building a generator costs a few microseconds.
//
// Errors: every problem in spec or key at once (errcode.Fields), as
// InvalidConfig errors with Field "Alphabet", "Length", "Prefix", "Suffix",
// "CheckChar" or "MaxFill", and an InvalidArgument error with Field "Key";
// then, for a valid spec, CapacityExceeded (Field "Count") when Count is more
// than the capacity and FillRatioExceeded (Field "Count") when it is more
// than the MaxFill share of it.
func NewUnique(spec UniqueSpec, key []byte) (*Generator, error) {
	var fe errcode.Fields
	checkShape(&fe, spec)
	checkMaxFill(&fe, spec.MaxFill)
	checkKey(&fe, key)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return newGenerator(kindUnique, spec.Alphabet, spec.Length, spec.Prefix, spec.Suffix,
		spec.CheckChar, spec.Count, spec.MaxFill, key)
}

func checkAffix(fe *errcode.Fields, a *Alphabet, field, s string) {
	if len(s) > MaxAffix {
		fe.Add(errcode.InvalidConfig, field, fmt.Sprintf("is longer than %d bytes", MaxAffix))
		return
	}
	if a.isCanonical(s) {
		return
	}
	if c, err := a.Canonical(s); err == nil && c != "" {
		fe.Add(errcode.InvalidConfig, field, fmt.Sprintf(
			"must be in canonical form for the %s alphabet: %q", a.Name(), c))
		return
	}
	fe.Add(errcode.InvalidConfig, field, fmt.Sprintf(
		"may hold only printable ASCII characters that the %s alphabet's canonical form keeps", a.Name()))
}

func checkMaxFill(fe *errcode.Fields, f float64) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		fe.Add(errcode.InvalidConfig, "MaxFill", "must be in (0, 1], or 0 for 1")
	}
}

func checkKey(fe *errcode.Fields, key []byte) {
	if len(key) < MinKeyLen {
		fe.Add(errcode.InvalidArgument, "Key", fmt.Sprintf("must be at least %d bytes", MinKeyLen))
	}
}

// maxDigits returns the largest n with radix^n <= MaxUint64.
func maxDigits(radix uint64) int {
	n := 0
	for p := uint64(1); ; n++ {
		hi, lo := bits.Mul64(p, radix)
		if hi != 0 {
			return n
		}
		p = lo
	}
}

// newGenerator builds a generator from validated parts.
func newGenerator(k kind, a *Alphabet, length int, prefix, suffix string,
	check bool, count uint64, maxFill float64, key []byte) (*Generator, error) {
	return generatorFor(newFormat(k, a, length, prefix, suffix, check), count, maxFill, key)
}

// generatorFor builds the generator of format f; maxFill and key are valid.
func generatorFor(f *Format, count uint64, maxFill float64, key []byte) (*Generator, error) {
	if err := f.CheckCount(count, maxFill); err != nil {
		return nil, err
	}
	if maxFill == 0 {
		maxFill = 1
	}
	g := &Generator{Format: *f, u: f.length / 2, maxFill: maxFill}
	g.limit = limitFor(g.capacity, maxFill)
	g.perm = newPermutation(deriveKey(key, g.keyInfo()), g.radix, g.length)
	g.fast32 = g.perm.b <= 1<<32
	g.magic = ^uint64(0)/g.radix + 1
	g.pool.New = func() any { return new(scratch) }
	return g, nil
}

// limitFor returns floor(maxFill*capacity), at most capacity; maxFill is in
// (0, 1]. The product is exact, with maxFill read as the shortest decimal
// that denotes it (strconv's 'g' format): a ratio written 0.0003 allows 3 of
// 10,000 codes, where the float64 product, 2.9999999999999996, would allow 2.
func limitFor(capacity uint64, maxFill float64) uint64 {
	if maxFill >= 1 {
		return capacity
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(maxFill, 'g', -1, 64))
	if !ok { // cannot happen for a finite maxFill
		return uint64(math.Floor(maxFill * float64(capacity)))
	}
	r.Mul(r, new(big.Rat).SetUint64(capacity))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // r >= 0: truncation is floor
	if !q.IsUint64() || q.Uint64() > capacity {
		return capacity
	}
	return q.Uint64()
}

// keyInfo encodes every parameter that shapes the codes, for deriveKey.
func (g *Generator) keyInfo() []byte {
	info := []byte("couponkit/codegen/v1\x00")
	info = append(info, byte(g.kind), byte(len(g.chars)))
	info = append(info, g.chars...)
	info = append(info, byte(g.length), byte(len(g.prefix)))
	info = append(info, g.prefix...)
	info = append(info, byte(len(g.suffix)))
	info = append(info, g.suffix...)
	if g.check != nil {
		info = append(info, 1)
	} else {
		info = append(info, 0)
	}
	return info
}

// Limit returns how many codes may be issued: floor(MaxFill() * Capacity()),
// computed exactly with MaxFill() read as the decimal it prints as (0.0003
// of 10,000 codes is 3), at most Capacity(). Indexes from Limit() on are
// refused by Code, AppendCode and Generate.
func (g *Generator) Limit() uint64 { return g.limit }

// MaxFill returns the largest share of the code space that may be issued.
func (g *Generator) MaxFill() float64 { return g.maxFill }

// CheckIssue reports whether requested more codes may be issued when issued
// codes already have been: nil when issued+requested <= Limit(); a
// CapacityExceeded error (Field "Count") when the sum is more than
// Capacity(); a FillRatioExceeded error (Field "Count") when it is within the
// capacity but past the MaxFill share.
func (g *Generator) CheckIssue(issued, requested uint64) error {
	return g.checkIssue(issued, requested, g.limit, g.maxFill)
}

// checkEnd reports whether every index below end may be generated.
func (g *Generator) checkEnd(end uint64, field string) error {
	if end > g.capacity {
		return errcode.New(errcode.CapacityExceeded, field, fmt.Sprintf(
			"%d is past the code space of %d codes", end, g.capacity))
	}
	if end > g.limit {
		return errcode.New(errcode.FillRatioExceeded, field, fmt.Sprintf(
			"%d is past the issuable limit of %d codes (%g of %d)", end, g.limit, g.maxFill, g.capacity))
	}
	return nil
}

// Code returns the code of index i. An index at or past Capacity() is a
// CapacityExceeded error and one at or past Limit() a FillRatioExceeded
// error, both with Field "Index".
func (g *Generator) Code(i uint64) (string, error) {
	var buf [maxWidth]byte
	b, err := g.AppendCode(buf[:0], i)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendCode appends the code of index i to dst and returns the extended
// slice; it allocates only when dst lacks the capacity. Errors are those of
// Code.
func (g *Generator) AppendCode(dst []byte, i uint64) ([]byte, error) {
	if i >= g.capacity {
		return dst, errcode.New(errcode.CapacityExceeded, "Index", fmt.Sprintf(
			"index %d is past the code space of %d codes", i, g.capacity))
	}
	if i >= g.limit {
		return dst, errcode.New(errcode.FillRatioExceeded, "Index", fmt.Sprintf(
			"index %d is past the issuable limit of %d codes (%g of %d)", i, g.limit, g.maxFill, g.capacity))
	}
	n := len(dst)
	dst = slices.Grow(dst, g.width)[:n+g.width]
	s := g.pool.Get().(*scratch)
	g.write(s, dst[n:], i/g.perm.b, i%g.perm.b)
	g.pool.Put(s)
	return dst, nil
}

// Generate writes the codes of the indexes [from, to) into dst, back to
// back, each Width() bytes: the code of index from+k is
// dst[k*Width() : (k+1)*Width()]. It does not allocate (its 32-byte scratch
// buffer comes from a pool). Goroutines may call it at the same time on
// disjoint ranges, writing to disjoint parts of one buffer or to their own.
//
// Errors: InvalidArgument with Field "from" when from > to, or Field "dst"
// when dst is shorter than (to-from)*Width(); CapacityExceeded or
// FillRatioExceeded with Field "to" when to is past Capacity() or Limit().
// Nothing is written on error.
func (g *Generator) Generate(dst []byte, from, to uint64) error {
	if from > to {
		return errcode.New(errcode.InvalidArgument, "from", fmt.Sprintf("from %d is after to %d", from, to))
	}
	if err := g.checkEnd(to, "to"); err != nil {
		return err
	}
	w := uint64(g.width)
	if to-from > uint64(len(dst))/w {
		return errcode.New(errcode.InvalidArgument, "dst", fmt.Sprintf(
			"%d bytes hold fewer than %d codes of %d bytes", len(dst), to-from, w))
	}
	if from == to {
		return nil
	}
	s := g.pool.Get().(*scratch)
	defer g.pool.Put(s)
	b := g.perm.b
	hi, lo := from/b, from%b
	for k := range to - from {
		out := dst[k*w : k*w+w]
		g.write(s, out, hi, lo)
		lo++
		if lo == b {
			lo = 0
			hi++
		}
	}
	return nil
}

// write writes the code whose index has the halves (hi, lo) into out, which
// is exactly Width() bytes long.
func (g *Generator) write(s *scratch, out []byte, hi, lo uint64) {
	x, y := g.perm.forward(s, hi, lo)
	var vals [maxLength]uint8
	g.digits(vals[:g.u], x)
	g.digits(vals[g.u:g.length], y)
	copy(out, g.prefix)
	body := out[len(g.prefix) : len(g.prefix)+g.length]
	for k := range body {
		body[k] = g.chars[vals[k]]
	}
	end := len(g.prefix) + g.length
	if g.check != nil {
		out[end] = g.chars[g.check.digit(vals[:g.length])]
		end++
	}
	copy(out[end:], g.suffix)
}

// digits writes the len(dst) base-radix digits of x, most significant first.
func (g *Generator) digits(dst []uint8, x uint64) {
	r := g.radix
	if g.fast32 {
		// x < 2^32: x/r = floor(magic*x / 2^64) exactly (Lemire, Kaser and
		// Kurz, "Faster remainder by direct computation", 2019).
		for k := len(dst) - 1; k >= 0; k-- {
			q, _ := bits.Mul64(g.magic, x)
			dst[k] = uint8(x - q*r)
			x = q
		}
		return
	}
	for k := len(dst) - 1; k >= 0; k-- {
		q := x / r
		dst[k] = uint8(x - q*r)
		x = q
	}
}

// Decode returns the index of the code a person typed, after everything
// Canonical checks; Code(index) then returns the canonical code. Every
// well-formed code has an index below Capacity(); whether it was issued is
// for the caller to know (for sequential issuing: index < issued count). The
// index may be at or past Limit() if MaxFill was lowered since. Decode does
// not allocate. Errors are those of Canonical.
func (g *Generator) Decode(input string) (uint64, error) {
	var buf [maxWidth]byte
	var vals [maxLength]uint8
	if err := g.parse(&buf, &vals, input); err != nil {
		return 0, err
	}
	var x, y uint64
	for _, d := range vals[:g.u] {
		x = x*g.radix + uint64(d)
	}
	for _, d := range vals[g.u:g.length] {
		y = y*g.radix + uint64(d)
	}
	s := g.pool.Get().(*scratch)
	x, y = g.perm.inverse(s, x, y)
	g.pool.Put(s)
	return x*g.perm.b + y, nil
}

// MinLengthFor returns the fewest generated characters of alphabet a whose
// space lets count codes be issued with at most the maxFill share used
// (maxFill in (0, 1], 0 meaning 1); never less than MinLength. Errors:
// InvalidConfig (Field "Alphabet" or "MaxFill") for a nil alphabet or a bad
// maxFill, CapacityExceeded (Field "Count") when no length fitting in 64 bits
// is enough.
func MinLengthFor(a *Alphabet, count uint64, maxFill float64) (int, error) {
	var fe errcode.Fields
	if a == nil {
		fe.Add(errcode.InvalidConfig, "Alphabet", "is required")
	}
	checkMaxFill(&fe, maxFill)
	if maxFill == 0 {
		maxFill = 1
	}
	if err := fe.Err(); err != nil {
		return 0, err
	}
	r := uint64(a.Size())
	for n := MinLength; n <= maxDigits(r); n++ {
		if count <= limitFor(pow(r, n), maxFill) {
			return n, nil
		}
	}
	return 0, errcode.New(errcode.CapacityExceeded, "Count", fmt.Sprintf(
		"no code length in a %d-character alphabet holds %d codes at fill %g", r, count, maxFill))
}
