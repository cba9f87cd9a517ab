package main

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// sqlStore is what the program uses of couponkit's SQL stores.
type sqlStore interface {
	store.Store
	DB() *sql.DB
}

// ckSide is couponkit's contender on one store: the engine over it, and
// the statement counting a series' stored redemptions in its dialect.
type ckSide struct {
	db     string
	st     sqlStore
	e      *couponkit.Engine
	stored string
	seq    *atomic.Int64
}

// newCKSide returns couponkit's contender on st, a migrated store of
// database db ("postgres" or "sqlite"); seq numbers the series it makes,
// so that the codes of every series of the database differ.
func newCKSide(db string, st sqlStore, seq *atomic.Int64) (*ckSide, error) {
	e, err := couponkit.New(couponkit.Config{
		Store:   st,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("hotbench code key, not a secret"), nil },
	})
	if err != nil {
		return nil, err
	}
	p := "$1"
	if db == "sqlite" {
		p = "?1"
	}
	return &ckSide{db: db, st: st, e: e, seq: seq,
		stored: "SELECT count(*) FROM ck_redemptions WHERE series_id = " + p}, nil
}

// contender is couponkit's contender of the side.
func (c *ckSide) contender() contender {
	short := map[string]string{"postgres": "pg", "sqlite": "sqlite"}[c.db]
	return contender{name: short + " couponkit", db: c.db, couponkit: true,
		prepare: func(ctx context.Context, limit, n int) (*trial, error) { return c.prepare(ctx, hotSeries(limit), n) }}
}

// budgetContender is couponkit's contender of the side on a series with a
// money budget (budgetSeries), timed against the contender without one:
// its rates' ratio is budget ÷ no budget.
func (c *ckSide) budgetContender() contender {
	plain := c.contender()
	return contender{name: plain.name + ", budget", db: c.db, versus: plain.name,
		prepare: func(ctx context.Context, limit, n int) (*trial, error) { return c.prepare(ctx, budgetSeries(limit), n) }}
}

// hotBudget is the total budget of budgetSeries: far more than any run
// grants (a redemption takes 4 EUR, a run a few thousand of them), so
// that it is never reached and only its cost is measured.
var hotBudget = decimal.NewFromInt(1_000_000_000)

// budgetSeries is hotSeries(limit) with a total money budget of hotBudget:
// each redemption reads the series' budget counter and bumps it under its
// guard, beside the use counters.
func budgetSeries(limit int) series.Series {
	s := hotSeries(limit)
	s.Name = "hotbench budget"
	s.Budget = series.Budget{Total: decimal.NewNullDecimal(hotBudget)}
	return s
}

// hotSeries is an uploaded series whose coupons each redeem once, with at
// most limit redemptions in the series.
func hotSeries(limit int) series.Series {
	return series.Series{
		Name: "hotbench", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: limits.Limit(limit)},
	}
}

// prepare creates the series s and stores n coupons of it, each issued to
// a customer of its own, directly through InsertCoupons.
func (c *ckSide) prepare(ctx context.Context, s series.Series, n int) (*trial, error) {
	sr, err := c.e.CreateSeries(ctx, s)
	if err != nil {
		return nil, err
	}
	tag := "HB" + strconv.FormatInt(c.seq.Add(1), 10) + "X"
	if err := insertIssued(ctx, c.st, sr.ID, tag, n); err != nil {
		return nil, err
	}
	bill := series.Money{Amount: decimal.NewFromInt(40)}
	return &trial{
		attempt: func(ctx context.Context, i int) (bool, error) {
			k := strconv.Itoa(i)
			_, err := c.e.Redeem(ctx, couponkit.RedeemRequest{
				Code: tag + k, Customer: couponkit.ByID(tag + "c" + k), IdempotencyKey: "k",
				Bill: bill, Place: limits.Place{Till: "t1"},
			})
			if errors.Is(err, errcode.ErrLimitReached) {
				return false, nil
			}
			return err == nil, err
		},
		stored: func(ctx context.Context) (int64, error) {
			var n int64
			err := c.st.DB().QueryRowContext(ctx, c.stored, sr.ID).Scan(&n)
			return n, err
		},
	}, nil
}

// insertIssued stores n issued coupons of series sid, codes tag0.. held by
// customers tag+"c"+i, in chunks.
func insertIssued(ctx context.Context, st store.Store, sid, tag string, n int) error {
	const chunk = 5000
	at := time.Now()
	for from := 0; from < n; from += chunk {
		cs := make([]coupon.Coupon, 0, chunk)
		for i := from; i < min(from+chunk, n); i++ {
			k := strconv.Itoa(i)
			cs = append(cs, coupon.Coupon{ID: sid + "-" + k, SeriesID: sid, Code: tag + k, Canonical: tag + k,
				State: coupon.Issued, Holder: tag + "c" + k, CreatedAt: at, IssuedAt: at,
				ExpiresAt: at.Add(30 * 24 * time.Hour), LastStatusChange: at, Version: 2})
		}
		if _, err := st.InsertCoupons(ctx, cs, nil); err != nil {
			return err
		}
	}
	return nil
}
