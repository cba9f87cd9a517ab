package series_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// A common-code series: "HOLIDAY20" may be redeemed by every customer
// twice, at most 1000 times in all. A common code has customer and series
// levels only, so a code level is refused.
func ExampleSeries_Validate() {
	s := series.Series{
		Name:     "Holiday sale",
		Status:   series.Active,
		Start:    time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC),
		End:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		TimeZone: "Asia/Kolkata",
		Source:   series.Source{Kind: series.Common, Code: "HOLIDAY20"},
		Redemption: limits.RedemptionRules{
			AnyoneMayRedeem: true,
			Repeat:          true,
			MaxPerCustomer:  2,
			MaxPerSeries:    1000,
		},
		Expiry:   series.Expiry{Kind: series.WithOffer},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20), Currency: "INR"},
	}
	fmt.Println("valid:", s.Validate() == nil)

	// A code level on a common code, a sample code on a source that takes
	// none, an unknown time zone and a percentage over 100 are reported all
	// at once.
	s.Redemption.MaxPerCode = 500
	s.TimeZone = "Asia/Bombay Beach"
	s.Discount.Percent = decimal.NewFromInt(120)
	s.Source.Sample = "AB"
	for _, e := range errcode.All(s.Validate()) {
		fmt.Printf("%s: %s\n", e.Field, e.Message)
	}
	// Output:
	// valid: true
	// TimeZone: unknown time zone "Asia/Bombay Beach"
	// Source.Sample: applies only to a randomized common code
	// Redemption.MaxPerCode: a common code has no code level; use the customer and series levels
	// Discount.Percent: 120 is outside (0, 100]
}

// A coupon issued on 12 November: N days from issue expire at the end of
// the day of issue plus N days, N month-ends at the end of the last day of
// the month of issue plus N months.
func ExampleSeries_ExpiresAt() {
	s := series.Series{TimeZone: "Asia/Kolkata"}
	loc, err := s.Location()
	if err != nil {
		panic(err)
	}
	issued := time.Date(2024, 11, 12, 15, 30, 0, 0, loc)
	for _, e := range []series.Expiry{
		{Kind: series.DaysFromIssue, N: 0},
		{Kind: series.DaysFromIssue, N: 1},
		{Kind: series.MonthEndsFromIssue, N: 0},
		{Kind: series.MonthEndsFromIssue, N: 1},
	} {
		s.Expiry = e
		exp := s.ExpiresAt(issued, loc)
		// The expiry is exclusive: the coupon is usable until the instant
		// before it, the last moment of the day the expiry names.
		fmt.Printf("%s %d: expires %s (last usable day %s)\n",
			e.Kind, e.N, exp.Format("2006-01-02 15:04 MST"), exp.Add(-time.Nanosecond).Format("2 Jan"))
	}

	// Never later than the offer's end.
	s.End = time.Date(2024, 12, 24, 0, 0, 0, 0, loc)
	fmt.Println("capped:", s.ExpiresAt(issued, loc).Format("2006-01-02 15:04 MST"))
	// Output:
	// days_from_issue 0: expires 2024-11-13 00:00 IST (last usable day 12 Nov)
	// days_from_issue 1: expires 2024-11-14 00:00 IST (last usable day 13 Nov)
	// month_ends_from_issue 0: expires 2024-12-01 00:00 IST (last usable day 30 Nov)
	// month_ends_from_issue 1: expires 2025-01-01 00:00 IST (last usable day 31 Dec)
	// capped: 2024-12-24 00:00 IST
}

// A series in euros applied to bills in dollars: the discount comes back in
// the bill's currency.
func ExampleDiscount_Apply() {
	rates := series.FixedRates{
		{From: "EUR", To: "USD"}: decimal.RequireFromString("1.0837"),
		{From: "USD", To: "EUR"}: decimal.RequireFromString("0.9228"),
	}
	bill := series.Money{Amount: decimal.RequireFromString("500.00"), Currency: "USD"}

	fixed := series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"}
	got, err := fixed.Apply(bill, rates)
	if err != nil {
		panic(err)
	}
	fmt.Println("5 EUR off:", got.Amount.StringFixed(2), got.Currency)

	capped := series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10),
		Cap: decimal.NewNullDecimal(decimal.NewFromInt(20)), Currency: "EUR"}
	got, err = capped.Apply(bill, rates)
	if err != nil {
		panic(err)
	}
	fmt.Println("10% up to 20 EUR:", got.Amount.StringFixed(2), got.Currency)

	// The bill in the series' currency, for the minimum and maximum bill.
	inEUR, err := capped.ConvertBill(bill, rates)
	if err != nil {
		panic(err)
	}
	fmt.Println("bill in EUR:", inEUR.StringFixed(2))

	_, err = fixed.Apply(series.Money{Amount: decimal.NewFromInt(100), Currency: "GBP"}, rates)
	fmt.Println(err)
	// Output:
	// 5 EUR off: 5.42 USD
	// 10% up to 20 EUR: 21.67 USD
	// bill in EUR: 461.40
	// couponkit: invalid argument (1002): Bill.Currency: no rate from EUR to GBP
}

// Reminders three days before a coupon's last valid day and on the day
// itself, at 10:00 in Berlin: on either side of the change to summer time
// they go out at 10:00 local time.
func ExampleReminder_DueAt() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s := series.Series{Expiry: series.Expiry{Kind: series.DaysFromIssue, N: 5}}
	expires := s.ExpiresAt(time.Date(2030, 3, 27, 12, 0, 0, 0, berlin), berlin) // last valid day: 1 April
	fmt.Println("expires:", expires)
	for _, r := range []series.Reminder{
		{DaysBefore: 3, At: series.At(10, 0), Channel: "email"},
		{DaysBefore: 0, At: series.At(10, 0), Channel: "sms"},
	} {
		due := r.DueAt(expires, berlin)
		fmt.Println(r.Channel, due, "=", due.UTC())
	}
	// Output:
	// expires: 2030-04-02 00:00:00 +0200 CEST
	// email 2030-03-29 10:00:00 +0100 CET = 2030-03-29 09:00:00 +0000 UTC
	// sms 2030-04-01 10:00:00 +0200 CEST = 2030-04-01 08:00:00 +0000 UTC
}
