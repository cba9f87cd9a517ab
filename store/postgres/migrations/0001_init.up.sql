-- +goose Up
-- couponkit schema, version 1, PostgreSQL.
--
-- Times are BIGINT Unix nanoseconds (NULL for the zero time); decimals are
-- TEXT. Every table is prefixed ck_ so that the schema can live beside the
-- application's own tables.

CREATE TABLE ck_series (
	id      TEXT PRIMARY KEY,
	status  SMALLINT NOT NULL CHECK (status BETWEEN 0 AND 255),
	version BIGINT NOT NULL CHECK (version >= 1),
	doc     JSONB NOT NULL
);

-- The redemption places of each series, for ListSeries by place.
CREATE TABLE ck_series_places (
	kind      SMALLINT NOT NULL,
	place_id  TEXT NOT NULL,
	series_id TEXT NOT NULL REFERENCES ck_series (id) ON DELETE CASCADE,
	PRIMARY KEY (kind, place_id, series_id)
);

CREATE INDEX ck_series_places_series ON ck_series_places (series_id);

CREATE TABLE ck_coupons (
	id                 TEXT PRIMARY KEY,
	series_id          TEXT NOT NULL REFERENCES ck_series (id),
	code               TEXT NOT NULL,
	canonical          TEXT NOT NULL CHECK (canonical <> ''),
	shared             BOOLEAN NOT NULL,
	state              SMALLINT NOT NULL CHECK (state BETWEEN 1 AND 5),
	holder             TEXT NOT NULL,
	created_at         BIGINT,
	issued_at          BIGINT,
	expires_at         BIGINT,
	redemptions        INTEGER NOT NULL CHECK (redemptions >= 0),
	holds              INTEGER NOT NULL CHECK (holds >= 0),
	reversed           BOOLEAN NOT NULL,
	last_status_change BIGINT,
	reissued_from      TEXT NOT NULL,
	reissued_to        TEXT NOT NULL,
	version            BIGINT NOT NULL,
	-- store.Slot: the holder for a coupon of a shared code, else ''.
	slot               TEXT NOT NULL CHECK (slot = CASE WHEN shared THEN holder ELSE '' END),
	-- The unique key (series, canonical code, slot), led by the code so that
	-- it also serves lookups of a code in every series.
	CONSTRAINT ck_coupons_key UNIQUE (canonical, series_id, slot)
);

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
	status          SMALLINT NOT NULL CHECK (status BETWEEN 1 AND 4),
	made_at         BIGINT,
	hold_expires_at BIGINT,
	confirmed_at    BIGINT,
	released_at     BIGINT,
	reversed_at     BIGINT,
	loc_till        TEXT NOT NULL,
	loc_store       TEXT NOT NULL,
	loc_zone        TEXT NOT NULL,
	loc_concept     TEXT NOT NULL,
	bill            TEXT NOT NULL,
	discount        TEXT NOT NULL,
	currency        TEXT NOT NULL,
	CONSTRAINT ck_redemptions_key UNIQUE (coupon_id, idempotency_key)
);

-- Live holds only (direct redemptions are never indexed here): the
-- lapsed-hold sweep reads them by expiry, of one series or of all.
CREATE INDEX ck_redemptions_holds ON ck_redemptions (hold_expires_at) WHERE status = 1;

-- The append-only history, in seq order. The engine's event id is kept but
-- not indexed: nothing looks an event up by it, and the writes that must not
-- repeat are guarded by the coupons' and redemptions' own keys (a bulk batch
-- inserts the events of the coupons it inserts, and only those).
CREATE TABLE ck_events (
	seq           BIGSERIAL PRIMARY KEY,
	id            TEXT NOT NULL,
	kind          SMALLINT NOT NULL,
	coupon_id     TEXT NOT NULL,
	series_id     TEXT NOT NULL,
	code          TEXT NOT NULL,
	customer      TEXT NOT NULL,
	actor         TEXT NOT NULL,
	happened_at   BIGINT,
	reason        TEXT NOT NULL,
	counterparty  TEXT NOT NULL,
	redemption_id TEXT NOT NULL,
	old_code      TEXT NOT NULL,
	new_code      TEXT NOT NULL,
	new_coupon_id TEXT NOT NULL,
	notify        BOOLEAN NOT NULL
);

CREATE INDEX ck_events_coupon ON ck_events (coupon_id, seq);
CREATE INDEX ck_events_customer ON ck_events (customer, seq) WHERE customer <> '';

-- One row per counter and scope; code and customer are '' when not in the
-- counter's scope. A bump is one guarded upsert (see queries.go): it creates
-- the row of a counter never bumped, and otherwise updates it only if the
-- guard holds. Key strings are stored escaped (NUL as \0, \ as \\). The
-- fill factor leaves room on each page for HOT updates of hot counters.
CREATE TABLE ck_counters (
	counter   SMALLINT NOT NULL CHECK (counter > 0),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	customer  TEXT NOT NULL,
	n         BIGINT NOT NULL CHECK (n >= 0),
	last      BIGINT,
	PRIMARY KEY (counter, series_id, code, customer)
) WITH (fillfactor = 70);

-- The next free index of each series' code sequence (Reserve).
CREATE TABLE ck_sequences (
	series_id TEXT PRIMARY KEY,
	next      BIGINT NOT NULL CHECK (next >= 0)
);

CREATE TABLE ck_audience (
	series_id TEXT NOT NULL,
	customer  TEXT NOT NULL,
	PRIMARY KEY (series_id, customer)
);
