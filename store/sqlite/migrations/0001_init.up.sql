-- +goose Up
-- couponkit schema, version 1, SQLite. Tables are STRICT: a value of the
-- wrong type is an error, not a silent conversion.
--
-- Times are INTEGER Unix nanoseconds (NULL for the zero time); decimals are
-- TEXT. Every table is prefixed ck_ so that the schema can live beside the
-- application's own tables.

CREATE TABLE ck_series (
	id      TEXT PRIMARY KEY,
	status  INTEGER NOT NULL CHECK (status BETWEEN 0 AND 255),
	version INTEGER NOT NULL CHECK (version >= 1),
	doc     TEXT NOT NULL CHECK (json_valid(doc))
) STRICT;

-- The redemption places of each series, for ListSeries by place.
CREATE TABLE ck_series_places (
	kind      INTEGER NOT NULL,
	place_id  TEXT NOT NULL,
	series_id TEXT NOT NULL REFERENCES ck_series (id) ON DELETE CASCADE,
	PRIMARY KEY (kind, place_id, series_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX ck_series_places_series ON ck_series_places (series_id);

CREATE TABLE ck_coupons (
	id                 TEXT PRIMARY KEY,
	series_id          TEXT NOT NULL REFERENCES ck_series (id),
	code               TEXT NOT NULL,
	canonical          TEXT NOT NULL CHECK (canonical <> ''),
	shared             INTEGER NOT NULL,
	state              INTEGER NOT NULL CHECK (state BETWEEN 1 AND 5),
	holder             TEXT NOT NULL,
	created_at         INTEGER,
	issued_at          INTEGER,
	expires_at         INTEGER,
	redemptions        INTEGER NOT NULL CHECK (redemptions >= 0),
	holds              INTEGER NOT NULL CHECK (holds >= 0),
	reversed           INTEGER NOT NULL,
	last_status_change INTEGER,
	reissued_from      TEXT NOT NULL,
	reissued_to        TEXT NOT NULL,
	version            INTEGER NOT NULL,
	-- store.Slot: the holder for a coupon of a shared code, else ''.
	slot               TEXT NOT NULL CHECK (slot = CASE WHEN shared <> 0 THEN holder ELSE '' END),
	-- The unique key (series, canonical code, slot), led by the code so that
	-- it also serves lookups of a code in every series.
	CONSTRAINT ck_coupons_key UNIQUE (canonical, series_id, slot)
) STRICT;

CREATE INDEX ck_coupons_series_state ON ck_coupons (series_id, state, id);
CREATE INDEX ck_coupons_holder ON ck_coupons (holder, id) WHERE holder <> '';
CREATE INDEX ck_coupons_expires ON ck_coupons (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE ck_redemptions (
	id              TEXT PRIMARY KEY,
	coupon_id       TEXT NOT NULL REFERENCES ck_coupons (id),
	series_id       TEXT NOT NULL,
	customer        TEXT NOT NULL,
	-- NULL when empty: only set keys are unique per coupon.
	idempotency_key TEXT CHECK (idempotency_key <> ''),
	status          INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
	made_at         INTEGER,
	hold_expires_at INTEGER,
	confirmed_at    INTEGER,
	released_at     INTEGER,
	reversed_at     INTEGER,
	loc_till        TEXT NOT NULL,
	loc_store       TEXT NOT NULL,
	loc_zone        TEXT NOT NULL,
	loc_concept     TEXT NOT NULL,
	bill            TEXT NOT NULL,
	discount        TEXT NOT NULL,
	currency        TEXT NOT NULL,
	CONSTRAINT ck_redemptions_key UNIQUE (coupon_id, idempotency_key)
) STRICT, WITHOUT ROWID;

-- Live holds only (direct redemptions are never indexed here): the
-- lapsed-hold sweep reads them by expiry, of one series or of all.
CREATE INDEX ck_redemptions_holds ON ck_redemptions (hold_expires_at) WHERE status = 1;

-- The append-only history, in seq order. The engine's event id is kept but
-- not indexed: nothing looks an event up by it, and the writes that must not
-- repeat are guarded by the coupons' and redemptions' own keys (a bulk batch
-- inserts the events of the coupons it inserts, and only those).
CREATE TABLE ck_events (
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL,
	kind          INTEGER NOT NULL,
	coupon_id     TEXT NOT NULL,
	series_id     TEXT NOT NULL,
	code          TEXT NOT NULL,
	customer      TEXT NOT NULL,
	actor         TEXT NOT NULL,
	happened_at   INTEGER,
	reason        TEXT NOT NULL,
	counterparty  TEXT NOT NULL,
	redemption_id TEXT NOT NULL,
	old_code      TEXT NOT NULL,
	new_code      TEXT NOT NULL,
	new_coupon_id TEXT NOT NULL,
	notify        INTEGER NOT NULL
) STRICT;

-- seq is the rowid, which every index entry ends with: these indexes are
-- ordered by seq within a coupon or a customer.
CREATE INDEX ck_events_coupon ON ck_events (coupon_id);
CREATE INDEX ck_events_customer ON ck_events (customer) WHERE customer <> '';

-- One row per counter and scope; code and customer are '' when not in the
-- counter's scope. A bump is one guarded upsert (see queries.go): it creates
-- the row of a counter never bumped, and otherwise updates it only if the
-- guard holds. Key strings are stored escaped (NUL as \0, \ as \\).
CREATE TABLE ck_counters (
	counter   INTEGER NOT NULL CHECK (counter > 0),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	customer  TEXT NOT NULL,
	n         INTEGER NOT NULL CHECK (n >= 0),
	last      INTEGER,
	PRIMARY KEY (counter, series_id, code, customer)
) STRICT, WITHOUT ROWID;

-- The next free index of each series' code sequence (Reserve).
CREATE TABLE ck_sequences (
	series_id TEXT PRIMARY KEY,
	next      INTEGER NOT NULL CHECK (next >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE ck_audience (
	series_id TEXT NOT NULL,
	customer  TEXT NOT NULL,
	PRIMARY KEY (series_id, customer)
) STRICT, WITHOUT ROWID;
