package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// demoStart is when the demo's story begins: Monday 2 March 2026, 10:00 UTC.
var demoStart = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// writeDemo writes the demo's events into st, with a clock that starts at
// start: a series of n coupons that asks to be told when a quarter are
// left, issued in full, each with an expiry reminder two days before its
// last day that the sweep records when it comes due; and a series of
// one-day coupons, n/2 of them expired and reissued, every other one with
// a notification to its holder. That is 1 + n + n/4 notifications among
// about 3n events.
func writeDemo(ctx context.Context, st store.Store, n int, start time.Time) error {
	now := start
	e, err := couponkit.New(couponkit.Config{
		Store: st, Now: func() time.Time { return now },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("notifier demo key, not secret"), nil },
	})
	if err != nil {
		return err
	}
	spring, err := e.CreateSeries(ctx, demoSeries("Spring", 10, func(s *series.Series) {
		s.Issuance.MaxTotal = limits.Limit(n)
		s.Issuance.NotifyRemaining = int64(n / 4)
		s.Reminders = []series.Reminder{{DaysBefore: 2, At: series.At(9, 0), Channel: "sms"}}
	}))
	if err != nil {
		return err
	}
	daily, err := e.CreateSeries(ctx, demoSeries("Daily", 0, nil))
	if err != nil {
		return err
	}
	var codes []string
	for i := range n {
		if _, err := issue(ctx, e, spring.ID, i); err != nil {
			return err
		}
		if i%2 == 0 {
			c, err := issue(ctx, e, daily.ID, i)
			if err != nil {
				return err
			}
			codes = append(codes, c)
		}
	}
	now = now.Add(24 * time.Hour) // the daily coupons have expired
	for i, code := range codes {
		if _, err := e.Reissue(ctx, couponkit.ReissueRequest{Code: code, Notify: i%2 == 0, Actor: "support"}); err != nil {
			return err
		}
	}
	now = start.AddDate(0, 0, 9) // the Spring coupons' reminders are due
	_, err = e.SweepReminders(ctx, start)
	return err
}

// issue issues a coupon of the series to customer i and returns its code.
func issue(ctx context.Context, e *couponkit.Engine, seriesID string, i int) (string, error) {
	r, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(fmt.Sprintf("customer-%03d", i))})
	return r.Coupon.Code, err
}

// demoSeries is a generated series worth 5 EUR whose coupons are valid
// days days after the issue day.
func demoSeries(name string, days int, opt func(*series.Series)) series.Series {
	s := series.Series{
		Name: name, TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: days},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	}
	if opt != nil {
		opt(&s)
	}
	return s
}
