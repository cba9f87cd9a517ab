package sqlcore

// The statements both dialects run as they are: both take $1, $2, ...
// parameters (SQLite reads $N as the N-th argument). The statements whose
// text differs are the dialects' own (Statements).

// The column lists, in the order of the encoders (codec.go).
const (
	// CouponCols are the coupon columns, in the order of EncodeCoupon.
	CouponCols = "id, series_id, code, canonical, shared, state, holder, created_at, issued_at, expires_at, " +
		"redemptions, holds, reversed, last_status_change, reissued_from, reissued_to, version, slot, issue_key"
	nCouponCols = 19
	// RedemptionCols are the redemption columns, in the order of redemptionArgs.
	redemptionCols = "id, coupon_id, series_id, customer, idempotency_key, status, made_at, hold_expires_at, " +
		"confirmed_at, released_at, reversed_at, loc_till, loc_store, loc_zone, loc_concept, bill, discount, currency, checkout"
	nRedemptionCols = 19
	// EventCols are the event columns, in the order of EncodeEvent.
	EventCols = "id, kind, coupon_id, series_id, code, customer, actor, happened_at, reason, counterparty, " +
		"redemption_id, old_code, new_code, new_coupon_id, notify, remaining, channel, returned, budget_back, use_back"
	nEventCols = 20
	// counterCols are the columns of a counter row.
	counterCols  = "counter, series_id, code, holder, customer, n, last"
	nCounterCols = 7
)

// The feed consumers' checkpoints (store.Checkpointer): a read by name,
// and an upsert of the position's two parts.
const (
	checkpointGet  = "SELECT hi, lo FROM ck_checkpoints WHERE consumer = $1"
	checkpointSave = "INSERT INTO ck_checkpoints (consumer, hi, lo) VALUES ($1, $2, $3) " +
		"ON CONFLICT (consumer) DO UPDATE SET hi = excluded.hi, lo = excluded.lo"
)

// CounterKeyWhere matches the counter whose key columns are $1 to $5
// (CounterKeyArgs): a dialect's counter statements use it.
const CounterKeyWhere = "counter = $1 AND series_id = $2 AND code = $3 AND holder = $4 AND customer = $5"

// Series.
const (
	seriesSel             = "SELECT s.id, s.version, s.doc FROM ck_series s"
	seriesByPlace         = " JOIN ck_series_places p ON p.series_id = s.id AND p.kind = $1 AND p.place_id = $2"
	seriesGet             = "SELECT version, doc FROM ck_series WHERE id = $1"
	seriesVersion         = "SELECT version FROM ck_series WHERE id = $1"
	seriesList            = seriesSel + " ORDER BY s.id"
	seriesListStatus      = seriesSel + " WHERE s.status = $1 ORDER BY s.id"
	seriesListPlace       = seriesSel + seriesByPlace + " ORDER BY s.id"
	seriesListPlaceStatus = seriesSel + seriesByPlace + " WHERE s.status = $3 ORDER BY s.id"
	seriesInsert          = "INSERT INTO ck_series (id, status, version, doc) VALUES ($1, $2, $3, $4)"
	seriesUpdate          = "UPDATE ck_series SET status = $2, version = $3, doc = $4 WHERE id = $1 AND version = $5"
	placesDelete          = "DELETE FROM ck_series_places WHERE series_id = $1"
	placeInsert           = "INSERT INTO ck_series_places (kind, place_id, series_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
)

// Coupons.
const (
	couponGet           = "SELECT " + CouponCols + " FROM ck_coupons WHERE id = $1"
	couponsByCode       = "SELECT " + CouponCols + " FROM ck_coupons WHERE canonical = $1 ORDER BY id"
	couponsByCodeSeries = "SELECT " + CouponCols + " FROM ck_coupons WHERE canonical = $1 AND series_id = $2 ORDER BY id"
	couponInsert        = "INSERT INTO ck_coupons (" + CouponCols + ") VALUES " +
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
	// couponInsertOrSkip inserts a coupon unless its id or a unique key is
	// taken; onConflictSkip and returningID end a multi-row insert so.
	couponInsertOrSkip = couponInsert + onConflictSkip
	onConflictSkip     = " ON CONFLICT DO NOTHING"
	returningID        = " RETURNING id"
	couponUpdate       = "UPDATE ck_coupons SET series_id = $2, code = $3, canonical = $4, shared = $5, state = $6, " +
		"holder = $7, created_at = $8, issued_at = $9, expires_at = $10, redemptions = $11, holds = $12, " +
		"reversed = $13, last_status_change = $14, reissued_from = $15, reissued_to = $16, version = $17, " +
		"slot = $18, issue_key = $19 WHERE id = $1 AND version = $20"
)

// Redemptions and events.
const (
	redemptionGet    = "SELECT " + redemptionCols + " FROM ck_redemptions WHERE id = $1"
	redemptionByKey  = "SELECT " + redemptionCols + " FROM ck_redemptions WHERE coupon_id = $1 AND idempotency_key = $2"
	redemptionInsert = "INSERT INTO ck_redemptions (" + redemptionCols + ") VALUES " +
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
	redemptionUpdate = "UPDATE ck_redemptions SET coupon_id = $2, series_id = $3, customer = $4, " +
		"idempotency_key = $5, status = $6, made_at = $7, hold_expires_at = $8, confirmed_at = $9, " +
		"released_at = $10, reversed_at = $11, loc_till = $12, loc_store = $13, loc_zone = $14, " +
		"loc_concept = $15, bill = $16, discount = $17, currency = $18, checkout = $19 WHERE id = $1 AND status = $20"
	eventInsert = "INSERT INTO ck_events (" + EventCols + ") VALUES " +
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
)

// Counters, sequences and audience lists.
const (
	// CounterGet reads the counter whose key is $1 to $5: n, last.
	CounterGet     = "SELECT n, last FROM ck_counters WHERE " + CounterKeyWhere
	seqGet         = "SELECT next FROM ck_sequences WHERE series_id = $1"
	inAudience     = "SELECT 1 FROM ck_audience WHERE series_id = $1 AND customer = $2"
	memberRemove   = "DELETE FROM ck_audience WHERE series_id = $1 AND customer = $2"
	memberAdd      = "INSERT INTO ck_audience (series_id, customer, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
	audienceSelect = "SELECT customer, added_at FROM ck_audience"
)

// Leases, the records of the tills' calls and their journal entries
// (store.LeaseStore): each kept whole as a JSON document beside the
// columns they are looked up, filtered and ordered by.
const (
	leaseCols       = "id, till, series_id, status, end_at, version, doc"
	leaseSel        = "SELECT version, doc FROM ck_leases"
	leaseGet        = leaseSel + " WHERE id = $1"
	leaseInsert     = "INSERT INTO ck_leases (" + leaseCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
	leaseUpdate     = "UPDATE ck_leases SET till = $2, series_id = $3, status = $4, end_at = $5, version = $6, doc = $7 WHERE id = $1 AND version = $8"
	leaseOpGet      = "SELECT doc FROM ck_lease_ops WHERE till = $1 AND key = $2"
	leaseOpInsert   = "INSERT INTO ck_lease_ops (till, key, doc) VALUES ($1, $2, $3)"
	tillEntrySel    = "SELECT doc FROM ck_till_entries"
	tillEntryGet    = tillEntrySel + " WHERE till = $1 AND key = $2"
	tillEntryInsert = "INSERT INTO ck_till_entries (till, key, lease_id, series_id, conflicts, reversed, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)"
	tillEntryUpdate = "UPDATE ck_till_entries SET conflicts = $5, reversed = $6, doc = $7 WHERE till = $1 AND key = $2 AND lease_id = $3 AND series_id = $4 AND reversed = $8"
)
