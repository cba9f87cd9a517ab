-- +goose Up
-- couponkit schema, version 5, PostgreSQL: counters keyed by holder.
--
-- A code-level counter (CodeUses, CustomerCodeUses) is keyed by its
-- coupon's unique key: series, canonical code and slot (the holder of a
-- coupon of a shared code, else ''), now in a column of its own. Before
-- this version the holder was kept in the code column, after the canonical
-- code and a NUL byte, which the stored key text holds escaped (NUL as \0,
-- \ as \\): such a code is split into the code and the holder, each still
-- escaped. chr(1) stands for an escaped backslash while the first escaped
-- NUL is found; a key holding chr(1) itself (which the engine never
-- writes: its strings have no control characters) is left as it was. The
-- primary key is dropped while the keys are split and made again with the
-- holder.

ALTER TABLE ck_counters ADD COLUMN holder TEXT NOT NULL DEFAULT '';

ALTER TABLE ck_counters DROP CONSTRAINT ck_counters_pkey;

UPDATE ck_counters SET
	code = replace(substr(replace(code, E'\\\\', chr(1)), 1, strpos(replace(code, E'\\\\', chr(1)), E'\\0') - 1), chr(1), E'\\\\'),
	holder = replace(substr(replace(code, E'\\\\', chr(1)), strpos(replace(code, E'\\\\', chr(1)), E'\\0') + 2), chr(1), E'\\\\')
WHERE counter IN (1, 2) AND strpos(code, chr(1)) = 0 AND strpos(replace(code, E'\\\\', chr(1)), E'\\0') > 0;

ALTER TABLE ck_counters ADD PRIMARY KEY (counter, series_id, code, holder, customer);

ALTER TABLE ck_counters ALTER COLUMN holder DROP DEFAULT;
