-- +goose Up
-- couponkit schema, version 7, PostgreSQL: the leases the central grants
-- to tills, the records of the tills' calls and the journal entries they
-- upload (store.LeaseStore).
--
-- Each record is kept whole as a JSON document, as text; the columns
-- beside it are the ones the store looks records up, filters and orders
-- by, and they compare byte-wise (COLLATE "C"), the order the store lists
-- in whatever the database's collation. A lease's version guards its
-- updates; end_at is its End (Unix nanoseconds, NULL for the zero time).
-- A call and an entry are keyed by (till, key), once each. conflicts is
-- how many conflicts an entry has. No column refers to a series: an entry
-- is recorded as the till uploaded it.

CREATE TABLE ck_leases (
	id        TEXT COLLATE "C" PRIMARY KEY,
	till      TEXT COLLATE "C" NOT NULL,
	series_id TEXT COLLATE "C" NOT NULL,
	status    SMALLINT NOT NULL,
	end_at    BIGINT,
	version   BIGINT NOT NULL CHECK (version >= 1),
	doc       TEXT NOT NULL
);

CREATE INDEX ck_leases_till ON ck_leases (till, id);

CREATE INDEX ck_leases_series ON ck_leases (series_id, id);

CREATE TABLE ck_lease_ops (
	till TEXT COLLATE "C" NOT NULL,
	key  TEXT COLLATE "C" NOT NULL,
	doc  TEXT NOT NULL,
	PRIMARY KEY (till, key)
);

CREATE TABLE ck_till_entries (
	till      TEXT COLLATE "C" NOT NULL,
	key       TEXT COLLATE "C" NOT NULL,
	lease_id  TEXT COLLATE "C" NOT NULL,
	series_id TEXT COLLATE "C" NOT NULL,
	conflicts INTEGER NOT NULL,
	doc       TEXT NOT NULL,
	PRIMARY KEY (till, key)
);

CREATE INDEX ck_till_entries_lease ON ck_till_entries (lease_id);
