-- +goose Up
-- couponkit schema, version 5, SQLite: counters keyed by holder.
--
-- A code-level counter (CodeUses, CustomerCodeUses) is keyed by its
-- coupon's unique key: series, canonical code and slot (the holder of a
-- coupon of a shared code, else ''), now in a column of its own. Before
-- this version the holder was kept in the code column, after the canonical
-- code and a NUL byte, which the stored key text holds escaped (NUL as \0,
-- \ as \\): such a code is split into the code and the holder, each still
-- escaped. char(1) stands for an escaped backslash while the first escaped
-- NUL is found; a key holding char(1) itself (which the engine never
-- writes: its strings have no control characters) is left as it was.
--
-- SQLite cannot change a primary key: the table is made again.

CREATE TABLE ck_counters_v5 (
	counter   INTEGER NOT NULL CHECK (counter > 0),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	holder    TEXT NOT NULL,
	customer  TEXT NOT NULL,
	n         INTEGER NOT NULL CHECK (n >= 0),
	last      INTEGER,
	PRIMARY KEY (counter, series_id, code, holder, customer)
) STRICT, WITHOUT ROWID;

INSERT INTO ck_counters_v5 (counter, series_id, code, holder, customer, n, last)
SELECT counter, series_id,
	CASE WHEN split THEN replace(substr(x, 1, instr(x, '\0') - 1), char(1), '\\') ELSE code END,
	CASE WHEN split THEN replace(substr(x, instr(x, '\0') + 2), char(1), '\\') ELSE '' END,
	customer, n, last
FROM (SELECT *, replace(code, '\\', char(1)) AS x,
	counter IN (1, 2) AND instr(code, char(1)) = 0 AND instr(replace(code, '\\', char(1)), '\0') > 0 AS split
	FROM ck_counters);

DROP TABLE ck_counters;

ALTER TABLE ck_counters_v5 RENAME TO ck_counters;
