-- +goose Up
-- couponkit schema, version 10, PostgreSQL: what a return of part of a
-- redemption gave back, on its event (coupon.Event's Returned, BudgetBack
-- and UseBack): the share of the discount carried back, what went back to
-- the series' budgets, and whether the use went back. The returns
-- themselves are kept in the redemption's checkout document.

ALTER TABLE ck_events ADD COLUMN returned BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ck_events ADD COLUMN budget_back BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ck_events ADD COLUMN use_back BOOLEAN NOT NULL DEFAULT FALSE;
