// Command quickstart is couponkit's main job in one run, on an embedded
// SQLite file: it creates a series with real limits, issues coupons,
// redeems one at a till, shows a refused redemption with its reasons,
// reverses a redemption, revokes a coupon, and prints what happened.
//
//	go run ./examples/quickstart
//
// The database is a file in a temporary directory, removed at the end; pass
// -db to keep it somewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

func main() {
	db := flag.String("db", "", "SQLite file to use (default: a temporary file, removed at exit)")
	flag.Parse()
	path := *db
	if path == "" {
		dir, err := os.MkdirTemp("", "couponkit-quickstart")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "coupons.db")
	}
	// The demo's clock starts on a Wednesday at noon in Berlin.
	start := time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)
	if err := run(context.Background(), os.Stdout, path, start); err != nil {
		log.Fatal(err)
	}
}

// run does the whole demo against the SQLite file at path, with a clock that
// starts at start and advances as the story needs, writing a transcript
// to w.
func run(ctx context.Context, w io.Writer, path string, start time.Time) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}

	now := start
	engine, err := couponkit.New(couponkit.Config{
		Store: st,
		Now:   func() time.Time { return now },
		// The secret that makes this series' codes unguessable; keep a real
		// one in your secret store.
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("quickstart demo key, not secret"), nil },
	})
	if err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// 1. A series: 15% off, at most 20 EUR, on bills of 40 EUR or more, in
	// the north zone's stores, Monday to Saturday, once per customer, a
	// thousand redemptions in all; codes of 8 confusion-free characters with
	// a check character, valid 14 days from issue.
	s, err := engine.CreateSeries(ctx, series.Series{
		Name:     "Winter 15%",
		TimeZone: "Europe/Berlin",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree, CheckChar: true, Prefix: "W"},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1, MaxTotal: 5000}},
		Redemption: limits.RedemptionRules{
			MaxPerSeries: 1000,
			Weekdays:     limits.WeekdaysOf(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday),
			Places:       limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Zone, ID: "north"}),
			MinBill:      decimal.NewNullDecimal(decimal.NewFromInt(40)),
		},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 14},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(15), Cap: decimal.NewNullDecimal(decimal.NewFromInt(20)), Currency: "EUR"},
	})
	if err != nil {
		return err
	}
	say("series %q created: 15%% off (max 20 EUR), bills >= 40 EUR, zone north, Mon-Sat, once per customer", s.Name)

	// 2. Issue a coupon to three customers; a second one to Ana is refused.
	codes := map[string]string{}
	for _, who := range []string{"ana", "ben", "cleo"} {
		res, err := engine.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(who), Actor: "crm"})
		if err != nil {
			return err
		}
		codes[who] = res.Coupon.Code
		say("issued %s to %-4s expires %s", res.Coupon.Code, who, res.Coupon.ExpiresAt.Format(time.RFC3339))
	}
	if _, err := engine.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("ana")}); err != nil {
		say("second coupon for ana refused:%s", reasons(err))
	}

	// 3. Ana redeems at a till of store 12 in the north zone; the cashier
	// typed the code in lower case, which is fine.
	till := limits.Place{Till: "till-3", Store: "store-12", Zone: "north"}
	bill := series.Money{Amount: decimal.RequireFromString("86.40"), Currency: "EUR"}
	r, err := engine.Redeem(ctx, couponkit.RedeemRequest{
		Code: lower(codes["ana"]), Customer: couponkit.ByID("ana"), IdempotencyKey: "pos-1001", Bill: bill, Place: till, Actor: "till-3"})
	if err != nil {
		return err
	}
	say("ana redeemed %s on a bill of %s: discount %s, coupon now %s", r.Coupon.Code, bill, r.Discount, r.Coupon.State)

	// The till lost the answer and sends the same transaction again.
	again, err := engine.Redeem(ctx, couponkit.RedeemRequest{
		Code: codes["ana"], Customer: couponkit.ByID("ana"), IdempotencyKey: "pos-1001", Bill: bill, Place: till})
	if err != nil {
		return err
	}
	say("the till retried pos-1001: replayed=%v, same redemption=%v", again.Replayed, again.Redemption.ID == r.Redemption.ID)

	// 4. Ben tries in the south zone on a Sunday with a small bill: every
	// reason is reported.
	now = now.Add(4 * 24 * time.Hour) // Sunday
	_, err = engine.Redeem(ctx, couponkit.RedeemRequest{
		Code: codes["ben"], Customer: couponkit.ByID("ben"), IdempotencyKey: "pos-2001",
		Bill: series.Money{Amount: decimal.RequireFromString("12.00"), Currency: "EUR"}, Place: limits.Place{Till: "till-1", Store: "store-40", Zone: "south"}})
	say("ben refused:%s", reasons(err))

	// 5. Ana returns her order: the redemption is reversed and her coupon is
	// usable again.
	rev, err := engine.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: codes["ana"], IdempotencyKey: "pos-1001"}, Actor: "store-12", Reason: "order returned"})
	if err != nil {
		return err
	}
	say("pos-1001 reversed: coupon %s is %s again (reversed=%v)", rev.Coupon.Code, rev.Coupon.State, rev.Coupon.Reversed)

	// 6. Cleo's coupon was leaked: revoke it; redeeming it is refused.
	res, err := engine.Revoke(ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{codes["cleo"]}, Actor: "fraud-desk", Reason: "leaked"})
	if err != nil {
		return err
	}
	say("revoked %d of %d: %s (holder %s)", len(res.Revoked), res.Total, res.Revoked[0].Code, res.Revoked[0].Holder)
	now = now.Add(24 * time.Hour) // Monday
	_, err = engine.Redeem(ctx, couponkit.RedeemRequest{Code: codes["cleo"], Customer: couponkit.ByID("cleo"), IdempotencyKey: "pos-3001", Bill: bill, Place: till})
	say("cleo refused:%s", reasons(err))

	// 7. The series' totals and Ana's history.
	cs, err := engine.Counters(ctx, s.ID)
	if err != nil {
		return err
	}
	say("series totals: issued %d, redemptions %d, remaining redemptions %d", cs.Issued, cs.Uses, cs.RemainingUses)
	hist, err := engine.CustomerHistory(ctx, couponkit.ByID("ana"), s.ID)
	if err != nil {
		return err
	}
	for _, ev := range hist {
		say("  ana's history: %-8s by %-8s %s", ev.Kind, ev.Actor, ev.Reason)
	}
	return nil
}

// reasons renders a refusal as a till would show it: each refusal on a line
// of its own, with its stable code and its message for the cashier; any
// other error as it is.
func reasons(err error) string {
	var refused *refusal.Error
	if !errors.As(err, &refused) {
		return " " + err.Error()
	}
	var b strings.Builder
	for _, r := range refused.Refusals {
		fmt.Fprintf(&b, "\n    %d %s", r.Code, r.Message)
	}
	return b.String()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
