-- +goose Up
-- couponkit schema, version 7, SQLite: the leases the central grants to
-- tills, the records of the tills' calls and the journal entries they
-- upload (store.LeaseStore).
--
-- Each record is kept whole as a JSON document; the columns beside it are
-- the ones the store looks records up, filters and orders by. A lease's
-- version guards its updates; end_at is its End (Unix nanoseconds, NULL
-- for the zero time). A call and an entry are keyed by (till, key), once
-- each. conflicts is how many conflicts an entry has. No column refers to
-- a series: an entry is recorded as the till uploaded it.

CREATE TABLE ck_leases (
	id        TEXT PRIMARY KEY,
	till      TEXT NOT NULL,
	series_id TEXT NOT NULL,
	status    INTEGER NOT NULL CHECK (status BETWEEN 0 AND 255),
	end_at    INTEGER,
	version   INTEGER NOT NULL CHECK (version >= 1),
	doc       TEXT NOT NULL CHECK (json_valid(doc))
) STRICT;

CREATE INDEX ck_leases_till ON ck_leases (till, id);

CREATE INDEX ck_leases_series ON ck_leases (series_id, id);

CREATE TABLE ck_lease_ops (
	till TEXT NOT NULL,
	key  TEXT NOT NULL,
	doc  TEXT NOT NULL CHECK (json_valid(doc)),
	PRIMARY KEY (till, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE ck_till_entries (
	till      TEXT NOT NULL,
	key       TEXT NOT NULL,
	lease_id  TEXT NOT NULL,
	series_id TEXT NOT NULL,
	conflicts INTEGER NOT NULL,
	doc       TEXT NOT NULL CHECK (json_valid(doc)),
	PRIMARY KEY (till, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX ck_till_entries_lease ON ck_till_entries (lease_id);
