package bulk_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// exampleEngine returns an engine over an in-memory store whose customers
// are alice and bob, with a fixed clock and code key.
func exampleEngine() *couponkit.Engine {
	dir := &couponkit.MemDirectory{}
	dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: "alice"}, Mobile: "+4470000001"})
	dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: "bob"}, Email: "bob@example.com"})
	e, err := couponkit.New(couponkit.Config{
		Store:     memstore.New(),
		Customers: dir,
		Now:       func() time.Time { return time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC) },
		CodeKey:   func(context.Context, string) ([]byte, error) { return []byte("an example key, not a secret"), nil },
	})
	if err != nil {
		panic(err)
	}
	return e
}

// Issue coupons to a file of customers: with at most 3 coupons per
// customer, four rows for one customer issue three and reject the fourth.
// Rejected rows are streamed as CSV, ready to download.
func ExampleIssueFile() {
	ctx := context.Background()
	e := exampleEngine()
	_, err := e.CreateSeries(ctx, series.Series{
		ID: "spring", Name: "Spring sale", TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 3}},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	})
	if err != nil {
		panic(err)
	}
	file := "customer_id,mobile,email\n" +
		"alice,,\n" +
		",+4470000001,\n" + // alice again, by mobile
		"alice,,\n" +
		"alice,,\n" +
		",,bob@example.com\n" +
		"=1+2,,\n" // formula-like cells are neutralised in CSV
	var issues strings.Builder
	rep, err := bulk.IssueFile(ctx, e, "spring", strings.NewReader(file), bulk.Options{Issues: &issues})
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)
	fmt.Print(issues.String())
	// Output:
	// issue file, series spring: 6 rows, 4 issued, 2 rejected
	// row 4 (line 5) alice: 1221 This customer has received the most coupons of this offer allowed (3).
	// row 6 (line 7) =1+2: 1004 unknown customer: no customer =1+2
	// row,line,identifier,coupon_code,error_code,reason
	// 4,5,alice,,1221,1221 This customer has received the most coupons of this offer allowed (3).
	// 6,7,'=1+2,,1004,unknown customer: no customer =1+2
}

// Upload codes, some for customers, and revoke one customer's coupons.
func ExampleUploadFile() {
	ctx := context.Background()
	e := exampleEngine()
	_, err := e.CreateSeries(ctx, series.Series{
		ID: "partner", Name: "Partner codes", TimeZone: "UTC",
		Source:   series.Source{Kind: series.Uploaded, WithCustomers: true},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	})
	if err != nil {
		panic(err)
	}
	up := "code,customer_id\nBLOG-1,alice\nBLOG-2,alice\nBLOG-3,\nBL*G-4,bob\n"
	rep, err := bulk.UploadFile(ctx, e, "partner", strings.NewReader(up), bulk.Options{Actor: "ops"})
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)

	rep, err = bulk.RevokeFile(ctx, e, "partner", strings.NewReader("mobile\n+4470000001\n"), bulk.Options{Actor: "ops"})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep)
	// Output:
	// upload file, series partner: 4 rows, 3 accepted, 1 rejected; 3 codes added, 0 already in the series
	// row 4 (line 5) bob code BL*G-4: 1402 invalid code: code "BL*G-4" is empty or has characters other than letters, digits, '-' and '_'
	// revoke file, series partner: 1 rows, 1 revoked, 0 rejected; 2 coupons revoked
}

// Keep an audience list from files: a series that issues to listed
// customers only, a file that adds them, and one that removes some.
func ExampleAddAudienceFile() {
	ctx := context.Background()
	e := exampleEngine()
	_, err := e.CreateSeries(ctx, series.Series{
		ID: "vip", Name: "VIP offer", TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{AudienceOnly: true}},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	})
	if err != nil {
		panic(err)
	}
	add := "customer_id,mobile,email\nalice,,\n,,bob@example.com\n,+4470000001,\ncarl,,\n"
	rep, err := bulk.AddAudienceFile(ctx, e, "vip", strings.NewReader(add), bulk.Options{Actor: "crm"})
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)

	rep, err = bulk.RemoveAudienceFile(ctx, e, "vip", strings.NewReader("customer_id\nbob\nbob\n"), bulk.Options{Actor: "crm"})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep)
	page, err := e.ListAudience(ctx, couponkit.AudienceListRequest{SeriesID: "vip"})
	if err != nil {
		panic(err)
	}
	for _, m := range page.Members {
		fmt.Println("member:", m.Customer)
	}
	// Output:
	// audience add file, series vip: 4 rows, 2 added, 1 already on the list, 1 rejected
	// row 4 (line 5) carl: 1004 unknown customer: no customer carl
	// audience remove file, series vip: 2 rows, 1 removed, 1 not on the list, 0 rejected
	// member: alice
}
