package codegen

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

type fieldErr struct {
	Code  errcode.Code
	Field string
}

func fieldErrs(err error) []fieldErr {
	var out []fieldErr
	for _, e := range errcode.All(err) {
		out = append(out, fieldErr{e.Code, e.Field})
	}
	return out
}

func TestNewUniqueValidation(t *testing.T) {
	tests := []struct {
		name string
		spec UniqueSpec
		key  []byte
		want []fieldErr
	}{
		{"ok", UniqueSpec{Alphabet: Numeric(), Length: 8}, testKey, nil},
		{"ok everything", UniqueSpec{Alphabet: ConfusionFree(), Length: 12, Prefix: "NY24", Suffix: "#", CheckChar: true, Count: 1000, MaxFill: 0.5}, testKey, nil},
		{"ok longest numeric", UniqueSpec{Alphabet: Numeric(), Length: 19}, testKey, nil},
		{"nothing", UniqueSpec{}, nil, []fieldErr{
			{errcode.InvalidConfig, "Alphabet"}, {errcode.InvalidConfig, "Length"}, {errcode.InvalidArgument, "Key"}}},
		{"short", UniqueSpec{Alphabet: Numeric(), Length: 1}, testKey, []fieldErr{{errcode.InvalidConfig, "Length"}}},
		{"too long for 64 bits", UniqueSpec{Alphabet: Numeric(), Length: 20}, testKey, []fieldErr{{errcode.InvalidConfig, "Length"}}},
		{"alnum too long", UniqueSpec{Alphabet: Alphanumeric(), Length: 13}, testKey, []fieldErr{{errcode.InvalidConfig, "Length"}}},
		{"lower-case prefix", UniqueSpec{Alphabet: Alphanumeric(), Length: 8, Prefix: "ny"}, testKey, []fieldErr{{errcode.InvalidConfig, "Prefix"}}},
		{"hyphen in confusion-free prefix", UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY-"}, testKey, []fieldErr{{errcode.InvalidConfig, "Prefix"}}},
		{"O in confusion-free suffix", UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Suffix: "XO"}, testKey, []fieldErr{{errcode.InvalidConfig, "Suffix"}}},
		{"space in prefix", UniqueSpec{Alphabet: Numeric(), Length: 8, Prefix: "A B"}, testKey, []fieldErr{{errcode.InvalidConfig, "Prefix"}}},
		{"long suffix", UniqueSpec{Alphabet: Numeric(), Length: 8, Suffix: strings.Repeat("X", MaxAffix+1)}, testKey, []fieldErr{{errcode.InvalidConfig, "Suffix"}}},
		{"max fill", UniqueSpec{Alphabet: Numeric(), Length: 8, MaxFill: 1.5}, testKey, []fieldErr{{errcode.InvalidConfig, "MaxFill"}}},
		{"max fill NaN", UniqueSpec{Alphabet: Numeric(), Length: 8, MaxFill: math.NaN()}, testKey, []fieldErr{{errcode.InvalidConfig, "MaxFill"}}},
		{"short key", UniqueSpec{Alphabet: Numeric(), Length: 8}, testKey[:15], []fieldErr{{errcode.InvalidArgument, "Key"}}},
		{"unsupported check", UniqueSpec{Alphabet: mustAlphabet(t, customPool[10:36]), Length: 6, CheckChar: true}, testKey,
			[]fieldErr{{errcode.InvalidConfig, "CheckChar"}}},
		{"all at once", UniqueSpec{Alphabet: Numeric(), Length: 0, Prefix: "x", Suffix: "y", MaxFill: -1}, []byte("k"), []fieldErr{
			{errcode.InvalidConfig, "Length"}, {errcode.InvalidConfig, "Prefix"}, {errcode.InvalidConfig, "Suffix"},
			{errcode.InvalidConfig, "MaxFill"}, {errcode.InvalidArgument, "Key"}}},
		{"count over capacity", UniqueSpec{Alphabet: Numeric(), Length: 4, Count: 10001}, testKey, []fieldErr{{errcode.CapacityExceeded, "Count"}}},
		{"count over fill", UniqueSpec{Alphabet: Numeric(), Length: 4, Count: 5001, MaxFill: 0.5}, testKey, []fieldErr{{errcode.FillRatioExceeded, "Count"}}},
		{"count at fill", UniqueSpec{Alphabet: Numeric(), Length: 4, Count: 5000, MaxFill: 0.5}, testKey, nil},
		{"count at capacity", UniqueSpec{Alphabet: Numeric(), Length: 4, Count: 10000}, testKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewUnique(tt.spec, tt.key)
			if diff := cmp.Diff(tt.want, fieldErrs(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s\n%v", diff, err)
			}
			if err == nil && g == nil {
				t.Fatal("nil generator without error")
			}
		})
	}
}

func mustAlphabet(t fataler, chars string) *Alphabet {
	t.Helper()
	a, err := NewAlphabet(chars)
	if err != nil {
		t.Fatalf("NewAlphabet(%q): %v", chars, err)
	}
	return a
}

func TestShape(t *testing.T) {
	tests := []struct {
		name     string
		g        *Generator
		capacity uint64
		width    int
		limit    uint64
	}{
		{"numeric 8", mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 8}), 100_000_000, 8, 100_000_000},
		{"alnum 10", mustUnique(t, UniqueSpec{Alphabet: Alphanumeric(), Length: 10}), 3_656_158_440_062_976, 10, 3_656_158_440_062_976},
		{"crockford 8 prefix check suffix", mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", Suffix: "X", CheckChar: true}),
			1 << 40, 12, 1 << 40},
		{"numeric 6 at 10%", mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 6, MaxFill: 0.1}), 1_000_000, 6, 100_000},
		{"numeric 19", mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 19}), 10_000_000_000_000_000_000, 19, 10_000_000_000_000_000_000},
		{"binary 63", mustUnique(t, UniqueSpec{Alphabet: mustAlphabet(t, "01"), Length: 63}), 1 << 63, 63, 1 << 63},
	}
	for _, tt := range tests {
		if tt.g.Capacity() != tt.capacity || tt.g.Width() != tt.width || tt.g.Limit() != tt.limit {
			t.Errorf("%s: capacity %d width %d limit %d, want %d %d %d", tt.name,
				tt.g.Capacity(), tt.g.Width(), tt.g.Limit(), tt.capacity, tt.width, tt.limit)
		}
		c := mustCode(t, tt.g, tt.g.Limit()-1)
		if len(c) != tt.width {
			t.Errorf("%s: last code %q has width %d", tt.name, c, len(c))
		}
		if i, err := tt.g.Decode(c); err != nil || i != tt.g.Limit()-1 {
			t.Errorf("%s: Decode(%q) = %d, %v, want %d", tt.name, c, i, err, tt.g.Limit()-1)
		}
	}
}

func TestFillAndCheckIssue(t *testing.T) {
	g := mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 4, MaxFill: 0.25}) // 10,000 codes, 2,500 issuable
	if g.Limit() != 2500 || g.MaxFill() != 0.25 {
		t.Fatalf("limit %d max fill %g", g.Limit(), g.MaxFill())
	}
	if f := g.Fill(2500); f != 0.25 {
		t.Errorf("Fill(2500) = %g", f)
	}
	tests := []struct {
		issued, requested uint64
		want              errcode.Code
	}{
		{0, 0, 0},
		{0, 2500, 0},
		{2499, 1, 0},
		{2500, 0, 0},
		{2500, 1, errcode.FillRatioExceeded},
		{0, 10000, errcode.FillRatioExceeded},
		{0, 10001, errcode.CapacityExceeded},
		{math.MaxUint64, 1, errcode.CapacityExceeded},
		{1, math.MaxUint64, errcode.CapacityExceeded},
	}
	for _, tt := range tests {
		err := g.CheckIssue(tt.issued, tt.requested)
		if tt.want == 0 {
			if err != nil {
				t.Errorf("CheckIssue(%d, %d) = %v", tt.issued, tt.requested, err)
			}
			continue
		}
		wantCode(t, err, tt.want, "Count")
	}
	// Code refuses what CheckIssue refuses.
	mustCode(t, g, 2499)
	_, err := g.Code(2500)
	wantCode(t, err, errcode.FillRatioExceeded, "Index")
	_, err = g.Code(10000)
	wantCode(t, err, errcode.CapacityExceeded, "Index")
	_, err = g.AppendCode(nil, math.MaxUint64)
	wantCode(t, err, errcode.CapacityExceeded, "Index")
	// A code past the limit still decodes (the limit may have been lowered).
	full := mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 4})
	c := mustCode(t, full, 9999)
	if i, err := g.Decode(c); err != nil || i != 9999 {
		t.Errorf("Decode of a code past the limit = %d, %v", i, err)
	}
}

func TestMinLengthFor(t *testing.T) {
	tests := []struct {
		a       *Alphabet
		count   uint64
		maxFill float64
		want    int
	}{
		{Alphanumeric(), 60_466_176, 1, 5},
		{Alphanumeric(), 60_466_177, 1, 6},
		{Alphanumeric(), 30_000_000, 0, 5},
		{Numeric(), 20_000_000, 0.01, 10},
		{Numeric(), 0, 1, MinLength},
		{Numeric(), 100, 1, 2},
		{Numeric(), 101, 1, 3},
		{ConfusionFree(), 1 << 40, 1, 8},
	}
	for _, tt := range tests {
		got, err := MinLengthFor(tt.a, tt.count, tt.maxFill)
		if err != nil || got != tt.want {
			t.Errorf("MinLengthFor(%s, %d, %g) = %d, %v, want %d", tt.a.Name(), tt.count, tt.maxFill, got, err, tt.want)
		}
	}
	_, err := MinLengthFor(Numeric(), math.MaxUint64, 0.5)
	wantCode(t, err, errcode.CapacityExceeded, "Count")
	_, err = MinLengthFor(nil, 1, 2)
	if got := fieldErrs(err); !cmp.Equal(got, []fieldErr{{errcode.InvalidConfig, "Alphabet"}, {errcode.InvalidConfig, "MaxFill"}}) {
		t.Errorf("MinLengthFor(nil, 1, 2) errors = %v", got)
	}
}

// TestGolden freezes the mapping: codes already issued must never change
// when this package changes. A failure here means existing series would get
// different codes.
func TestGolden(t *testing.T) {
	r := mustRandomized(t, "SUMMER2024")
	u := mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", CheckChar: true})
	n := mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 12})
	var got []string
	for _, g := range []*Generator{r, u, n} {
		for _, i := range []uint64{0, 1, 2, g.Capacity() - 1} {
			got = append(got, mustCode(t, g, i))
		}
	}
	want := goldenCodes
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("codes changed (-want +got):\n%s", diff)
	}
}

func TestDeterministicAndKeyed(t *testing.T) {
	spec := UniqueSpec{Alphabet: Alphanumeric(), Length: 8}
	a := mustUnique(t, spec)
	b := mustUnique(t, spec)
	spec.Count, spec.MaxFill = 1000, 0.5
	c := mustUnique(t, spec) // Count and MaxFill do not change the codes
	other := []byte("another secret key of 32 bytes!!")
	d, err := NewUnique(UniqueSpec{Alphabet: Alphanumeric(), Length: 8}, other)
	if err != nil {
		t.Fatal(err)
	}
	e := mustUnique(t, UniqueSpec{Alphabet: Alphanumeric(), Length: 8, Prefix: "P"})
	sameAsD, sameAsE := 0, 0
	for i := uint64(0); i < 1000; i++ {
		ca := mustCode(t, a, i)
		if mustCode(t, b, i) != ca || mustCode(t, c, i) != ca {
			t.Fatalf("index %d: same key and spec gave different codes", i)
		}
		if mustCode(t, d, i) == ca {
			sameAsD++
		}
		if mustCode(t, e, i)[1:] == ca {
			sameAsE++
		}
	}
	// Unrelated permutations of 36^8 codes agree on an index with
	// probability 1/36^8; one agreement in 1000 would already be suspicious.
	if sameAsD > 0 || sameAsE > 0 {
		t.Errorf("another key agreed on %d codes, another prefix on %d", sameAsD, sameAsE)
	}
}

// TestCodesLookRandom is a coarse check that the order of indexes does not
// show in the codes: the generated values of consecutive indexes are spread
// over the whole space rather than close together.
func TestCodesLookRandom(t *testing.T) {
	g := mustRandomized(t, "SUMMER2024")
	const n = 20000
	var upper, near int
	prev := uint64(0)
	for i := uint64(0); i < n; i++ {
		v := bodyValue(g, mustCode(t, g, i))
		if v >= g.Capacity()/2 {
			upper++
		}
		d := v - prev
		if prev > v {
			d = prev - v
		}
		if d < g.Capacity()/100 {
			near++
		}
		prev = v
	}
	// Binomial(20000, 1/2): 6 standard deviations is 424. Near neighbours:
	// expected about 2% of 20000 = 400.
	if upper < n/2-424 || upper > n/2+424 || near > 800 {
		t.Errorf("upper half %d of %d, near neighbours %d", upper, n, near)
	}
}

// bodyValue reads the generated characters of code as a base-radix number.
func bodyValue(g *Generator, code string) uint64 {
	var v uint64
	for _, c := range []byte(code[len(g.prefix) : len(g.prefix)+g.length]) {
		v = v*g.radix + uint64(g.alpha.index[c])
	}
	return v
}

func TestGenerateMatchesCode(t *testing.T) {
	gens := []*Generator{
		mustRandomized(t, "TEST12345"),
		mustRandomized(t, "12345"),
		mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 7, Prefix: "A", Suffix: "Z9", CheckChar: true}),
		mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 19}), // halves past 2^32
	}
	for _, g := range gens {
		w := uint64(g.Width())
		// Ranges that cross a wrap of the low half (multiples of b).
		b := g.perm.b
		for _, from := range []uint64{0, b - 3, 5*b - 1, g.Capacity() - 7} {
			to := min(from+10, g.Capacity())
			buf := make([]byte, (to-from)*w)
			if err := g.Generate(buf, from, to); err != nil {
				t.Fatal(err)
			}
			for i := from; i < to; i++ {
				got := string(buf[(i-from)*w : (i-from+1)*w])
				if want := mustCode(t, g, i); got != want {
					t.Errorf("Generate index %d = %q, Code = %q", i, got, want)
				}
				app, err := g.AppendCode([]byte("x"), i)
				if err != nil || string(app) != "x"+got {
					t.Errorf("AppendCode(x, %d) = %q, %v", i, app, err)
				}
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	g := mustUnique(t, UniqueSpec{Alphabet: Numeric(), Length: 3, MaxFill: 0.5})
	buf := make([]byte, 10*3)
	wantCode(t, g.Generate(buf, 5, 4), errcode.InvalidArgument, "from")
	wantCode(t, g.Generate(buf[:29], 0, 10), errcode.InvalidArgument, "dst")
	wantCode(t, g.Generate(buf, 495, 505), errcode.FillRatioExceeded, "to")
	wantCode(t, g.Generate(buf, 995, 1001), errcode.CapacityExceeded, "to")
	if err := g.Generate(nil, 7, 7); err != nil {
		t.Errorf("empty range: %v", err)
	}
	if err := g.Generate(buf, 490, 500); err != nil {
		t.Errorf("range up to the limit: %v", err)
	}
}

// TestGenerateConcurrent runs goroutines on disjoint ranges into one buffer
// (run it with -race) and compares with a sequential run.
func TestGenerateConcurrent(t *testing.T) {
	g := mustRandomized(t, "SUMMER2024")
	const n, workers = 40000, 8
	w := g.Width()
	want := make([]byte, n*w)
	if err := g.Generate(want, 1000, 1000+n); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n*w)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for k := range workers {
		wg.Go(func() {
			lo, hi := k*n/workers, (k+1)*n/workers
			errs[k] = g.Generate(got[lo*w:hi*w], uint64(1000+lo), uint64(1000+hi))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("concurrent generation differs from sequential")
	}
}

func TestDigits(t *testing.T) {
	for r := 2; r <= 256; r++ {
		g := &Generator{Format: Format{radix: uint64(r)}, fast32: true, magic: ^uint64(0)/uint64(r) + 1}
		slow := &Generator{Format: Format{radix: uint64(r)}}
		for _, x := range []uint64{0, 1, uint64(r - 1), uint64(r), 1<<32 - 1, 1<<32 - uint64(r), 0x9E3779B9, 0x7FFFFFFF} {
			var a, b [32]uint8
			g.digits(a[:], x)
			slow.digits(b[:], x)
			var back uint64
			for _, d := range b {
				back = back*uint64(r) + uint64(d)
			}
			if a != b || back != x {
				t.Fatalf("radix %d, x %d: fast %v slow %v", r, x, a, b)
			}
		}
	}
}

func TestDecodeUserInput(t *testing.T) {
	u := mustUnique(t, UniqueSpec{Alphabet: ConfusionFree(), Length: 8, Prefix: "NY", Suffix: "Z", CheckChar: true})
	code := mustCode(t, u, 12345) // NY + 8 + check + Z
	body := code[2:11]
	typed := []string{
		code,
		"  " + strings.ToLower(code) + "\n",
		"NY-" + body[:4] + "-" + body[4:] + "-Z",
		strings.NewReplacer("0", "o", "1", "l").Replace(code),
		strings.NewReplacer("1", "I").Replace(strings.ToLower(code)),
	}
	for _, s := range typed {
		i, err := u.Decode(s)
		if err != nil || i != 12345 {
			t.Errorf("Decode(%q) = %d, %v, want 12345", s, i, err)
		}
		c, err := u.Canonical(s)
		if err != nil || c != code {
			t.Errorf("Canonical(%q) = %q, %v, want %q", s, c, err, code)
		}
	}
	// A substitution that keeps the alphabet: change the first generated
	// character to another one.
	sub := []byte(code)
	sub[2] = ConfusionFree().chars[(int(ConfusionFree().index[sub[2]])+1)%32]
	bad := []struct {
		in   string
		want errcode.Code
	}{
		{"", errcode.InvalidCode},
		{code[:len(code)-1], errcode.InvalidCode},
		{code + "Z", errcode.InvalidCode},
		{"NX" + code[2:], errcode.InvalidCode},
		{code[:len(code)-1] + "Y", errcode.InvalidCode},
		{"NY" + "U" + code[3:], errcode.InvalidCode}, // U is not in the alphabet
		{"NY" + "é" + code[4:], errcode.InvalidCode},
		{strings.Repeat("A", 1000), errcode.InvalidCode},
		{string(sub), errcode.CheckFailed},
	}
	for _, tt := range bad {
		_, err := u.Decode(tt.in)
		wantCode(t, err, tt.want, "Code")
		_, err = u.Canonical(tt.in)
		wantCode(t, err, tt.want, "Code")
	}
}

// TestPropertyBijection enumerates random small domains completely: every
// index has a distinct, well-formed code, and Decode inverts Code.
func TestPropertyBijection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genAlphabet(t)
		r := uint64(a.Size())
		maxLen := 2
		for pow(r, maxLen+1) <= 20000 {
			maxLen++
		}
		length := rapid.IntRange(2, maxLen).Draw(t, "length")
		spec := UniqueSpec{
			Alphabet:  a,
			Length:    length,
			Prefix:    canon(t, a, rapid.SampledFrom([]string{"", "P", "Q-7"}).Draw(t, "prefix")),
			Suffix:    canon(t, a, rapid.SampledFrom([]string{"", "X"}).Draw(t, "suffix")),
			CheckChar: a.SupportsCheckChar() && rapid.Bool().Draw(t, "check"),
		}
		key := rapid.SliceOfN(rapid.Byte(), MinKeyLen, 40).Draw(t, "key")
		g, err := NewUnique(spec, key)
		if err != nil {
			t.Fatalf("NewUnique(%+v): %v", spec, err)
		}
		n := g.Capacity()
		if n != pow(r, length) {
			t.Fatalf("capacity %d, want %d^%d", n, r, length)
		}
		w := uint64(g.Width())
		buf := make([]byte, n*w)
		if err := g.Generate(buf, 0, n); err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, n)
		for i := range n {
			code := string(buf[i*w : (i+1)*w])
			if !strings.HasPrefix(code, spec.Prefix) || !strings.HasSuffix(code, spec.Suffix) {
				t.Fatalf("code %q lacks prefix %q or suffix %q", code, spec.Prefix, spec.Suffix)
			}
			for _, c := range []byte(code[len(spec.Prefix) : len(code)-len(spec.Suffix)]) {
				if !a.Contains(c) {
					t.Fatalf("code %q has %q outside the alphabet", code, c)
				}
			}
			v := bodyValue(g, code)
			if seen[v] {
				t.Fatalf("index %d: code %q repeats an earlier code", i, code)
			}
			seen[v] = true
			back, err := g.Decode(code)
			if err != nil || back != i {
				t.Fatalf("Decode(Code(%d) = %q) = %d, %v", i, code, back, err)
			}
		}
	})
}

// TestPropertyCheckCharCatchesTypos tries, on a random code, every single
// substitution by an alphabet character at every position and every adjacent
// transposition of different characters: each must be refused, with
// CheckFailed inside the generated part and check character, InvalidCode in
// the prefix or suffix.
func TestPropertyCheckCharCatchesTypos(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genAlphabet(t)
		if !a.SupportsCheckChar() {
			a = Alphanumeric()
		}
		length := rapid.IntRange(2, min(12, maxDigits(uint64(a.Size())))).Draw(t, "length")
		spec := UniqueSpec{
			Alphabet:  a,
			Length:    length,
			Prefix:    canon(t, a, rapid.SampledFrom([]string{"", "7", "AB"}).Draw(t, "prefix")),
			Suffix:    canon(t, a, rapid.SampledFrom([]string{"", "9"}).Draw(t, "suffix")),
			CheckChar: true,
		}
		g, err := NewUnique(spec, testKey)
		if err != nil {
			t.Fatalf("NewUnique(%+v): %v", spec, err)
		}
		i := rapid.Uint64Range(0, g.Capacity()-1).Draw(t, "index")
		code := []byte(mustCode(t, g, i))
		lo, hi := len(spec.Prefix), len(spec.Prefix)+length+1 // generated part and check character
		for pos := range code {
			orig := code[pos]
			for k := 0; k < a.Size(); k++ {
				c := a.chars[k]
				if c == orig {
					continue
				}
				code[pos] = c
				_, err := g.Decode(string(code))
				want := errcode.InvalidCode
				if lo <= pos && pos < hi {
					want = errcode.CheckFailed
				}
				if errcode.CodeOf(err) != want {
					t.Fatalf("substitution %q->%q at %d in %q: error %v, want code %d", orig, c, pos, code, err, want)
				}
			}
			code[pos] = orig
		}
		for pos := 0; pos+1 < len(code); pos++ {
			if code[pos] == code[pos+1] {
				continue
			}
			code[pos], code[pos+1] = code[pos+1], code[pos]
			_, err := g.Decode(string(code))
			want := errcode.InvalidCode
			if lo <= pos && pos+1 < hi {
				want = errcode.CheckFailed
			}
			if errcode.CodeOf(err) != want {
				t.Fatalf("transposition at %d in %q: error %v, want code %d", pos, code, err, want)
			}
			code[pos], code[pos+1] = code[pos+1], code[pos]
		}
	})
}

// canon returns the canonical form of an affix for a, which NewUnique
// accepts.
func canon(t *rapid.T, a *Alphabet, s string) string {
	c, err := a.Canonical(s)
	if err != nil {
		t.Fatalf("Canonical(%q): %v", s, err)
	}
	return c
}

// goldenCodes are the codes of indexes 0, 1, 2 and the last one of the three
// generators in TestGolden, under testKey.
var goldenCodes = []string{
	"SUMMEMRCUU", "SUMMEO1UW2", "SUMMEHFP1T", "SUMME6HJ3L",
	"NYNYCWBS8V6", "NY6C6RZFGHJ", "NYGHVG22RDJ", "NYS2CGE7QQZ",
	"475995645816", "005081227176", "018121330806", "972788897384",
}
