package till_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/till"
)

// exampleJournal is a journal in memory holding series s1 (each code at
// most once) and a lease of 5 uses of it, all of which may be unverified.
func exampleJournal(ctx context.Context) (*till.Journal, *sql.DB) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	j, err := till.Open(ctx, db, 2*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	s := series.Series{ID: "s1", Name: "5 EUR off", TimeZone: "UTC",
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCode: 1},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"}}
	if err := j.PutSeries(ctx, s); err != nil {
		log.Fatal(err)
	}
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: 5}, End: at.Add(time.Hour)}, at)
	if err != nil {
		log.Fatal(err)
	}
	l.Allowance = 5
	if err := j.PutLease(ctx, l); err != nil {
		log.Fatal(err)
	}
	return j, db
}

// A sale is given back: the reversal is an entry of its own, written with
// the till's own record of the refund, and the code may be used again.
func ExampleJournal_Reverse() {
	ctx := context.Background()
	j, db := exampleJournal(ctx)
	defer db.Close()
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	sale := till.Use{Key: "pos-1001", SeriesID: "s1", Code: "summer5", Customer: "alice", Bill: "40.00", Currency: "EUR", At: at}
	if _, err := j.Redeem(ctx, sale, nil); err != nil {
		log.Fatal(err)
	}
	again := sale
	again.Key = "pos-1002"
	_, err := j.Redeem(ctx, again, nil)
	fmt.Println("used twice:", errors.Is(err, errcode.ErrRedeemed))

	if _, err := db.Exec(`CREATE TABLE refund (sale TEXT)`); err != nil {
		log.Fatal(err)
	}
	r, err := j.Reverse(ctx, till.Reversal{Key: "pos-1001-refund", Reverses: "pos-1001", At: at.Add(time.Minute)},
		func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO refund (sale) VALUES ('pos-1001')`)
			return err
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reversal:", r.Key, "gives back", r.Reverses, "of code", r.Code)
	_, err = j.Redeem(ctx, again, nil)
	fmt.Println("used again:", err == nil)
	left, _ := j.Left(ctx, "l1")
	fmt.Println("uses left on the lease:", left)
	// Output:
	// used twice: true
	// reversal: pos-1001-refund gives back pos-1001 of code SUMMER5
	// used again: true
	// uses left on the lease: 3
}

// down is a central whose online redemption is unreachable.
type down struct{ till.Local }

func (down) RedeemAtTill(context.Context, couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	return couponkit.TillRedeemResult{}, errors.New("dial tcp: connection refused")
}

// A till redeems online while the central answers, and from its journal,
// under the same key, when it does not; the next sync reports the
// offline use.
func ExampleTill_Redeem() {
	ctx := context.Background()
	now := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	e, err := couponkit.New(couponkit.Config{Store: memstore.New(), Now: func() time.Time { return now },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("keep this secret"), nil }})
	if err != nil {
		log.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "10 EUR off", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Redemption: limits.RedemptionRules{MaxPerSeries: 1000}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		log.Fatal(err)
	}
	var codes []string
	for _, c := range []string{"alice", "bob"} {
		is, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(c)})
		if err != nil {
			log.Fatal(err)
		}
		codes = append(codes, is.Coupon.Code)
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	j, err := till.Open(ctx, db, 2*time.Minute, till.WithTill("till-1"))
	if err != nil {
		log.Fatal(err)
	}
	up := till.Local{Engine: e}
	newTill := func(central till.Central) *till.Till {
		t, err := till.New(till.Config{ID: "till-1", Journal: j, Central: central, Now: func() time.Time { return now },
			Series: []string{s.ID}, Size: func(lease.SizeInput) int64 { return 20 }})
		if err != nil {
			log.Fatal(err)
		}
		return t
	}
	online, offline := newTill(up), newTill(down{up})
	if _, err := online.Sync(ctx); err != nil { // a lease, the series' rules and its codes' states
		log.Fatal(err)
	}
	r, err := online.Redeem(ctx, till.Sale{Key: "pos-1", SeriesID: s.ID, Code: codes[0], Customer: "alice", Bill: "60"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice: online %v\n", r.Online)
	r, err = offline.Redeem(ctx, till.Sale{Key: "pos-2", SeriesID: s.ID, Code: codes[1], Customer: "bob", Bill: "60"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("bob: online %v, verified %v\n", r.Online, r.Entry.Verified)
	rep, err := online.Sync(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded:", rep.Uploaded)
	// Output:
	// alice: online true
	// bob: online false, verified true
	// uploaded: 1
}
