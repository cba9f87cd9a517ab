package till_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/till"
)

// sale is one offline use in a table case.
type sale struct {
	code, customer string
	at             time.Time
	bill           string
}

func (s sale) use(key string) till.Use {
	bill := s.bill
	if bill == "" {
		bill = "50.00"
	}
	return till.Use{Key: key, SeriesID: "s1", Code: s.code, Customer: s.customer, Bill: bill, Currency: "EUR", At: s.at}
}

// TestOfflineRules: each rule the till judges alone refuses an offline
// use with the refusal the central gives (its code and rule), and a
// refused use writes nothing: no journal entry, no use of the lease.
func TestOfflineRules(t *testing.T) {
	eur := func(n int64) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.NewFromInt(n)) }
	cases := []struct {
		name  string
		rules func(*series.Series)
		prior []sale // allowed uses made first
		try   sale
		code  errcode.Code // 0: allowed
		rule  refusal.Rule
	}{
		{"series ended", func(s *series.Series) { s.Status = series.Ended }, nil,
			sale{"A", "alice", t0, ""}, errcode.SeriesExpired, refusal.SeriesEnded},
		{"series paused", func(s *series.Series) { s.Status = series.Paused }, nil,
			sale{"A", "alice", t0, ""}, errcode.SeriesPaused, refusal.SeriesPaused},
		{"series past its end", func(s *series.Series) { s.End = t0.Add(time.Minute) }, []sale{{"A", "alice", t0, ""}},
			sale{"A", "bob", t0.Add(time.Minute), ""}, errcode.SeriesExpired, ""},
		{"series not started", func(s *series.Series) { s.Start = t0.Add(time.Minute) }, nil,
			sale{"A", "alice", t0, ""}, errcode.SeriesPaused, refusal.SeriesNotStarted},
		{"redemption not started", func(s *series.Series) { s.Redemption.Start = t0.Add(time.Minute) }, nil,
			sale{"A", "alice", t0, ""}, limits.NotStarted.Code(), refusal.NotStarted},
		{"wrong weekday", func(s *series.Series) { s.Redemption.Weekdays = limits.WeekdaysOf(t0.Weekday() + 1) }, nil,
			sale{"A", "alice", t0, ""}, limits.WrongWeekday.Code(), refusal.WrongWeekday},
		{"wrong hour", func(s *series.Series) {
			s.Redemption.Hours = []limits.HourRange{{From: t0.Hour() + 1, To: t0.Hour() + 3}}
		}, nil,
			sale{"A", "alice", t0, ""}, limits.WrongHour.Code(), refusal.WrongHour},
		{"hours in the series' zone", func(s *series.Series) {
			s.TimeZone = "Asia/Tokyo" // UTC+9: t0's hour there is t0.Hour()+9
			s.Redemption.Hours = []limits.HourRange{{From: t0.Hour() + 9, To: t0.Hour() + 10}}
		}, nil, sale{"A", "alice", t0, ""}, 0, ""},
		{"bill below the minimum", func(s *series.Series) { s.Redemption.MinBill = eur(60) }, nil,
			sale{"A", "alice", t0, "59.99"}, limits.BillBelowMin.Code(), refusal.BillBelowMin},
		{"bill at the minimum", func(s *series.Series) { s.Redemption.MinBill = eur(60) }, nil,
			sale{"A", "alice", t0, "60"}, 0, ""},
		{"bill above the maximum", func(s *series.Series) { s.Redemption.MaxBill = eur(40) }, nil,
			sale{"A", "alice", t0, "40.01"}, limits.BillAboveMax.Code(), refusal.BillAboveMax},
		{"code level", func(s *series.Series) { s.Redemption.MaxPerCode = 2 }, []sale{{"A", "bob", t0, ""}, {"A", "carol", t0, ""}},
			sale{"A", "alice", t0, ""}, errcode.Redeemed, refusal.UsedUp},
		{"code level counts one code", func(s *series.Series) { s.Redemption.MaxPerCode = 2 }, []sale{{"A", "bob", t0, ""}, {"A", "carol", t0, ""}},
			sale{"B", "alice", t0, ""}, 0, ""},
		{"customer level", func(s *series.Series) { s.Redemption.MaxPerCustomer = 2 }, []sale{{"A", "alice", t0, ""}, {"A", "alice", t0, ""}},
			sale{"A", "alice", t0, ""}, limits.CustomerLimit.Code(), refusal.CustomerLimit},
		{"customer level counts one customer", func(s *series.Series) { s.Redemption.MaxPerCustomer = 2 }, []sale{{"A", "alice", t0, ""}, {"A", "alice", t0, ""}},
			sale{"A", "bob", t0, ""}, 0, ""},
		{"once per customer", func(s *series.Series) { s.Redemption.Repeat = false }, []sale{{"A", "alice", t0, ""}},
			sale{"A", "alice", t0, ""}, limits.RepeatNotAllowed.Code(), refusal.RepeatNotAllowed},
		{"gap between a customer's uses", func(s *series.Series) { s.Redemption.MinGap = 30 * time.Minute }, []sale{{"A", "alice", t0, ""}},
			sale{"B", "alice", t0.Add(29 * time.Minute), ""}, limits.RedemptionGap.Code(), refusal.RedemptionGap},
		{"gap passed", func(s *series.Series) { s.Redemption.MinGap = 30 * time.Minute }, []sale{{"A", "alice", t0, ""}},
			sale{"B", "alice", t0.Add(30 * time.Minute), ""}, 0, ""},
		{"series level by the till's uses", func(s *series.Series) { s.Redemption.MaxPerSeries = 2 }, []sale{{"A", "bob", t0, ""}, {"B", "carol", t0, ""}},
			sale{"C", "alice", t0, ""}, limits.SeriesLimit.Code(), refusal.SeriesLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
			const granted = 10
			grant(t, j, "l1", granted)
			s := permissive()
			tc.rules(&s)
			putSeries(t, j, s)
			for i, p := range tc.prior {
				if _, err := j.Redeem(ctx, p.use(fmt.Sprint("prior-", i)), nil); err != nil {
					t.Fatalf("prior use %d: %v", i, err)
				}
			}
			_, err := j.Redeem(ctx, tc.try.use("try"), nil)
			made := len(tc.prior)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				made++
			} else {
				checkRefusal(t, err, tc.code, tc.rule)
			}
			checkWritten(t, j, made, granted)
		})
	}
}

// checkRefusal checks that err is a *refusal.Error with a refusal of code
// (and of rule, unless empty) that explains itself.
func checkRefusal(t *testing.T, err error, code errcode.Code, rule refusal.Rule) {
	t.Helper()
	var re *refusal.Error
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *refusal.Error", err)
	}
	for _, r := range re.Refusals {
		if r.Code == code && (rule == "" || r.Rule == rule) {
			if r.Message == "" {
				t.Errorf("refusal %v has no message", r.Code)
			}
			return
		}
	}
	t.Fatalf("got %v, want code %v rule %q", err, code, rule)
}

// checkWritten checks that the journal holds made entries and the lease
// made uses less than granted.
func checkWritten(t *testing.T, j *till.Journal, made int, granted int64) {
	t.Helper()
	ctx := context.Background()
	es, err := j.Pending(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != made {
		t.Errorf("journal has %d entries, want %d", len(es), made)
	}
	left, err := j.Left(ctx, "l1")
	if err != nil {
		t.Fatal(err)
	}
	if left != granted-int64(made) {
		t.Errorf("lease has %d uses left, want %d", left, granted-int64(made))
	}
}

// TestRefusalParams: a level's refusal says the level and the till's own
// count of uses.
func TestRefusalParams(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	grant(t, j, "l1", 10)
	s := permissive()
	s.Redemption.MaxPerCode = 3
	putSeries(t, j, s)
	for i := range int(s.Redemption.MaxPerCode) {
		if _, err := j.Redeem(ctx, sale{"A", fmt.Sprint("c", i), t0, ""}.use(fmt.Sprint("k", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := j.Redeem(ctx, sale{"A", "alice", t0, ""}.use("over"), nil)
	var re *refusal.Error
	if !errors.As(err, &re) || len(re.Refusals) != 1 {
		t.Fatalf("got %v, want one refusal", err)
	}
	p := re.Refusals[0].Params
	if p.Limit != int64(s.Redemption.MaxPerCode) || p.Used != int64(s.Redemption.MaxPerCode) {
		t.Errorf("params limit %d used %d, want %d and %d", p.Limit, p.Used, s.Redemption.MaxPerCode, s.Redemption.MaxPerCode)
	}
}

// TestUnsyncedSeriesIsUnavailable: a till that never synced a series'
// configuration does not decide its uses, and writes nothing.
func TestUnsyncedSeriesIsUnavailable(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	l, err := lease.New(lease.Params{ID: "l2", Till: "till-1", SeriesID: "s2", Slice: lease.Slice{Uses: 5}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l.Allowance = 5
	if err := j.PutLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	u := use("k", t0)
	u.SeriesID = "s2"
	if _, err := j.Redeem(ctx, u, nil); !errors.Is(err, errcode.ErrUnavailable) {
		t.Fatalf("got %v, want unavailable", err)
	}
	if left, err := j.Left(ctx, "l2"); err != nil || left != 5 {
		t.Fatalf("left %d, %v; want 5", left, err)
	}
}

// TestPropertyTillKeepsCodeLevels: whatever the sequence of offline uses,
// a till never journals more uses of a code than its code level, nor of a
// code by one customer than the customer level, and refuses only with
// the refusal model.
func TestPropertyTillKeepsCodeLevels(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			rt.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		j, err := till.Open(ctx, db, skew)
		if err != nil {
			rt.Fatal(err)
		}
		s := permissive()
		s.Redemption.MaxPerCode = limits.Limit(rapid.Int64Range(1, 4).Draw(rt, "code level"))
		s.Redemption.MaxPerCustomer = limits.Limit(rapid.Int64Range(0, 3).Draw(rt, "customer level"))
		if err := j.PutSeries(ctx, s); err != nil {
			rt.Fatal(err)
		}
		l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: 100}, End: t0.Add(time.Hour)}, t0)
		if err != nil {
			rt.Fatal(err)
		}
		l.Allowance = 100
		if err := j.PutLease(ctx, l); err != nil {
			rt.Fatal(err)
		}
		n := rapid.IntRange(1, 25).Draw(rt, "uses")
		for i := range n {
			code := rapid.SampledFrom([]string{"A", "B", "C"}).Draw(rt, "code")
			cust := rapid.SampledFrom([]string{"x", "y", "z"}).Draw(rt, "customer")
			_, err := j.Redeem(ctx, sale{code, cust, t0.Add(time.Duration(i) * time.Second), ""}.use(fmt.Sprint("k", i)), nil)
			var re *refusal.Error
			if err != nil && !errors.As(err, &re) {
				rt.Fatalf("use %d: %v", i, err)
			}
		}
		es, err := j.Pending(ctx, 0, 1000)
		if err != nil {
			rt.Fatal(err)
		}
		perCode := map[string]int64{}
		perCust := map[[2]string]int64{}
		for _, e := range es {
			perCode[e.Code]++
			perCust[[2]string{e.Code, e.Customer}]++
		}
		for code, k := range perCode {
			if !s.Redemption.CodeLimit().Unlimited() && k > int64(s.Redemption.CodeLimit()) {
				rt.Fatalf("code %s journaled %d times, level %d", code, k, s.Redemption.CodeLimit())
			}
		}
		for cc, k := range perCust {
			if cl := s.Redemption.CustomerLimit(); !cl.Unlimited() && k > int64(cl) {
				rt.Fatalf("code %s by %s journaled %d times, level %d", cc[0], cc[1], k, cl)
			}
		}
	})
}
