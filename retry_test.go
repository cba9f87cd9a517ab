package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// refusing is memstore behind a database that refuses the next `left`
// write transactions as a whole: each write fails with a
// *store.ConflictError of Kind "transaction" and writes nothing, as a SQL
// store reports a serialization failure, a deadlock or a busy database.
type refusing struct {
	*memstore.Store
	mu     sync.Mutex
	left   int // refusals to come
	writes int // writes tried
}

func (r *refusing) refuse() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	if r.left > 0 {
		r.left--
		return &store.ConflictError{Kind: "transaction", ID: "could not serialize access"}
	}
	return nil
}

// arm refuses the next n writes and resets the count of writes tried.
func (r *refusing) arm(n int) {
	r.mu.Lock()
	r.left, r.writes = n, 0
	r.mu.Unlock()
}

func (r *refusing) tried() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

func (r *refusing) Apply(ctx context.Context, c *store.Change) error {
	if err := r.refuse(); err != nil {
		return err
	}
	return r.Store.Apply(ctx, c)
}

func (r *refusing) InsertCoupons(ctx context.Context, cs []coupon.Coupon, evs []coupon.Event) (int, error) {
	if err := r.refuse(); err != nil {
		return 0, err
	}
	return r.Store.InsertCoupons(ctx, cs, evs)
}

func (r *refusing) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	if err := r.refuse(); err != nil {
		return nil, err
	}
	return r.Store.UpdateWhere(ctx, f, u)
}

// The engine is the one owner of retries: every operation that writes runs
// its write again when the store refused the transaction as a whole, each
// time after one refusal more, up to Config.MaxAttempts tries in all; past
// them it reports the store's refusal, having written nothing.
func TestEngineRetriesRefusedTransactions(t *testing.T) {
	ctx := context.Background()
	const attempts = 5
	alice := couponkit.ByID("alice")
	for _, tc := range []struct {
		name string
		// op runs the operation; setup, when set, prepares what it needs.
		setup func(e *couponkit.Engine, s series.Series) any
		op    func(e *couponkit.Engine, s series.Series, v any) error
	}{
		{"CreateSeries", nil, func(e *couponkit.Engine, _ series.Series, _ any) error {
			_, err := e.CreateSeries(ctx, tenOff())
			return err
		}},
		{"UpdateSeries", nil, func(e *couponkit.Engine, s series.Series, _ any) error {
			s.Name = "renamed"
			_, err := e.UpdateSeries(ctx, s)
			return err
		}},
		{"Issue", nil, func(e *couponkit.Engine, s series.Series, _ any) error {
			_, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: alice})
			return err
		}},
		{"Redeem", func(e *couponkit.Engine, s series.Series) any {
			return must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: alice})).Coupon.Code
		}, func(e *couponkit.Engine, _ series.Series, code any) error {
			_, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: code.(string), Customer: alice, IdempotencyKey: "pos-1", Bill: eur("64.90")})
			return err
		}},
		{"Generate", nil, func(e *couponkit.Engine, s series.Series, _ any) error {
			_, err := e.Generate(ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 3})
			return err
		}},
		{"Upload", func(e *couponkit.Engine, _ series.Series) any {
			up := tenOff()
			up.Source = series.Source{Kind: series.Uploaded}
			return must(e.CreateSeries(ctx, up)).ID
		}, func(e *couponkit.Engine, _ series.Series, id any) error {
			_, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: id.(string), Rows: []couponkit.UploadRow{{Code: "UP-1"}}})
			return err
		}},
		{"ExpireDue", nil, func(e *couponkit.Engine, _ series.Series, _ any) error {
			_, err := e.ExpireDue(ctx)
			return err
		}},
		{"Revoke a series", nil, func(e *couponkit.Engine, s series.Series, _ any) error {
			_, err := e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: s.ID, Scope: couponkit.AllUnredeemed})
			return err
		}},
		{"AddAudience", nil, func(e *couponkit.Engine, s series.Series, _ any) error {
			_, err := e.AddAudience(ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: []couponkit.CustomerRef{alice}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, refusals := range []int{0, 1, attempts - 1, attempts} {
				st := &refusing{Store: memstore.New()}
				e, err := couponkit.New(couponkit.Config{Store: st, MaxAttempts: attempts,
					CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a test key"), nil }})
				if err != nil {
					t.Fatal(err)
				}
				s := must(e.CreateSeries(ctx, tenOff()))
				var v any
				if tc.setup != nil {
					v = tc.setup(e, s)
				}
				before := storeState(t, st.Store)
				st.arm(refusals)
				start := time.Now()
				err = tc.op(e, s, v)
				var ce *store.ConflictError
				switch {
				case refusals < attempts && err != nil:
					t.Errorf("%d refusals: %v, want the operation to succeed on try %d", refusals, err, refusals+1)
				case refusals == attempts && (!errors.As(err, &ce) || ce.Kind != "transaction" || errcode.CodeOf(err) != errcode.Conflict):
					t.Errorf("%d refusals: %v, want the store's refusal once the %d tries are spent", refusals, err, attempts)
				case refusals == attempts && storeState(t, st.Store) != before:
					t.Errorf("%d refusals: the store changed", refusals)
				}
				if got, want := st.tried(), min(refusals+1, attempts); got != want {
					t.Errorf("%d refusals: %d writes tried, want %d", refusals, got, want)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%d refusals took %v", refusals, d)
				}
			}
		})
	}
}

// storeState sums up what an operation may write: every series' name, every
// coupon's state and version, and the number of events.
func storeState(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	cs, err1 := st.ListCoupons(ctx, store.CouponQuery{})
	ss, err2 := st.ListSeries(ctx, store.SeriesQuery{})
	evs, err3 := st.Events(ctx, store.EventQuery{})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "series %s %q\n", s.ID, s.Name)
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "coupon %s %v %d\n", c.ID, c.State, c.Version)
	}
	fmt.Fprintf(&b, "%d events", len(evs))
	return b.String()
}

// racingMinter is memstore shared with another engine that, the next
// `left` times this engine applies a change minting codes, mints one code
// of the series first: each such change then loses the race for the
// sequence index it read.
type racingMinter struct {
	*memstore.Store
	mu   sync.Mutex
	left int
}

func (r *racingMinter) Apply(ctx context.Context, c *store.Change) error {
	r.mu.Lock()
	race := c.Sequence != nil && r.left > 0
	if race {
		r.left--
	}
	r.mu.Unlock()
	if race {
		adv := *c.Sequence
		adv.To = adv.From + 1
		if err := r.Store.Apply(ctx, &store.Change{Sequence: &adv}); err != nil {
			return err
		}
	}
	return r.Store.Apply(ctx, c)
}

// A lost mint race means another engine made progress, so the engine
// retries it well past Config.MaxAttempts: a goroutine of a busy engine may
// lose many in a row while its peers hold the series' mint lock.
func TestEngineOutlastsLostMintRaces(t *testing.T) {
	ctx := context.Background()
	const attempts, races = 3, 20
	st := &racingMinter{Store: memstore.New()}
	e, err := couponkit.New(couponkit.Config{Store: st, MaxAttempts: attempts,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a test key"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := must(e.CreateSeries(ctx, tenOff()))
	st.left = races
	if _, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")}); err != nil {
		t.Fatalf("Issue after %d lost mint races: %v", races, err)
	}
	if next, err := st.NextIndex(ctx, s.ID); err != nil || next != races+1 {
		t.Errorf("sequence at %d, %v; want the %d codes the other engine minted and this one's", next, err, races)
	}
	st.left = races
	if _, err := e.Generate(ctx, couponkit.GenerateRequest{SeriesID: s.ID, N: 3}); err != nil {
		t.Fatalf("Generate after %d lost mint races: %v", races, err)
	}
}
