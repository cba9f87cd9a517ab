package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// Example_readme is the code sample of README.md, which
// TestREADMEShowsExample keeps equal to this body: create a series, issue a
// coupon, see a refusal, redeem.
func Example_readme() {
	ctx := context.Background()
	e, err := couponkit.New(couponkit.Config{
		Store:   memstore.New(),
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("keep this secret"), nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{
		Name:       "10 EUR off",
		TimeZone:   "Europe/Berlin",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree, CheckChar: true},
		Issuance:   series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1}},
		Redemption: limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		log.Fatal(err)
	}
	issued, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		log.Fatal(err)
	}
	code := issued.Coupon.Code

	// A refusal lists each reason once: a stable code, a message for the
	// cashier, and the figures behind it (here Params.MinBill).
	bill := series.Money{Amount: decimal.RequireFromString("40.00"), Currency: "EUR"}
	_, err = e.Redeem(ctx, couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: bill})
	var refused *refusal.Error
	if errors.As(err, &refused) {
		for _, r := range refused.Refusals {
			fmt.Println("refused:", int(r.Code), r.Message)
		}
	}

	bill.Amount = decimal.RequireFromString("64.90")
	r, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-2", Bill: bill})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("discount", r.Discount, "state", r.Coupon.State)
	// Output:
	// refused: 1211 The bill must be at least 50.00 EUR (it is 40.00 EUR).
	// discount 10 EUR state redeemed
}

// TestREADMEShowsExample checks that README.md's code sample is the body of
// Example_readme, which the tests compile and run.
func TestREADMEShowsExample(t *testing.T) {
	readmeShows(t, "## In code", "readme_test.go", "Example_readme")
}

// readmeShows checks that the first go code block of README.md under the
// heading is the body of the example function in file, so that what the
// README shows is compiled and run.
func readmeShows(t *testing.T, heading, file, example string) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), heading)
	_, block, ok2 := strings.Cut(after, "```go\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("README.md has no go code block under %q", heading)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(src), "func "+example+"() {\n")
	body, _, _ = strings.Cut(body, "\t// Output:")
	var want strings.Builder
	for line := range strings.Lines(body) {
		want.WriteString(strings.TrimPrefix(line, "\t"))
	}
	if strings.TrimSpace(block) != strings.TrimSpace(want.String()) {
		t.Errorf("README.md's sample under %q differs from %s's body; copy it over:\n%s", heading, example, want.String())
	}
}
