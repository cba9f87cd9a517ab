package postgres_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
)

// TestCouponSeriesChecked checks, with statements couponkit never makes,
// that the triggers which took the place of ck_coupons' foreign key to
// ck_series keep what it kept, with its error: a statement inserting
// several coupons, one of a series that does not exist, inserts none; a
// coupon cannot be moved to such a series but can be moved to one that
// exists; a series with coupons can be neither deleted nor renamed, one
// without can.
func TestCouponSeriesChecked(t *testing.T) {
	db := openDB(t, 2)
	st := postgres.New(db)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO ck_series (id, status, version, doc) VALUES ('s1', 1, 1, '{"ID":"s1"}'), ('s2', 1, 1, '{"ID":"s2"}')`)
	if err := st.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{sqltest.Available("c1", "s1", "ABC")}}); err != nil {
		t.Fatal(err)
	}
	var row string
	if err := db.QueryRowContext(ctx, `SELECT to_jsonb(c)::text FROM ck_coupons c WHERE id = 'c1'`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, 2)
	for i, s := range [][3]string{{"c2", "s1", "DEF"}, {"c3", "missing", "GHI"}} {
		if err := json.Unmarshal([]byte(row), &rows[i]); err != nil {
			t.Fatal(err)
		}
		rows[i]["id"], rows[i]["series_id"], rows[i]["code"], rows[i]["canonical"] = s[0], s[1], s[2], s[2]
	}
	both, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO ck_coupons SELECT * FROM jsonb_populate_recordset(NULL::ck_coupons, $1::jsonb)`
	wantMissing(t, "two coupons, one of a missing series", exec(db, insert, string(both)))
	if n := count(t, db, `SELECT count(*) FROM ck_coupons`); n != 1 {
		t.Errorf("%d coupons after the refused insert, want the 1 before it", n)
	}
	wantMissing(t, "moving a coupon to a missing series", exec(db, `UPDATE ck_coupons SET series_id = 'missing' WHERE id = 'c1'`))
	mustExec(t, db, `UPDATE ck_coupons SET series_id = 's2' WHERE id = 'c1'`)
	wantMissing(t, "deleting a series with a coupon", exec(db, `DELETE FROM ck_series WHERE id = 's2'`))
	wantMissing(t, "renaming a series with a coupon", exec(db, `UPDATE ck_series SET id = 's3' WHERE id = 's2'`))
	mustExec(t, db, `UPDATE ck_series SET id = 's3' WHERE id = 's1'`)
	mustExec(t, db, `DELETE FROM ck_series WHERE id = 's3'`)
	if n := count(t, db, `SELECT count(*) FROM ck_series`); n != 1 {
		t.Errorf("%d series left, want s2 alone", n)
	}
}

func exec(db *sql.DB, q string, args ...any) error {
	_, err := db.ExecContext(ctx, q, args...)
	return err
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if err := exec(db, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantMissing fails t unless err is the foreign key violation the key
// raised, naming its constraint.
func wantMissing(t *testing.T, what string, err error) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23503" || pe.ConstraintName != "ck_coupons_series_id_fkey" {
		t.Errorf("%s: %v, want a foreign key violation of ck_coupons_series_id_fkey", what, err)
	}
}
