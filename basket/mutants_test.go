package basket_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests are only worth running if they fail on a broken package. Each
// mutant below is the package with one guarantee broken, by replacing a
// piece of its source (the piece must occur once, so that a mutant follows
// the code); the tests named must fail against it. The mutated file is laid
// over the real one with go's -overlay flag, in a child go test.

type mutant struct {
	name, file, from, to string
	// run selects the tests that must catch it.
	run string
}

var mutants = []mutant{
	{"split drops the units left", "split.go",
		"left := total - given", "left := int64(0)", "^(TestSplitProperty|TestSplitEqualsPlain|TestCheckoutExamples)$"},
	{"split breaks ties by the order given", "split.go",
		"cmp.Or(strings.Compare(id(a.i), id(b.i)), cmp.Compare(a.i, b.i))", "cmp.Or(strings.Compare(\"\", \"\"), cmp.Compare(a.i, b.i))",
		"^(TestSplitTieIndependentOfOrder|TestSplitEqualsPlain)$"},
	{"fixed discount above the eligible lines", "stacker.go",
		"total := min(amt, sum)", "total := amt", "^(TestFixedDiscountAboveTheLines|TestStackSplitsExactly)$"},
	{"include before exclude", "eligible.go",
		"if m.exclude.has(product) || m.excludeCats.hasAny(categories) {", "if !m.all && m.include.has(product) {",
		"^(TestCheckoutExamples|TestExcludeNeverRaises)$"},
	{"later coupons on the amounts as given", "stacker.go",
		"st.w[i] = st.left[i]", "st.w[i] = st.pb.lines[i].amount", "^(TestStackSplitsExactly|TestCheckoutExamples|TestLaterCouponSplitsWhatIsLeft)$"},
	{"exclusive coupons combine", "stacker.go",
		"if c.Stacking.Exclusive || first.Stacking.Exclusive || c.Stacking.Group != first.Stacking.Group {",
		"if c.Stacking.Group != first.Stacking.Group {", "^TestCheckoutExamples$"},
	{"minimum quantity ignored", "eligible.go",
		"if p.MinQuantity > 0 && sel.Quantity < p.MinQuantity {", "if false {", "^TestCheckoutExamples$"},
	{"reduce forgets the customer's cap", "budget.go",
		"for _, l := range []Left{b.Total, b.Customer} {\n\t\t\tif l.Capped {", "for _, l := range []Left{b.Total} {\n\t\t\tif l.Capped {",
		"^(TestBudgetNeverPassed|TestCheckoutExamples)$"},
	{"returns counted one by one", "returns.go",
		"was, _ := mulDiv(p.Discount, prev[i], p.Quantity)", "was := int64(0)\n\t\tafter, _ = mulDiv(p.Discount, cur[i], p.Quantity)",
		"^(TestGiveBack|TestGiveBackProperty)$"},
	{"line order changes the split", "stacker.go",
		"func (pb *prepared) id(i int) string { return pb.b.Lines[i].ID }", "func (pb *prepared) id(i int) string { return \"\" }",
		"^(TestSplitTieIndependentOfOrder|TestOrderIndependent)$"},
	{"a repeated line id passes", "basket.go",
		"if lines[table[k]-1].ID == id {", "if lines[table[k]-1].ID == id && k == 0 {",
		"^(TestRepeatedIDProperty|TestValidate)$"},
	{"a repeated line id is missed when hashes collide", "basket.go",
		"if table[k] == 0 {", "if table[k] == 0 || lines[table[k]-1].ID != id {",
		"^(TestRepeatedIDAfterCollision|TestRepeatedIDProperty)$"},
	{"total takes a price finer than a minor unit", "basket.go",
		"if msg != \"\" || price > 0 && l.Quantity > (MaxLineAmount-1)/price {", "if msg == \"ignored\" || price > 0 && l.Quantity > (MaxLineAmount-1)/price {",
		"^(TestTotalRefusesBadAmounts|TestTotalProperty)$"},
	{"total takes any quantity", "basket.go",
		"if l.Quantity <= 0 || l.Quantity > MaxQuantity {\n\t\t\treturn 0, false", "if l.Quantity < 0 {\n\t\t\treturn 0, false",
		"^(TestTotalRefusesBadAmounts|TestTotalProperty)$"},
}

func TestMutants(t *testing.T) {
	if testing.Short() || raceEnabled {
		// The children build without the race detector: the plain run
		// covers them.
		t.Skip("builds the package once per mutant")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the mutants with")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			src, err := os.ReadFile(m.file)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(src), m.from); n != 1 {
				t.Fatalf("%s holds %q %d times; the mutant must replace it once", m.file, m.from, n)
			}
			dir := t.TempDir()
			mutated := filepath.Join(dir, m.file)
			if err := os.WriteFile(mutated, []byte(strings.Replace(string(src), m.from, m.to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			abs, err := filepath.Abs(m.file)
			if err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: mutated}})
			ov := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(ov, overlay, 0o600); err != nil {
				t.Fatal(err)
			}
			// Each mutant's tests include one that catches it every time
			// (not only a rapid property, which meets it in some draws).
			cmd := exec.Command(goCmd, "test", "-count=1", "-overlay", ov, "-run", m.run, ".")
			cmd.Env = append(os.Environ(), "RAPID_NOFAILFILE=true")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Errorf("the tests %s pass against the mutant:\n%s", m.run, out)
			} else if !strings.Contains(string(out), "--- FAIL") {
				t.Errorf("the mutant does not build, or fails for another reason:\n%s", out)
			}
		})
	}
}
