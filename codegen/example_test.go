package codegen_test

import (
	"errors"
	"fmt"
	"maps"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/errcode"
)

// The secret of the examples. A real series gets its own random key from a
// secret store; whoever has it can compute every code.
var key = []byte("example key - keep real ones secret")

// A randomized common series from the sample "SUMMER2024": "SUMME" is fixed,
// five alphanumeric characters are generated, 36^5 codes in all.
func ExampleNewRandomizedCommon() {
	g, err := codegen.NewRandomizedCommon(codegen.RandomizedSpec{Sample: "SUMMER2024", Count: 30_000_000}, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("fixed part:", g.Prefix(), "alphabet:", g.Alphabet().Name())
	fmt.Println("capacity:", g.Capacity())
	for i := range uint64(3) {
		code, _ := g.Code(i)
		fmt.Println(i, code)
	}
	// What a customer types is canonicalised before it is decoded.
	i, err := g.Decode("  summezgak9 ")
	fmt.Println("decoded:", i, err)
	fmt.Printf("fill after 30M issued: %.1f%%\n", 100*g.Fill(30_000_000))
	// Output:
	// fixed part: SUMME alphabet: alphanumeric
	// capacity: 60466176
	// 0 SUMMEM39UF
	// 1 SUMMEZGAK9
	// 2 SUMMEGYKFW
	// decoded: 1 <nil>
	// fill after 30M issued: 49.6%
}

// A unique series in the confusion-free alphabet with a prefix and a check
// character: typing variants are accepted, a typo is caught.
func ExampleNewUnique() {
	g, err := codegen.NewUnique(codegen.UniqueSpec{
		Alphabet:  codegen.ConfusionFree(),
		Length:    8,
		Prefix:    "NY",
		CheckChar: true,
		MaxFill:   0.001, // at most 1 in 1,000 well-formed codes is a real one
	}, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("width:", g.Width(), "capacity:", g.Capacity(), "issuable:", g.Limit())
	code, _ := g.Code(41)
	fmt.Println("code 41:", code)

	for _, typed := range []string{
		"ny-3egq-jb4o-b", // lower case, hyphens, O for 0
		"NY3EGQJB41B",    // one character wrong
		"NY3EQGJB40B",    // two characters swapped
		"NY3EGQUB40B",    // U is not in the alphabet
	} {
		i, err := g.Decode(typed)
		switch {
		case errors.Is(err, errcode.ErrCheckFailed):
			fmt.Printf("%s: typo caught\n", typed)
		case err != nil:
			fmt.Printf("%s: %v\n", typed, err)
		default:
			fmt.Printf("%s: index %d\n", typed, i)
		}
	}
	// Output:
	// width: 11 capacity: 1099511627776 issuable: 1099511627
	// code 41: NY3EGQJB40B
	// ny-3egq-jb4o-b: index 41
	// NY3EGQJB41B: typo caught
	// NY3EQGJB40B: typo caught
	// NY3EGQUB40B: couponkit: invalid code (1402): Code: character 'U' at position 7 is not in the confusion-free alphabet
}

// Generate fills a caller buffer with a range of codes, fixed width each.
func ExampleGenerator_Generate() {
	g, err := codegen.NewUnique(codegen.UniqueSpec{Alphabet: codegen.Numeric(), Length: 6, Prefix: "NY24-"}, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := g.Width()
	buf := make([]byte, 4*w)
	if err := g.Generate(buf, 1000, 1004); err != nil {
		fmt.Println(err)
		return
	}
	for k := range 4 {
		fmt.Println(string(buf[k*w : (k+1)*w]))
	}
	// Output:
	// NY24-766666
	// NY24-115917
	// NY24-814027
	// NY24-254426
}

// CheckIssue refuses a request that would fill the space past MaxFill.
func ExampleGenerator_CheckIssue() {
	g, _ := codegen.NewUnique(codegen.UniqueSpec{Alphabet: codegen.Numeric(), Length: 6, MaxFill: 0.5}, key)
	fmt.Println(g.Capacity(), g.Limit())
	fmt.Println(g.CheckIssue(400_000, 100_000))
	fmt.Println(g.CheckIssue(400_000, 100_001))
	fmt.Println(g.CheckIssue(400_000, 600_001))
	// Output:
	// 1000000 500000
	// <nil>
	// couponkit: fill ratio exceeded (1404): Count: 400000 issued and 100001 requested, at most 500000 may be issued (0.5 of 1000000)
	// couponkit: capacity exceeded (1401): Count: 400000 issued and 600001 requested, the code space holds 1000000
}

// The fixed part of a randomized common series must be unique in the
// organisation.
func ExampleFixedPartAvailable() {
	inUse := map[string]bool{"SUMME": true, "WINTE": true}
	fmt.Println(codegen.FixedPartAvailable("AUTUMN2024", maps.Keys(inUse)))
	fmt.Println(codegen.FixedPartAvailable("summer2025", maps.Keys(inUse)))
	// Output:
	// <nil>
	// couponkit: fixed part in use (1405): Sample: the fixed part "SUMME" is used by another series
}
