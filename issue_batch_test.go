package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// IssueBatch, and IssueBatches over the requests cut into batches, give,
// request by request, the outcome Issue gives when the requests are made
// one after another, for any rules, customers, batches and idempotency
// keys (some shared within a batch and across batches), run once and run
// again, and move the code sequence alike, a code space of 16 codes
// included. IssueBatches, whose store takes a millisecond to write a
// change (so the next batch is read before the one before it is written),
// never has a write refused: what it reads alongside a write counts that
// write.
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
		cuts := rapid.SliceOfNDistinct(rapid.IntRange(1, n), 0, 4, rapid.ID[int]).Draw(t, "cuts")
		slices.Sort(cuts)
		reqs := make([]couponkit.IssueRequest, len(customers))

		const oneByOne, oneBatch, stream = 0, 1, 2
		run := func(mode int) []string {
			st := memstore.New()
			var ws store.Store = st
			var rec observe.Recorder
			if mode == stream {
				ws = slowWrites{st}
			}
			e, err := couponkit.New(couponkit.Config{
				Store:    ws,
				Observer: &rec,
				Now:      func() time.Time { return time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC) },
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
				switch mode {
				case oneBatch:
					outs, err := e.IssueBatch(bg, reqs)
					if err != nil {
						t.Fatalf("IssueBatch: %v", err)
					}
					for _, o := range outs {
						got = append(got, describe(o.Result, o.Err))
					}
				case stream:
					err := e.IssueBatches(bg, cutAt(reqs, cuts), func(outs []couponkit.IssueOutcome, err error) error {
						for _, o := range outs {
							got = append(got, describe(o.Result, o.Err))
						}
						return err
					})
					if err != nil {
						t.Fatalf("IssueBatches: %v", err)
					}
				default:
					for _, r := range reqs {
						res, err := e.Issue(bg, r)
						got = append(got, describe(res, err))
					}
				}
			}
			for _, r := range rec.Records() {
				if mode == stream && r.Op == observe.StoreApply && r.Outcome.Result != observe.OK {
					t.Fatalf("a write was refused (%v): a batch read alongside a write did not count it", r.Outcome.Err)
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
		seq := run(oneByOne)
		for _, mode := range []int{oneBatch, stream} {
			batch := run(mode)
			for i := range seq {
				if seq[i] != batch[i] {
					t.Fatalf("row %d: one by one %q, batched (%d) %q\nall one by one: %v\nall batched:    %v", i, seq[i], mode, batch[i], seq, batch)
				}
			}
		}
	})
}

// cutAt yields reqs cut before each index of cuts (ascending).
func cutAt(reqs []couponkit.IssueRequest, cuts []int) iter.Seq[[]couponkit.IssueRequest] {
	return func(yield func([]couponkit.IssueRequest) bool) {
		from := 0
		for _, c := range append(cuts, len(reqs)) {
			if c > from && !yield(reqs[from:c]) {
				return
			}
			from = max(from, c)
		}
	}
}

// slowWrites is a store that takes a millisecond to apply a change, as a
// database does, so that what is read meanwhile does not see it, and
// asks to be read ahead (store.ReadAhead).
type slowWrites struct{ store.Store }

func (slowWrites) ReadsAhead() bool { return true }

func (s slowWrites) Apply(ctx context.Context, ch *store.Change) error {
	time.Sleep(time.Millisecond)
	return s.Store.Apply(ctx, ch)
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
