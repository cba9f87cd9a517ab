//go:build !race

// The full enumeration runs in the plain test run; under the race detector
// it would take minutes and prove nothing more.

package codegen

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFullSpaceRandomizedCommon generates every code of a 10-character
// alphanumeric randomized common series, 36^5 = 60,466,176 of them, and
// proves them distinct, in the alphabet, and behind the fixed part: each
// code's generated part read as a base-36 number sets one bit of a
// 60,466,176-bit bitmap (7.6 MB), no bit may be set twice, and so every bit
// ends up set. Goroutines take disjoint ranges, as a bulk issue would.
func TestFullSpaceRandomizedCommon(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates 60,466,176 codes; skipped under -short")
	}
	g := mustRandomized(t, "SUMMER2024")
	const n = 60_466_176
	if g.Capacity() != n || g.Width() != 10 || g.Prefix() != "SUMME" {
		t.Fatalf("capacity %d width %d prefix %q", g.Capacity(), g.Width(), g.Prefix())
	}
	start := time.Now()
	bitmap := make([]atomic.Uint64, (n+63)/64)
	var repeats, malformed atomic.Uint64
	workers := min(runtime.GOMAXPROCS(0), 4)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for k := range workers {
		wg.Go(func() {
			errs[k] = enumerate(g, bitmap, &repeats, &malformed, uint64(k)*n/uint64(workers), uint64(k+1)*n/uint64(workers))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if repeats.Load() != 0 || malformed.Load() != 0 {
		t.Fatalf("%d repeated codes, %d malformed codes", repeats.Load(), malformed.Load())
	}
	set := 0
	for i := range bitmap {
		set += bits.OnesCount64(bitmap[i].Load())
	}
	if set != n {
		t.Fatalf("%d distinct codes, want %d", set, n)
	}
	t.Logf("enumerated %d codes in %v with %d goroutines", n, time.Since(start).Round(time.Millisecond), workers)
}

// enumerate generates the codes of [from, to) in chunks and marks them in
// bitmap.
func enumerate(g *Generator, bitmap []atomic.Uint64, repeats, malformed *atomic.Uint64, from, to uint64) error {
	const chunk = 1 << 16
	w := uint64(g.Width())
	buf := make([]byte, chunk*w)
	fixed := g.Prefix()
	index := &g.Alphabet().index
	for lo := from; lo < to; lo += chunk {
		hi := min(lo+chunk, to)
		if err := g.Generate(buf, lo, hi); err != nil {
			return err
		}
		for c := range hi - lo {
			code := buf[c*w : c*w+w]
			if string(code[:len(fixed)]) != fixed {
				malformed.Add(1)
				continue
			}
			var v uint64
			bad := false
			for _, ch := range code[len(fixed):] {
				d := index[ch]
				if d == notInAlpha {
					bad = true
				}
				v = v*36 + uint64(d)
			}
			if bad || v >= g.Capacity() {
				malformed.Add(1)
				continue
			}
			bit := uint64(1) << (v % 64)
			if bitmap[v/64].Or(bit)&bit != 0 {
				repeats.Add(1)
			}
		}
	}
	return nil
}
