package couponkit

import (
	"time"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The messages of the till protocol beyond leases and the journal: a
// till's online redemption at the central (Engine.RedeemAtTill) and its
// sync down (Engine.TillFeed).

// TillRedeemRequest is a use a till asks the central to decide online.
// Key is the sale's idempotency key, unique per till, the same key the
// till writes in its journal if it falls back to deciding offline: the
// central records every use of a till, online or from the journal, once
// per (Till, Key), so a sale decided online whose answer was lost and
// then recorded offline is counted once.
type TillRedeemRequest struct {
	Till     string       `json:"till"`
	Key      string       `json:"key"`
	SeriesID string       `json:"series_id"`
	Code     string       `json:"code"`
	Customer string       `json:"customer,omitempty"`
	Bill     series.Money `json:"bill"`
	// At is the sale time by the till's clock, kept on the record; the
	// central decides at its own clock.
	At time.Time `json:"at"`
	// LeaseID names the lease the till draws the use on by its own count
	// (the one its journal would draw an offline use of the sale on), and
	// NoLease says it draws on none. The central counts the use on the
	// named lease when it is the till's lease of the series, open, with a
	// use left by the central's count, and on the series otherwise (as
	// for NoLease): never on a lease the till may have spent offline
	// already, whose uses it has not uploaded yet. With neither set, the
	// central picks the till's lease (see Engine.RedeemAtTill).
	LeaseID string `json:"lease_id,omitempty"`
	NoLease bool   `json:"no_lease,omitempty"`
}

// TillRedeemResult is the central's answer to a till's online use: the
// redemption, the record of the use (its lease, where it was counted),
// and whether the call was a repeat answered with its first result.
type TillRedeemResult struct {
	Redemption RedeemResult `json:"redemption"`
	Entry      lease.Entry  `json:"entry"`
	Replayed   bool         `json:"replayed,omitempty"`
}

// TillFeedRequest asks for what a till learns from the central after the
// feed position After: at most Limit events (store.DefaultFeedLimit when
// 0).
type TillFeedRequest struct {
	Till  string         `json:"till"`
	After store.Position `json:"after"`
	Limit int            `json:"limit,omitempty"`
}

// TillFeedPage is one page of a till's sync down: the events after the
// request's position of the series the till holds a lease of, in feed
// order; Next, the position to ask from next (past events of other
// series too); and the current configuration of every series the till
// holds an open lease of.
type TillFeedPage struct {
	Events []store.FeedEvent `json:"events"`
	Next   store.Position    `json:"next"`
	Series []series.Series   `json:"series"`
}
