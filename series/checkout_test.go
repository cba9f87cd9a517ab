package series_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Each broken checkout setting is refused on its own field.
func TestValidateCheckout(t *testing.T) {
	long := strings.Repeat("x", 129)
	many := make([]string, series.MaxProductRules+1)
	for i := range many {
		many[i] = "p" + string(rune('a'+i%26)) + strings.Repeat("z", i/26)
	}
	for _, tc := range []struct {
		name string
		mod  func(*series.Series)
		want []string
	}{
		{"empty include", func(s *series.Series) { s.Products.Include = []string{""} }, []string{"Products.Include[0]"}},
		{"repeated exclude", func(s *series.Series) { s.Products.Exclude = []string{"a", "a"} }, []string{"Products.Exclude[1]"}},
		{"category too long", func(s *series.Series) { s.Products.IncludeCategories = []string{long} }, []string{"Products.IncludeCategories[0]"}},
		{"control character", func(s *series.Series) { s.Products.ExcludeCategories = []string{"a\nb"} }, []string{"Products.ExcludeCategories[0]"}},
		{"too many", func(s *series.Series) { s.Products.Include = many }, []string{"Products.Include"}},
		{"both ways", func(s *series.Series) {
			s.Products.Include, s.Products.Exclude = []string{"a", "b"}, []string{"b"}
		}, []string{"Products.Exclude[0]"}},
		{"category both ways", func(s *series.Series) {
			s.Products.IncludeCategories, s.Products.ExcludeCategories = []string{"toys"}, []string{"toys"}
		}, []string{"Products.ExcludeCategories[0]"}},
		{"negative quantity", func(s *series.Series) { s.Products.MinQuantity = -1 }, []string{"Products.MinQuantity"}},
		{"zero subtotal", func(s *series.Series) { s.Products.MinSubtotal = nullDec("0") }, []string{"Products.MinSubtotal"}},
		{"huge subtotal", func(s *series.Series) { s.Products.MinSubtotal = nullDec("1e19") }, []string{"Products.MinSubtotal"}},
		{"per unit without amount", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.PerUnit, Currency: "EUR"}
		}, []string{"Discount.Amount"}},
		{"per unit with percent", func(s *series.Series) {
			s.Discount = series.Discount{Kind: series.PerUnit, Amount: dec("5"), Percent: dec("5"), Currency: "EUR"}
		}, []string{"Discount.Percent"}},
		{"negative budget", func(s *series.Series) { s.Budget.Total = nullDec("-1") }, []string{"Budget.Total"}},
		{"budget past minor units", func(s *series.Series) { s.Budget.PerCustomer = nullDec("0.005") }, []string{"Budget.PerCustomer"}},
		{"yen budget in cents", func(s *series.Series) {
			s.Discount.Currency = "JPY"
			s.Budget.Total = nullDec("100.5")
		}, []string{"Budget.Total"}},
		{"reduce without cap", func(s *series.Series) { s.Budget.OnExceed = series.BudgetReduce }, []string{"Budget.OnExceed"}},
		{"unknown budget policy", func(s *series.Series) { s.Budget.OnExceed = 9 }, []string{"Budget.OnExceed"}},
		{"exclusive with group", func(s *series.Series) {
			s.Stacking = series.Stacking{Exclusive: true, Group: "g"}
		}, []string{"Stacking.Group"}},
		{"exclusive with max", func(s *series.Series) {
			s.Stacking = series.Stacking{Exclusive: true, MaxPerBill: 2}
		}, []string{"Stacking.MaxPerBill"}},
		{"max per bill", func(s *series.Series) { s.Stacking.MaxPerBill = series.MaxPerBill + 1 }, []string{"Stacking.MaxPerBill"}},
		{"priority", func(s *series.Series) { s.Stacking.Priority = -series.MaxPriority - 1 }, []string{"Stacking.Priority"}},
		{"group too long", func(s *series.Series) { s.Stacking.Group = long }, []string{"Stacking.Group"}},
		{"unknown return policy", func(s *series.Series) { s.Returns = 7 }, []string{"Returns"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSeries()
			tc.mod(&s)
			got := fields(t, s.Validate())
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate fields = %v, want %v", got, tc.want)
			}
		})
	}
}

// Checkout settings that obey the rules validate.
func TestValidateCheckoutValid(t *testing.T) {
	s := validSeries()
	s.Discount = series.Discount{Kind: series.PerUnit, Amount: dec("5"), Currency: "JPY"}
	s.Products = series.ProductRules{Include: []string{"a"}, Exclude: []string{"b"}, IncludeCategories: []string{"c"},
		ExcludeCategories: []string{"a"}, MinQuantity: 6, MinSubtotal: nullDec("50")}
	s.Budget = series.Budget{Total: nullDec("1000"), OnExceed: series.BudgetReduce}
	s.Stacking = series.Stacking{Exclusive: true, Priority: series.MaxPriority}
	s.Returns = series.ReturnNeither
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A series without checkout settings writes none of them and reads back
// with every product eligible, no budget, no stacking rule, and the budget
// given back on a return.
func TestCheckoutDefaults(t *testing.T) {
	s := validSeries()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"products"`, `"budget"`, `"stacking"`, `"returns"`} {
		if strings.Contains(string(b), key) {
			t.Errorf("a series without checkout settings writes %s: %s", key, b)
		}
	}
	if s.Products.Restricted() || s.Budget.Capped() || s.Stacking.Exclusive || s.Stacking.MaxPerBill != 0 {
		t.Errorf("zero settings restrict: %+v %+v %+v", s.Products, s.Budget, s.Stacking)
	}
	if !s.Returns.GivesBackBudget() || s.Returns.GivesBackUse() {
		t.Errorf("zero return policy %v", s.Returns)
	}
	for p, want := range map[series.ReturnPolicy][2]bool{
		series.ReturnBudget: {false, true}, series.ReturnUse: {true, false},
		series.ReturnBoth: {true, true}, series.ReturnNeither: {false, false},
	} {
		if got := [2]bool{p.GivesBackUse(), p.GivesBackBudget()}; got != want {
			t.Errorf("%v gives back use, budget = %v, want %v", p, got, want)
		}
	}
}

// A per-unit discount needs the basket's lines: Apply, which sees only the
// bill, refuses it.
func TestApplyRefusesPerUnit(t *testing.T) {
	d := series.Discount{Kind: series.PerUnit, Amount: dec("1"), Currency: "EUR"}
	_, err := d.Apply(series.Money{Amount: dec("10"), Currency: "EUR"}, nil)
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Bill" {
		t.Fatalf("Apply of a per-unit discount = %v", err)
	}
}
