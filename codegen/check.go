package codegen

// The check character is computed with Damm's method over a weakly totally
// anti-symmetric quasigroup (Q, *) of order n, the alphabet size:
//
//   - * is a Latin square: for fixed x, y -> x*y is a bijection, and for
//     fixed y, x -> x*y is a bijection;
//   - (c*x)*y = (c*y)*x implies x = y.
//
// The interim value starts at 0 and absorbs the code's digits one by one,
// r <- r*d; the check digit is the c with r*c = 0, so a whole code (body plus
// check) reduces to 0. Latin-ness makes every single substitution change the
// final value; weak total anti-symmetry makes every adjacent transposition of
// two different digits change it. Both hold at every position, including the
// check digit itself. Luhn mod n, the usual choice, misses the transposition
// of the alphabet's first and last characters (0 and n-1) whatever n is.
//
// Construction, for n = 2^k * m with m odd:
//
//   - k != 1: Q = GF(2^k) x Z_m with x*y = phi(x) - y, where phi multiplies
//     the GF(2^k) part by the field element "x" and the Z_m part by 2. phi is
//     an automorphism with phi(x) - x bijective, which gives both properties.
//   - k == 1 and 5 | m: Q = D x Z_(m/5), where D is Damm's published
//     quasigroup of order 10. A direct product of such quasigroups is one.
//   - otherwise (n = 2, 6, 14, 18, 22, 26, 34, ...): no construction here, so
//     the alphabet does not support a check character.

// quasigroup is the operation table of a weakly totally anti-symmetric
// quasigroup of order n, with solve[r] the c such that r*c = 0.
type quasigroup struct {
	n     int
	table []uint8 // table[x*n+y] = x*y
	solve []uint8
}

// damm10 is the quasigroup of order 10 from H. M. Damm, "Total
// anti-symmetrische Quasigruppen", 2004 (the table of the Damm algorithm).
var damm10 = [10][10]uint8{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// gfPoly[k] is an irreducible polynomial of degree k over GF(2), bit i being
// the coefficient of x^i.
var gfPoly = [...]uint16{2: 0x7, 3: 0xB, 4: 0x13, 5: 0x25, 6: 0x43, 7: 0x83, 8: 0x11B}

// maxCheckAlphabet bounds the alphabet size a check table is built for;
// NewAlphabet cannot produce a larger one (68 case-insensitive printable
// ASCII characters).
const maxCheckAlphabet = 256

// newQuasigroup returns the quasigroup of order n, or nil when n has no
// construction here.
func newQuasigroup(n int) *quasigroup {
	if n < 1 || n > maxCheckAlphabet {
		return nil
	}
	k := 0
	for (n>>k)&1 == 0 {
		k++
	}
	m := n >> k
	// First factor: size g with operation op1; second: Z_q with 2x - y.
	var g int
	var op1 func(x, y int) int
	switch {
	case k == 1 && m%5 == 0:
		g = 10
		op1 = func(x, y int) int { return int(damm10[x][y]) }
	case k == 1:
		return nil
	default:
		g = 1 << k
		poly := int(gfPoly[max(k, 2)])
		op1 = func(x, y int) int {
			if k == 0 {
				return 0
			}
			p := x << 1 // multiply by the field element x
			if p&g != 0 {
				p ^= poly
			}
			return p ^ y // subtraction in characteristic 2
		}
	}
	q := n / g
	t := &quasigroup{n: n, table: make([]uint8, n*n), solve: make([]uint8, n)}
	for x := 0; x < n; x++ {
		x1, x2 := x%g, x/g
		for y := 0; y < n; y++ {
			y1, y2 := y%g, y/g
			z2 := ((2*x2-y2)%q + q) % q
			z := op1(x1, y1) + g*z2
			t.table[x*n+y] = uint8(z)
			if z == 0 {
				t.solve[x] = uint8(y)
			}
		}
	}
	return t
}

// digit returns the check value for the digit values vals.
func (t *quasigroup) digit(vals []uint8) uint8 {
	r := 0
	for _, d := range vals {
		r = int(t.table[r*t.n+int(d)])
	}
	return t.solve[r]
}
