package sqltest

import (
	"errors"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// storeCalls are one call of each kind a store and an engine over it make.
func storeCalls(s Store) map[string]func() error {
	eng, err := couponkit.New(couponkit.Config{Store: s})
	return map[string]func() error{
		"Series":      func() error { _, err := s.Series(ctx, "s1"); return err },
		"ListCoupons": func() error { _, err := s.ListCoupons(ctx, store.CouponQuery{}); return err },
		"Counters": func() error {
			return s.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}}, make([]store.Count, 1))
		},
		"Apply": func() error {
			return s.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: NewSeries("s1")}})
		},
		"InsertCoupons": func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{Available("c1", "s1", "A1")}, nil)
			return err
		},
		"NextIndex": func() error { _, err := s.NextIndex(ctx, "s1"); return err },
		"UpdateWhere": func() error {
			_, err := s.UpdateWhere(ctx, store.CouponFilter{SeriesID: "s1"}, store.BulkUpdate{To: coupon.Revoked, At: t0})
			return err
		},
		"Engine.Issue": func() error {
			if err != nil {
				return err
			}
			_, err := eng.Issue(ctx, couponkit.IssueRequest{SeriesID: "s1", Customer: couponkit.ByID("alice")})
			return err
		},
	}
}

// testNotMigrated: a store whose database was never migrated says so, and
// says to run Migrate, on every call; not "unavailable ... no such table".
func testNotMigrated(t *testing.T, be Backend) {
	s := be.New(be.OpenDB(t))
	for name, call := range storeCalls(s) {
		err := call()
		var nm *sqlcore.NotMigratedError
		switch {
		case !errors.As(err, &nm):
			t.Errorf("%s: %v, want a *NotMigratedError", name, err)
		case !errors.Is(err, errcode.ErrInvalidConfig) || errors.Is(err, errcode.ErrUnavailable):
			t.Errorf("%s: %v (code %d), want InvalidConfig", name, err, errcode.CodeOf(err))
		case !strings.Contains(err.Error(), "Migrate") || nm.Database != be.Name || !strings.HasPrefix(nm.Table, "ck_"):
			t.Errorf("%s: %v (%+v) does not name the table and say to run Migrate", name, err, nm)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if _, err := s.NextIndex(ctx, "s1"); err != nil {
		t.Errorf("NextIndex after Migrate: %v", err)
	}
}
