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
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// IssueBatch gives, request by request, the outcome Issue gives when the
// requests are made one after another, for any rules, customers, batch and
// idempotency keys (some shared within the batch), run once and run again,
// and moves the code sequence alike, a code space of 16 codes included.
func TestPropertyIssueBatchEqualsSequentialIssue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := series.Series{
			ID:       "batch-series", // the same id in both runs: the same codes
			Name:     "batch",
			TimeZone: "UTC",
			Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 3},
			Discount: series.Discount{Kind: series.Percent, Percent: decimalOf(10), Currency: "EUR"},
		}
		source := rapid.IntRange(0, 3).Draw(t, "source")
		switch source {
		case 0:
			cfg.Source = series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Alphanumeric}
		case 1:
			cfg.Source = series.Source{Kind: series.RandomizedCommon, Sample: "ABCDE12345"}
		case 2:
			cfg.Source = series.Source{Kind: series.Common, Code: "SHARED"}
		case 3:
			cfg.Source = series.Source{Kind: series.Generated, Length: 4, Alphabet: series.Custom, CustomAlphabet: "AB", MaxFill: 1}
		}
		if cfg.Source.Kind != series.Common {
			cfg.Issuance.IssuanceRules = limits.IssuanceRules{
				MaxPerCustomer: limits.Limit(rapid.IntRange(0, 3).Draw(t, "perCustomer")),
				MaxTotal:       limits.Limit(rapid.IntRange(0, 8).Draw(t, "total")),
				MinGap:         time.Duration(rapid.IntRange(0, 1).Draw(t, "gapHours")) * time.Hour,
			}
		}
		if source == 3 { // no maximum: let the requests run past the 16 codes
			cfg.Issuance.MaxPerCustomer, cfg.Issuance.MaxTotal = 0, 0
		}
		// Some customers hold a coupon of an excluding series, and some are
		// on the audience list.
		exclude := rapid.Bool().Draw(t, "exclude")
		priorHolders := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"a", "b", "c", "d"}), rapid.ID[string]).Draw(t, "priorHolders")
		audience := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"a", "b", "c", "d"}), rapid.ID[string]).Draw(t, "audience")
		if cfg.Source.Kind != series.Common {
			cfg.Issuance.AudienceOnly = rapid.Bool().Draw(t, "audienceOnly")
		}
		n := rapid.IntRange(1, 24).Draw(t, "requests")
		customers := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c", "", "d"}), n, n).Draw(t, "customers")
		keys := rapid.SliceOfN(rapid.SampledFrom([]string{"", "", "k1", "k2", "k3"}), n, n).Draw(t, "keys")
		reqs := make([]couponkit.IssueRequest, len(customers))

		run := func(batch bool) []string {
			st := memstore.New()
			e, err := couponkit.New(couponkit.Config{
				Store: st,
				Now:   func() time.Time { return time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC) },
				CodeKey: func(context.Context, string) ([]byte, error) {
					return []byte("an example key, not a secret"), nil
				},
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			cfg := cfg
			if exclude {
				prior, err := e.CreateSeries(bg, series.Series{
					ID: "prior-series", Name: "prior", TimeZone: "UTC",
					Source:   series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Alphanumeric},
					Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 3},
					Discount: series.Discount{Kind: series.Percent, Percent: decimalOf(10), Currency: "EUR"},
				})
				if err != nil {
					t.Fatalf("CreateSeries: %v", err)
				}
				for _, c := range priorHolders {
					if _, err := e.Issue(bg, couponkit.IssueRequest{SeriesID: prior.ID, Customer: couponkit.CustomerRef{ID: c}}); err != nil {
						t.Fatalf("Issue: %v", err)
					}
				}
				cfg.Issuance.ExcludeSeries, cfg.Issuance.ExcludeWithinMonths = []string{prior.ID, "never-issued"}, 1
			}
			s, err := e.CreateSeries(bg, cfg)
			if err != nil {
				t.Fatalf("CreateSeries: %v", err)
			}
			if err := st.AddAudience(bg, s.ID, audience); err != nil {
				t.Fatalf("AddAudience: %v", err)
			}
			for i, c := range customers {
				reqs[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.CustomerRef{ID: c}, IdempotencyKey: keys[i]}
			}
			var got []string
			for range 2 { // the same requests again: the keyed ones replay
				if batch {
					outs, err := e.IssueBatch(bg, reqs)
					if err != nil {
						t.Fatalf("IssueBatch: %v", err)
					}
					for _, o := range outs {
						got = append(got, describe(o.Result, o.Err))
					}
				} else {
					for _, r := range reqs {
						res, err := e.Issue(bg, r)
						got = append(got, describe(res, err))
					}
				}
			}
			c, err := e.Counters(bg, s.ID)
			if err != nil {
				t.Fatalf("Counters: %v", err)
			}
			next, err := st.NextIndex(bg, s.ID)
			if err != nil {
				t.Fatalf("NextIndex: %v", err)
			}
			return append(got, fmt.Sprintf("issued %d", c.Issued), fmt.Sprintf("code sequence at %d", next))
		}
		seq, batch := run(false), run(true)
		for i := range seq {
			if seq[i] != batch[i] {
				t.Fatalf("row %d: one by one %q, in a batch %q\nall one by one: %v\nall batched:    %v", i, seq[i], batch[i], seq, batch)
			}
		}
	})
}

// describe is an outcome as the comparison sees it: the holder and code of
// the coupon (codes are the same in both runs: same key, same series id
// order), whether it was replayed, or the error's codes.
func describe(r couponkit.IssueResult, err error) string {
	var d *refusal.Error
	switch {
	case errors.As(err, &d):
		return "denied " + d.Error()
	case err != nil:
		return fmt.Sprintf("error %d", errcode.CodeOf(err))
	}
	return fmt.Sprintf("issued %s %s %s replayed %v", r.Coupon.Holder, r.Coupon.Code, r.Coupon.State, r.Replayed)
}

var bg = context.Background()

func decimalOf(n int64) decimal.Decimal { return decimal.NewFromInt(n) }

// OnRemaining may itself issue from the series whose issue called it: the
// callback runs after the batch's change, with nothing of the series held.
func TestOnRemainingMayIssueFromABatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	var e *couponkit.Engine
	var extra []error
	e, err := couponkit.New(couponkit.Config{
		Store:   memstore.New(),
		Now:     func() time.Time { return time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC) },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("an example key, not a secret"), nil },
		OnRemaining: func(ctx context.Context, seriesID string, _ int64) {
			_, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.CustomerRef{ID: "notified"}})
			extra = append(extra, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := series.Series{Name: "notify", TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Alphanumeric},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 3},
		Discount: series.Discount{Kind: series.Percent, Percent: decimalOf(10), Currency: "EUR"}}
	cfg.Issuance.MaxTotal, cfg.Issuance.NotifyRemaining = 10, 5
	s, err := e.CreateSeries(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]couponkit.IssueRequest, 6)
	for i := range reqs {
		reqs[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.CustomerRef{ID: fmt.Sprintf("c%d", i)}}
	}
	if _, err := e.IssueBatch(ctx, reqs); err != nil {
		t.Fatalf("IssueBatch: %v", err)
	}
	if len(extra) != 1 || extra[0] != nil {
		t.Errorf("OnRemaining is called once and its issue succeeds: %v", extra)
	}
}
