-- +goose Up
-- couponkit schema, version 2, SQLite: audience lists kept by the engine,
-- which adds and removes members in its changes.
--
-- added_at is when a member was added (Unix nanoseconds); NULL for members
-- added before this version or by the deprecated Store.AddAudience.
-- Customers compare byte-wise already (SQLite's BINARY collation), the
-- order the store pages the list in.
ALTER TABLE ck_audience ADD COLUMN added_at INTEGER;
