package sqlstore

import (
	"strings"
)

// queries is one dialect's SQL. Both dialects take $1, $2, ... parameters
// (SQLite reads $N as the N-th argument), so most statements are shared;
// the differences are kept here, and the Go logic is the same for both.
type queries struct {
	// big casts a parameter compared with integers ("::bigint" on
	// PostgreSQL, whose parameter types are inferred from their first use).
	big string
	// small, text and boolean cast parameters whose type PostgreSQL cannot
	// infer, such as those of a SELECT list feeding an INSERT.
	small, text, boolean string

	seriesGet, seriesVersion, seriesList, seriesListStatus, seriesListPlace, seriesListPlaceStatus string
	seriesInsert, seriesUpdate, placesDelete, placeInsert                                          string

	couponGet, couponsByCode, couponsByCodeSeries string
	couponInsert, couponUpdate, couponIndexed     string
	couponUpdateUsual, couponUpdateUsualSet       string

	redemptionGet, redemptionByKey string
	redemptionInsert               string
	redemptionUpdate               string

	eventInsert string

	counterBump, counterUndo, counterRewind, counterGet string

	inAudience, audienceInsert string

	seqGet, seqAdvance, seqStart string
}

func queriesFor(d Dialect) *queries {
	q := &queries{}
	if d == Postgres {
		q.big, q.small, q.text, q.boolean = "::bigint", "::smallint", "::text", "::boolean"
	}
	b := q.big
	const seriesSel = "SELECT s.id, s.version, s.doc FROM ck_series s"
	q.seriesGet = "SELECT version, doc FROM ck_series WHERE id = $1"
	q.seriesVersion = "SELECT version FROM ck_series WHERE id = $1"
	q.seriesList = seriesSel + " ORDER BY s.id"
	q.seriesListStatus = seriesSel + " WHERE s.status = $1 ORDER BY s.id"
	const byPlace = " JOIN ck_series_places p ON p.series_id = s.id AND p.kind = $1 AND p.place_id = $2"
	q.seriesListPlace = seriesSel + byPlace + " ORDER BY s.id"
	q.seriesListPlaceStatus = seriesSel + byPlace + " WHERE s.status = $3 ORDER BY s.id"
	q.seriesInsert = "INSERT INTO ck_series (id, status, version, doc) VALUES ($1, $2, $3, $4)"
	q.seriesUpdate = "UPDATE ck_series SET status = $2, version = $3, doc = $4 WHERE id = $1 AND version = $5"
	q.placesDelete = "DELETE FROM ck_series_places WHERE series_id = $1"
	q.placeInsert = "INSERT INTO ck_series_places (kind, place_id, series_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"

	q.couponGet = "SELECT " + couponCols + " FROM ck_coupons WHERE id = $1"
	q.couponsByCode = "SELECT " + couponCols + " FROM ck_coupons WHERE canonical = $1 ORDER BY id"
	q.couponsByCodeSeries = "SELECT " + couponCols + " FROM ck_coupons WHERE canonical = $1 AND series_id = $2 ORDER BY id"
	q.couponInsert = "INSERT INTO ck_coupons (" + couponCols + ") VALUES " + placeholders(1, nCouponCols)
	q.couponUpdate = "UPDATE ck_coupons SET series_id = $2, code = $3, canonical = $4, shared = $5, state = $6, " +
		"holder = $7, created_at = $8, issued_at = $9, expires_at = $10, redemptions = $11, holds = $12, " +
		"reversed = $13, last_status_change = $14, reissued_from = $15, reissued_to = $16, version = $17, " +
		"slot = $18, issue_key = $19 WHERE id = $1 AND version = $20"

	// SQLite's coupon updates (see updateCouponSQLite): the columns an
	// update names always ($2..$13; $14 is the expected version), and the
	// usual update, which requires the other indexed columns unchanged
	// ($15..$20).
	q.couponUpdateUsualSet = "code = $2, shared = $3, created_at = $4, issued_at = $5, redemptions = $6, holds = $7, " +
		"reversed = $8, last_status_change = $9, reissued_from = $10, reissued_to = $11, version = $12, state = $13"
	q.couponUpdateUsual = "UPDATE ck_coupons SET " + q.couponUpdateUsualSet + " WHERE id = $1 AND version = $14 AND " +
		"series_id = $15 AND canonical = $16 AND slot = $17 AND holder = $18 AND expires_at IS $19 AND issue_key IS $20"
	q.couponIndexed = "SELECT version, series_id, canonical, slot, holder, expires_at, issue_key FROM ck_coupons WHERE id = $1"

	q.redemptionGet = "SELECT " + redemptionCols + " FROM ck_redemptions WHERE id = $1"
	q.redemptionByKey = "SELECT " + redemptionCols + " FROM ck_redemptions WHERE coupon_id = $1 AND idempotency_key = $2"
	q.redemptionInsert = "INSERT INTO ck_redemptions (" + redemptionCols + ") VALUES " + placeholders(1, nRedemptionCols)
	q.redemptionUpdate = "UPDATE ck_redemptions SET coupon_id = $2, series_id = $3, customer = $4, " +
		"idempotency_key = $5, status = $6, made_at = $7, hold_expires_at = $8, confirmed_at = $9, " +
		"released_at = $10, reversed_at = $11, loc_till = $12, loc_store = $13, loc_zone = $14, " +
		"loc_concept = $15, bill = $16, discount = $17, currency = $18 WHERE id = $1 AND status = $19"

	q.eventInsert = "INSERT INTO ck_events (" + eventCols + ") VALUES " + placeholders(1, nEventCols)

	// The counter guard, one upsert: a counter never bumped has no row and
	// is created by the insert (n = delta, last = at), which is what the
	// guard allows for n = 0 and no last bump; an existing row is locked
	// and the guard, the DO UPDATE's WHERE, is evaluated on its newest
	// version (after any lock wait, also under READ COMMITTED). So a
	// missing row never escapes the guard and no row is read and then
	// written. No row returned: the guard refused.
	//
	// $6 delta, $7 at, $8 limit (n must stay below it), $9 latest allowed
	// last bump.
	const key = "counter = $1 AND series_id = $2 AND code = $3 AND holder = $4 AND customer = $5"
	q.counterBump = "INSERT INTO ck_counters AS c (counter, series_id, code, holder, customer, n, last) " +
		"VALUES ($1, $2, $3, $4, $5, $6" + b + ", $7" + b + ") ON CONFLICT (counter, series_id, code, holder, customer) " +
		"DO UPDATE SET n = c.n + excluded.n, last = excluded.last " +
		"WHERE c.n < $8" + b + " AND (c.last IS NULL OR c.last <= $9" + b + ") RETURNING n, last"
	q.counterUndo = "UPDATE ck_counters SET n = n + $6" + b + " WHERE " + key +
		" AND n + $6" + b + " >= 0 RETURNING n, last"
	// A decrement that rewinds the last bump (store.Rewind): $7 and $8 the
	// count and last bump expected (NULL: none), $9 the new last bump.
	// No row: the counter is not as expected (or would go negative).
	notDistinct := " IS "
	if d == Postgres {
		notDistinct = " IS NOT DISTINCT FROM "
	}
	q.counterRewind = "UPDATE ck_counters SET n = n + $6" + b + ", last = $9" + b + " WHERE " + key +
		" AND n + $6" + b + " >= 0 AND n = $7" + b + " AND last" + notDistinct + "$8" + b + " RETURNING n, last"
	q.counterGet = "SELECT n, last FROM ck_counters WHERE " + key

	q.inAudience = "SELECT 1 FROM ck_audience WHERE series_id = $1 AND customer = $2"
	q.audienceInsert = "INSERT INTO ck_audience (series_id, customer) VALUES ($1, $2) ON CONFLICT DO NOTHING"

	// A sequence advance (store.SequenceAdvance): $1 series, $2 From, $3
	// To. It moves the row only when it stands at From: no row affected
	// means it did not. From 0 may find no row (a sequence never advanced),
	// which the upsert inserts; a row inserted meanwhile by another
	// transaction is locked and checked like an existing one.
	q.seqGet = "SELECT next FROM ck_sequences WHERE series_id = $1"
	q.seqAdvance = "UPDATE ck_sequences SET next = $3" + b + " WHERE series_id = $1 AND next = $2" + b
	q.seqStart = "INSERT INTO ck_sequences (series_id, next) VALUES ($1, $3" + b + ") " +
		"ON CONFLICT (series_id) DO UPDATE SET next = excluded.next WHERE ck_sequences.next = $2" + b
	return q
}

// placeholders returns "($from, ..., $from+n-1)".
func placeholders(from, n int) string {
	var b strings.Builder
	b.Grow(n * 4)
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(itoa(int64(from + i)))
	}
	b.WriteByte(')')
	return b.String()
}

// rowsPlaceholders returns rows groups of n placeholders, numbered from 1:
// $N on PostgreSQL, anonymous ? on SQLite, which looks a named or numbered
// parameter's name up in a list, making binding quadratic in the number
// of parameters.
func rowsPlaceholders(d Dialect, rows, n int) string {
	if d == SQLite {
		group := "(?" + strings.Repeat(", ?", n-1) + ")"
		return group + strings.Repeat(", "+group, rows-1)
	}
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(placeholders(1+r*n, n))
	}
	return b.String()
}
