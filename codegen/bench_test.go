package codegen

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// benchGenerate generates b.N codes, one code per op, in batches of 4096
// into one reused buffer, and reports codes per second.
func benchGenerate(b *testing.B, g *Generator) {
	const chunk = 4096
	w := uint64(g.Width())
	buf := make([]byte, chunk*w)
	b.ReportAllocs()
	b.ResetTimer()
	var from uint64
	for done := 0; done < b.N; done += chunk {
		n := uint64(min(chunk, b.N-done))
		if from+n > g.Limit() {
			from = 0
		}
		if err := g.Generate(buf[:n*w], from, from+n); err != nil {
			b.Fatal(err)
		}
		from += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

// BenchmarkGenerate measures the batch path for 10-character codes, one
// core, one code per op.
func BenchmarkGenerate(b *testing.B) {
	b.Run("randomized-common-10", func(b *testing.B) {
		benchGenerate(b, mustRandomized(b, "SUMMER2024"))
	})
	b.Run("unique-alphanumeric-10", func(b *testing.B) {
		benchGenerate(b, mustUnique(b, UniqueSpec{Alphabet: Alphanumeric(), Length: 10}))
	})
	b.Run("unique-confusion-free-9+check", func(b *testing.B) {
		benchGenerate(b, mustUnique(b, UniqueSpec{Alphabet: ConfusionFree(), Length: 9, CheckChar: true}))
	})
	b.Run("unique-numeric-10", func(b *testing.B) {
		benchGenerate(b, mustUnique(b, UniqueSpec{Alphabet: Numeric(), Length: 10}))
	})
}

// BenchmarkGenerateParallel runs the batch path on every core, each
// goroutine on its own ranges; ns/op is wall time per code.
func BenchmarkGenerateParallel(b *testing.B) {
	g := mustRandomized(b, "SUMMER2024")
	const chunk = 4096
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := uint64(g.Width())
		buf := make([]byte, chunk*w)
		var n uint64
		flush := func() {
			from := next.Add(n) - n
			from %= g.Capacity() - chunk
			if err := g.Generate(buf[:n*w], from, from+n); err != nil {
				b.Error(err)
			}
			n = 0
		}
		for pb.Next() {
			if n++; n == chunk {
				flush()
			}
		}
		if n > 0 {
			flush()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

func BenchmarkAppendCode(b *testing.B) {
	g := mustRandomized(b, "SUMMER2024")
	dst := make([]byte, 0, 16)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		if _, err := g.AppendCode(dst[:0], i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCode(b *testing.B) {
	g := mustRandomized(b, "SUMMER2024")
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		if _, err := g.Code(i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecode(b *testing.B) {
	g := mustUnique(b, UniqueSpec{Alphabet: ConfusionFree(), Length: 9, CheckChar: true})
	codes := make([]string, 1024)
	for i := range codes {
		codes[i] = mustCode(b, g, uint64(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := g.Decode(codes[i%len(codes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkNewRandomizedCommon(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRandomizedCommon(RandomizedSpec{Sample: "SUMMER2024"}, testKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnumerateFullSpace times generating all 60,466,176 codes of a
// 10-character alphanumeric randomized common series; one op is the whole
// space. "1-goroutine" is the single-core cost, "all-cores" the wall time
// with one goroutine per core on disjoint ranges.
func BenchmarkEnumerateFullSpace(b *testing.B) {
	g := mustRandomized(b, "SUMMER2024")
	run := func(b *testing.B, workers int) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			n := g.Capacity()
			for k := range workers {
				wg.Go(func() {
					const chunk = 1 << 16
					w := uint64(g.Width())
					buf := make([]byte, chunk*w)
					to := uint64(k+1) * n / uint64(workers)
					for lo := uint64(k) * n / uint64(workers); lo < to; lo += chunk {
						hi := min(lo+chunk, to)
						if err := g.Generate(buf[:(hi-lo)*w], lo, hi); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(g.Capacity())*float64(b.N)/b.Elapsed().Seconds(), "codes/s")
	}
	b.Run("1-goroutine", func(b *testing.B) { run(b, 1) })
	b.Run("all-cores", func(b *testing.B) { run(b, runtime.GOMAXPROCS(0)) })
}
