//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package codegen

import "testing"

// TestNoAllocations checks the batch path, AppendCode into a buffer with
// room, and Decode allocate nothing.
func TestNoAllocations(t *testing.T) {
	g := mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 9, Prefix: "NY", CheckChar: true})
	buf := make([]byte, 256*g.Width())
	code := mustCode(t, g, 77)
	dst := make([]byte, 0, 64)
	var sink uint64
	tests := []struct {
		name string
		fn   func()
	}{
		{"Generate", func() {
			if err := g.Generate(buf, 1000, 1256); err != nil {
				t.Fatal(err)
			}
		}},
		{"AppendCode", func() {
			if _, err := g.AppendCode(dst[:0], 77); err != nil {
				t.Fatal(err)
			}
		}},
		{"Decode", func() {
			i, err := g.Decode(code)
			if err != nil {
				t.Fatal(err)
			}
			sink += i
		}},
	}
	for _, tt := range tests {
		tt.fn() // warm the scratch pool
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
	_ = sink
}
