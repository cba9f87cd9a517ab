package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// TestCheckoutBudgetProperty draws a series with a budget (refuse or
// reduce, in total and per customer) and a discount of any kind, then a
// sequence of redemptions of random baskets (or bare bills) by three
// customers and of reversals, and checks after each step: the budget
// counters equal what the live redemptions took, in all and per customer,
// and never pass their caps; each redemption's parts sum to its discount,
// none passes its line; a refusal by the budget comes only when what is
// left is short of the discount; and a reduced discount empties a cap.
func TestCheckoutBudgetProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		st := memstore.New()
		now := time.Date(2030, time.March, 4, 12, 0, 0, 0, time.UTC)
		e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		s := drawBudgetSeries(t)
		s, err = e.CreateSeries(ctx, s)
		if err != nil {
			t.Fatalf("CreateSeries: %v", err)
		}
		customers := []string{"ann", "ben", "cat"}
		var live []coupon.Redemption
		n := rapid.IntRange(1, 25).Draw(t, "steps")
		for step := range n {
			if len(live) > 0 && rapid.IntRange(0, 4).Draw(t, "op") == 0 {
				i := rapid.IntRange(0, len(live)-1).Draw(t, "reverse")
				if _, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: live[i].ID}}); err != nil {
					t.Fatalf("Reverse: %v", err)
				}
				live = append(live[:i], live[i+1:]...)
			} else {
				cust := rapid.SampledFrom(customers).Draw(t, "customer")
				up := must(e.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: fmt.Sprintf("C%03d", step), Customer: couponkit.ByID(cust)}}}))
				if up.Added != 1 {
					t.Fatalf("upload: %+v", up)
				}
				req := couponkit.RedeemRequest{Code: fmt.Sprintf("C%03d", step), Customer: couponkit.ByID(cust), IdempotencyKey: "k",
					Bill: series.Money{Currency: "EUR"}}
				if s.Discount.Kind == series.PerUnit || rapid.Bool().Draw(t, "lines") {
					req.Lines = drawLines(t)
				} else {
					req.Bill.Amount = decimal.New(rapid.Int64Range(0, 20000).Draw(t, "bill"), -2)
				}
				before := spent(t, st, s.ID, cust)
				r, err := e.Redeem(ctx, req)
				var refused *refusal.Error
				switch {
				case err == nil:
					live = append(live, r.Redemption)
					checkParts(t, req, r)
					if r.Redemption.Reduced && !emptied(s, spent(t, st, s.ID, cust)) {
						t.Fatalf("a reduced discount of %s leaves budget: %v", r.Discount, spent(t, st, s.ID, cust))
					}
				case errors.As(err, &refused):
					if refused.Has(errcode.BudgetExhausted) || refused.Has(errcode.CustomerBudgetExhausted) {
						if s.Budget.OnExceed == series.BudgetReduce && !emptied(s, before) {
							t.Fatalf("refused under reduce with budget left: %v (%v)", before, err)
						}
					}
				default:
					t.Fatalf("Redeem: %v", err)
				}
			}
			checkSpent(t, st, &s, live, customers)
		}
	})
}

// emptied reports whether a cap of s has nothing left, given the series'
// and the customer's counters.
func emptied(s series.Series, n [2]int64) bool {
	caps := [2]decimal.NullDecimal{s.Budget.Total, s.Budget.PerCustomer}
	for i, c := range caps {
		if c.Valid && c.Decimal.Shift(2).IntPart() == n[i] {
			return true
		}
	}
	return false
}

func drawBudgetSeries(t *rapid.T) series.Series {
	s := series.Series{Name: "budget", TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
		Expiry: series.Expiry{Kind: series.DaysFromIssue, N: 30}}
	switch rapid.IntRange(0, 2).Draw(t, "kind") {
	case 0:
		s.Discount = series.Discount{Kind: series.Fixed, Amount: decimal.New(rapid.Int64Range(1, 3000).Draw(t, "amount"), -2), Currency: "EUR"}
	case 1:
		s.Discount = series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(rapid.Int64Range(1, 100).Draw(t, "percent")), Currency: "EUR"}
	default:
		s.Discount = series.Discount{Kind: series.PerUnit, Amount: decimal.New(rapid.Int64Range(1, 500).Draw(t, "each"), -2), Currency: "EUR"}
	}
	if rapid.Bool().Draw(t, "total") {
		s.Budget.Total = decimal.NewNullDecimal(decimal.New(rapid.Int64Range(1, 10000).Draw(t, "cap"), -2))
	}
	if !s.Budget.Total.Valid || rapid.Bool().Draw(t, "perCustomer") {
		s.Budget.PerCustomer = decimal.NewNullDecimal(decimal.New(rapid.Int64Range(1, 5000).Draw(t, "customerCap"), -2))
	}
	if rapid.Bool().Draw(t, "reduce") {
		s.Budget.OnExceed = series.BudgetReduce
	}
	if rapid.Bool().Draw(t, "restricted") {
		s.Products.ExcludeCategories = []string{"sale"}
	}
	return s
}

func drawLines(t *rapid.T) []basket.Line {
	n := rapid.IntRange(1, 6).Draw(t, "nLines")
	lines := make([]basket.Line, n)
	for i := range lines {
		lines[i] = basket.Line{ID: fmt.Sprint(i), Product: "p", Quantity: rapid.Int64Range(1, 4).Draw(t, "qty"),
			UnitPrice: decimal.New(rapid.Int64Range(0, 5000).Draw(t, "price"), -2)}
		if rapid.IntRange(0, 3).Draw(t, "sale") == 0 {
			lines[i].Categories = []string{"sale"}
		}
	}
	return lines
}

// checkParts checks that a redemption of lines splits its discount over
// them: parts summing to it, none past its line.
func checkParts(t *rapid.T, req couponkit.RedeemRequest, r couponkit.RedeemResult) {
	if len(req.Lines) == 0 {
		if r.Redemption.Parts != nil {
			t.Fatalf("a bill-only redemption has parts: %+v", r.Redemption.Parts)
		}
		return
	}
	var sum int64
	for _, p := range r.Redemption.Parts {
		if p.Discount < 0 || p.Discount > p.Base {
			t.Fatalf("part %+v passes its line", p)
		}
		sum += p.Discount
	}
	if got := r.Discount.Amount.Shift(2).IntPart(); got != sum {
		t.Fatalf("parts sum to %d, the discount is %d", sum, got)
	}
}

// spent reads the series' and the customer's budget counters.
func spent(t *rapid.T, st store.Store, seriesID, customer string) [2]int64 {
	var out [2]store.Count
	keys := []store.CounterKey{{Counter: limits.SeriesBudget, Series: seriesID}, {Counter: limits.CustomerBudget, Series: seriesID, Customer: customer}}
	if err := st.Counters(context.Background(), keys, out[:]); err != nil {
		t.Fatalf("Counters: %v", err)
	}
	return [2]int64{out[0].N, out[1].N}
}

// checkSpent checks the budget counters against the live redemptions and
// the caps.
func checkSpent(t *rapid.T, st store.Store, s *series.Series, live []coupon.Redemption, customers []string) {
	var total int64
	per := map[string]int64{}
	for _, r := range live {
		total += r.Budget
		per[r.Customer] += r.Budget
		if r.Budget != r.Discount.Shift(2).IntPart() {
			t.Fatalf("a EUR redemption took %d cents of the budget for a discount of %s", r.Budget, r.Discount)
		}
	}
	for _, c := range customers {
		n := spent(t, st, s.ID, c)
		if n[0] != total || n[1] != per[c] {
			t.Fatalf("counters %v for %s, the live redemptions took %d and %d", n, c, total, per[c])
		}
		if s.Budget.PerCustomer.Valid && n[1] > s.Budget.PerCustomer.Decimal.Shift(2).IntPart() {
			t.Fatalf("%s got %d cents past a cap of %s", c, n[1], s.Budget.PerCustomer.Decimal)
		}
	}
	if s.Budget.Total.Valid && total > s.Budget.Total.Decimal.Shift(2).IntPart() {
		t.Fatalf("%d cents given past a budget of %s", total, s.Budget.Total.Decimal)
	}
}
