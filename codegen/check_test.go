package codegen

import "testing"

// TestQuasigroups checks, exhaustively, the two properties the check
// character's guarantee rests on, for every alphabet size NewAlphabet can
// produce and beyond; and that exactly the documented sizes are unsupported.
func TestQuasigroups(t *testing.T) {
	for n := 1; n <= 100; n++ {
		q := newQuasigroup(n)
		wantNil := n%4 == 2 && (n/2)%5 != 0
		if (q == nil) != wantNil {
			t.Errorf("n=%d: supported = %v, want %v", n, q != nil, !wantNil)
			continue
		}
		if q == nil {
			continue
		}
		op := func(x, y int) int { return int(q.table[x*n+y]) }
		// Latin square: every row and column is a permutation.
		for x := 0; x < n; x++ {
			var row, col [256]bool
			for y := 0; y < n; y++ {
				r, c := op(x, y), op(y, x)
				if r >= n || row[r] || col[c] {
					t.Fatalf("n=%d: not a Latin square at (%d,%d)", n, x, y)
				}
				row[r], col[c] = true, true
			}
			if op(x, int(q.solve[x])) != 0 {
				t.Fatalf("n=%d: solve[%d]=%d does not reduce to 0", n, x, q.solve[x])
			}
		}
		// Weak total anti-symmetry: (c*x)*y = (c*y)*x only when x = y.
		for c := 0; c < n; c++ {
			for x := 0; x < n; x++ {
				cx := op(c, x)
				for y := x + 1; y < n; y++ {
					if op(cx, y) == op(op(c, y), x) {
						t.Fatalf("n=%d: (%d*%d)*%d = (%d*%d)*%d", n, c, x, y, c, y, x)
					}
				}
			}
		}
	}
}

// TestDammVector checks the order-10 table against the published example:
// the check digit of 572 is 4.
func TestDammVector(t *testing.T) {
	q := newQuasigroup(10)
	if got := q.digit([]uint8{5, 7, 2}); got != 4 {
		t.Errorf("check digit of 572 = %d, want 4", got)
	}
	if got := q.digit([]uint8{5, 7, 2, 4}); got != 0 {
		t.Errorf("572 4 does not reduce to 0 (check of it = %d)", got)
	}
}
