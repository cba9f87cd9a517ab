-- +goose Up
-- couponkit schema, version 4, SQLite: idempotent issues.
--
-- A coupon keeps the idempotency key of the issue that gave it to its first
-- customer (coupon.Coupon.IssueKey); NULL when the issue had none. A set key
-- is unique within the series, so that two identical requests issue once.
-- The index is led by the key so that it also serves lookups of keys in
-- every series; the engine reads a series' keys with issue_key IS NOT NULL
-- written literally, so the partial index applies.

ALTER TABLE ck_coupons ADD COLUMN issue_key TEXT CHECK (issue_key <> '');

CREATE UNIQUE INDEX ck_coupons_issue_key ON ck_coupons (issue_key, series_id) WHERE issue_key IS NOT NULL;
