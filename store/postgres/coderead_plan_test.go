package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
)

// readTexts keeps the texts of the statements pgx sends that read
// coupons by code.
type readTexts struct {
	mu    sync.Mutex
	texts []string
}

func (r *readTexts) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM ck_coupons c") || strings.Contains(d.SQL, "ck_coupons c WHERE c.canonical") {
		r.mu.Lock()
		r.texts = append(r.texts, d.SQL)
		r.mu.Unlock()
	}
	return ctx
}
func (r *readTexts) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestCodeReadLooksCountersUp checks the plan PostgreSQL makes of a code
// read, alone and combined, as a generic plan (the one a prepared
// statement ends up with, made without the values): each counter is one
// lookup of ck_counters' primary key on all its columns, the coupon's
// series among them, not a scan of every series' counters of the customer
// filtered afterwards, and nothing is read by a sequential scan.
func TestCodeReadLooksCountersUp(t *testing.T) {
	rt := &readTexts{}
	db := openTraced(t, rt)
	counters := []store.CouponCounter{{Counter: limits.SeriesUses}, {Counter: limits.CustomerCodeUses, ByCode: true, Customer: "c1"}}
	for _, s := range []*postgres.Store{postgres.NewUncombined(db), postgres.New(db)} {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReadCode(ctx, "", "CODE1", counters, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(rt.texts) != 2 {
		t.Fatalf("%d code reads traced, want 2 (alone, combined): %q", len(rt.texts), rt.texts)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	for i, text := range rt.texts {
		name := "ck_read" + string(rune('a'+i))
		if _, err := conn.ExecContext(ctx, "PREPARE "+name+" AS "+text); err != nil {
			t.Fatalf("PREPARE %s: %v", text, err)
		}
		var params int
		if err := conn.QueryRowContext(ctx, "SELECT cardinality(parameter_types) FROM pg_prepared_statements WHERE name = $1", name).Scan(&params); err != nil {
			t.Fatal(err)
		}
		nulls := strings.TrimSuffix(strings.Repeat("NULL, ", params), ", ")
		rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE "+name+"("+nulls+")")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		checkCounterLookups(t, text, plan, len(counters))
	}
}

// checkCounterLookups fails t unless plan reads ck_counters by n index
// scans whose conditions name the coupon's series, with no join filter
// and no sequential scan.
func checkCounterLookups(t *testing.T, text string, plan []string, n int) {
	t.Helper()
	all := strings.Join(plan, "\n")
	scans := 0
	for i, line := range plan {
		if !strings.Contains(line, "on ck_counters") {
			continue
		}
		if !strings.Contains(line, "Index Scan") || i+1 == len(plan) || !strings.Contains(plan[i+1], "Index Cond") ||
			!strings.Contains(plan[i+1], "series_id = c.series_id") {
			t.Errorf("a counter is not looked up by its whole key: %q\nstatement: %s\nplan:\n%s", line, text, all)
		}
		scans++
	}
	if scans != n || strings.Contains(all, "Join Filter") || strings.Contains(all, "Seq Scan") {
		t.Errorf("%d lookups of ck_counters, want %d, with neither join filter nor sequential scan\nstatement: %s\nplan:\n%s", scans, n, text, all)
	}
}
