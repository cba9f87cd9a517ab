package faults_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
)

// The audits read a series' rows with plain SQL on a connection of their
// own (never through a fault proxy), so that what they report is what the
// database holds, not what a store's reads make of it. The SQL is the
// same on SQLite and PostgreSQL.

// issueAudit is what a series of generated codes holds after issuing.
type issueAudit struct {
	coupons   int
	byKey     map[string][]string // idempotency key -> holders of its coupons
	idByKey   map[string]string   // idempotency key -> id of (one of) its coupons
	noKey     int                 // coupons issued without a key
	perHolder map[string]int
	codes     int // distinct codes
	// The counters: the series' issued count, and each customer's.
	seriesIssued   int64
	customerIssued map[string]int64
	// next is the series' code sequence: how many codes it minted.
	next int64
	// issuedEvents counts each coupon's Issued events.
	issuedEvents map[string]int
	couponIDs    map[string]bool
}

// auditIssues reads the audit of series sid from db.
func auditIssues(t testing.TB, db *sql.DB, sid string) issueAudit {
	t.Helper()
	a := issueAudit{byKey: map[string][]string{}, idByKey: map[string]string{}, perHolder: map[string]int{}, customerIssued: map[string]int64{},
		issuedEvents: map[string]int{}, couponIDs: map[string]bool{}}
	codes := map[string]bool{}
	each(t, db, "SELECT id, coalesce(issue_key, ''), holder, canonical FROM ck_coupons WHERE series_id = $1", []any{sid},
		func(r *sql.Rows) error {
			var id, key, holder, code string
			if err := r.Scan(&id, &key, &holder, &code); err != nil {
				return err
			}
			a.coupons++
			a.couponIDs[id] = true
			codes[code] = true
			a.perHolder[holder]++
			if key == "" {
				a.noKey++
			} else {
				a.byKey[key] = append(a.byKey[key], holder)
				a.idByKey[key] = id
			}
			return nil
		})
	a.codes = len(codes)
	each(t, db, "SELECT counter, customer, n FROM ck_counters WHERE series_id = $1 AND counter IN ($2, $3)",
		[]any{sid, int64(limits.SeriesIssued), int64(limits.CustomerIssued)}, func(r *sql.Rows) error {
			var counter, n int64
			var customer string
			if err := r.Scan(&counter, &customer, &n); err != nil {
				return err
			}
			if limits.Counter(counter) == limits.SeriesIssued {
				a.seriesIssued = n
			} else {
				a.customerIssued[customer] = n
			}
			return nil
		})
	each(t, db, "SELECT next FROM ck_sequences WHERE series_id = $1", []any{sid}, func(r *sql.Rows) error {
		return r.Scan(&a.next)
	})
	each(t, db, "SELECT coupon_id FROM ck_events WHERE series_id = $1 AND kind = $2", []any{sid, int64(coupon.EventIssued)},
		func(r *sql.Rows) error {
			var id string
			err := r.Scan(&id)
			a.issuedEvents[id]++
			return err
		})
	return a
}

// each runs query and calls f on each row.
func each(t testing.TB, db *sql.DB, query string, args []any, f func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// problems lists every way the audit differs from issuing each key of
// want (key -> customer) exactly once: one coupon per key, to its
// customer, no coupon without a key, the counters equal to the coupons,
// the code sequence equal to the codes minted, one Issued event per
// coupon. None means exactly once.
func (a *issueAudit) problems(want map[string]string) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	wantPer := map[string]int{}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		cust := want[key]
		wantPer[cust]++
		if hs := a.byKey[key]; len(hs) != 1 || hs[0] != cust {
			add("key %s: coupons for %v, want one for %s", key, hs, cust)
		}
	}
	for key, hs := range a.byKey {
		if _, ok := want[key]; !ok {
			add("key %s was not asked for, yet issued %d coupons", key, len(hs))
		}
	}
	if a.noKey > 0 {
		add("%d coupons issued without a key", a.noKey)
	}
	for cust, n := range a.perHolder {
		if n != wantPer[cust] {
			add("customer %s holds %d coupons, want %d", cust, n, wantPer[cust])
		}
		if a.customerIssued[cust] != int64(n) {
			add("customer %s: issued counter %d, coupons %d", cust, a.customerIssued[cust], n)
		}
	}
	if a.coupons != len(want) {
		add("%d coupons, want %d", a.coupons, len(want))
	}
	if a.seriesIssued != int64(a.coupons) {
		add("series issued counter %d, coupons %d", a.seriesIssued, a.coupons)
	}
	if a.next != int64(a.coupons) || a.codes != a.coupons {
		add("code sequence at %d, %d distinct codes, %d coupons: want all equal", a.next, a.codes, a.coupons)
	}
	for id := range a.couponIDs {
		if a.issuedEvents[id] != 1 {
			add("coupon %s has %d Issued events, want 1", id, a.issuedEvents[id])
		}
	}
	if len(a.issuedEvents) != len(a.couponIDs) {
		add("Issued events for %d coupons, want %d", len(a.issuedEvents), len(a.couponIDs))
	}
	return out
}

// redeemAudit is what a series holds after redeeming its coupons.
type redeemAudit struct {
	// byCoupon lists each coupon's redemption keys, as stored.
	byCoupon map[string][]string
	// count is each coupon's stored redemption count; holder and code
	// are its holder and canonical code.
	count          map[string]int
	holder, code   map[string]string
	redeemedEvents map[string]int
	counters       map[limits.Counter]map[[2]string]int64 // by (code, customer)
}

// auditRedemptions reads the redemption audit of series sid from db.
func auditRedemptions(t testing.TB, db *sql.DB, sid string) redeemAudit {
	t.Helper()
	a := redeemAudit{byCoupon: map[string][]string{}, count: map[string]int{}, holder: map[string]string{},
		code: map[string]string{}, redeemedEvents: map[string]int{}, counters: map[limits.Counter]map[[2]string]int64{}}
	each(t, db, "SELECT id, holder, canonical, redemptions FROM ck_coupons WHERE series_id = $1", []any{sid},
		func(r *sql.Rows) error {
			var id, holder, code string
			var n int
			err := r.Scan(&id, &holder, &code, &n)
			a.holder[id], a.code[id], a.count[id] = holder, code, n
			return err
		})
	each(t, db, "SELECT coupon_id, coalesce(idempotency_key, '') FROM ck_redemptions WHERE series_id = $1", []any{sid},
		func(r *sql.Rows) error {
			var id, key string
			err := r.Scan(&id, &key)
			a.byCoupon[id] = append(a.byCoupon[id], key)
			return err
		})
	each(t, db, "SELECT coupon_id FROM ck_events WHERE series_id = $1 AND kind = $2", []any{sid, int64(coupon.EventRedeemed)},
		func(r *sql.Rows) error {
			var id string
			err := r.Scan(&id)
			a.redeemedEvents[id]++
			return err
		})
	each(t, db, "SELECT counter, code, customer, n FROM ck_counters WHERE series_id = $1", []any{sid},
		func(r *sql.Rows) error {
			var counter, n int64
			var code, customer string
			err := r.Scan(&counter, &code, &customer, &n)
			c := limits.Counter(counter)
			if a.counters[c] == nil {
				a.counters[c] = map[[2]string]int64{}
			}
			a.counters[c][[2]string{code, customer}] = n
			return err
		})
	return a
}

// problems lists every way the audit differs from redeeming each coupon
// with exactly the keys of want (coupon id -> keys): each key once, the
// coupon's count, its Redeemed events and the four use counters equal to
// its redemptions. None means exactly once.
func (a *redeemAudit) problems(want map[string][]string) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	total := int64(0)
	perCustomer := map[string]int64{}
	for _, id := range slices.Sorted(maps.Keys(a.holder)) {
		got := slices.Sorted(slices.Values(a.byCoupon[id]))
		keys := slices.Sorted(slices.Values(want[id]))
		if !slices.Equal(got, keys) {
			add("coupon %s: redeemed with keys %v, want %v", id, got, keys)
		}
		n := len(got)
		total += int64(n)
		perCustomer[a.holder[id]] += int64(n)
		code, holder := a.code[id], a.holder[id]
		if a.count[id] != n || a.redeemedEvents[id] != n {
			add("coupon %s: %d redemptions stored, count %d, %d Redeemed events", id, n, a.count[id], a.redeemedEvents[id])
		}
		if c, cc := a.counters[limits.CodeUses][[2]string{code, ""}], a.counters[limits.CustomerCodeUses][[2]string{code, holder}]; c != int64(n) || cc != int64(n) {
			add("coupon %s: code uses %d, customer code uses %d, redemptions %d", id, c, cc, n)
		}
	}
	for cust, n := range perCustomer {
		if got := a.counters[limits.CustomerSeriesUses][[2]string{"", cust}]; got != n {
			add("customer %s: series uses %d, redemptions %d", cust, got, n)
		}
	}
	if got := a.counters[limits.SeriesUses][[2]string{"", ""}]; got != total {
		add("series uses %d, redemptions %d", got, total)
	}
	return out
}

// total is how many redemptions the series' coupons have.
func (a *redeemAudit) total() int {
	n := 0
	for _, keys := range a.byCoupon {
		n += len(keys)
	}
	return n
}
