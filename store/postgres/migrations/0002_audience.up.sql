-- +goose Up
-- couponkit schema, version 2, PostgreSQL: audience lists kept by the
-- engine, which adds and removes members in its changes.
--
-- added_at is when a member was added (Unix nanoseconds); NULL for members
-- added before this version or by the deprecated Store.AddAudience. The
-- customer column compares byte-wise, the order the store pages the list
-- in, whatever the database's default collation; the primary key is
-- rebuilt with it.
ALTER TABLE ck_audience ADD COLUMN added_at BIGINT;
ALTER TABLE ck_audience ALTER COLUMN customer TYPE TEXT COLLATE "C";
