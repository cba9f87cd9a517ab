package lease

import (
	"time"

	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Counted says where the central counted a till's use.
type Counted string

const (
	// OnLease: the use was counted against its lease (Used grew); the
	// series had counted it when the lease was granted.
	OnLease Counted = "lease"
	// OnSeries: the lease could no longer take the use (it was reclaimed,
	// or had nothing left by the central's count), so the use was counted
	// against the series' use counter again.
	OnSeries Counted = "series"
)

// Entry is one use from a till's journal as the central recorded it. The
// central keeps one per (Till, Key), written in the same change that
// counts the use, so that an entry uploaded again is answered with this
// record and counted once.
//
// An entry with no Conflicts is a use the central would have allowed at
// its sale time: it is also a redemption of its coupon (RedemptionID). An
// entry with Conflicts is a use the central would have refused (the code
// used elsewhere, revoked, not this customer's, a customer level passed
// across tills, a series limit passed after its lease was reclaimed): the
// till gave the discount, so it is recorded and counted all the same, but
// its coupon is not changed, and it is listed for reconciliation.
type Entry struct {
	Till     string `json:"till"`
	Key      string `json:"key"`
	LeaseID  string `json:"lease_id"`
	SeriesID string `json:"series_id"`
	Code     string `json:"code"`
	Customer string `json:"customer"`
	// Bill is the bill of the sale, and Discount what the use took off it,
	// by the series' rules.
	Bill     series.Money `json:"bill"`
	Discount series.Money `json:"discount"`
	// Budget is the money the use took of its series' budget, in minor
	// units of the series' currency: of its lease's money when it is
	// counted on its lease (Used.Money holds it), else of the series'
	// budget counter; 0 for a series without a budget, and for a
	// conflicted use counted on the series, which the budget could not
	// take.
	Budget int64 `json:"budget,omitempty"`
	// At is the sale time (the till's clock); Applied when the central
	// recorded the entry (its clock).
	At      time.Time `json:"at"`
	Applied time.Time `json:"applied"`
	Counted Counted   `json:"counted"`
	// RedemptionID is the redemption the use made, when it had no
	// conflict.
	RedemptionID string `json:"redemption_id,omitempty"`
	// Conflicts are the reasons the central would have refused the use.
	Conflicts []refusal.Refusal `json:"conflicts,omitempty"`
	// Online is true for a use the central decided online
	// (couponkit.Engine.RedeemAtTill) rather than one uploaded from the
	// journal.
	Online bool `json:"online,omitempty"`
	// Reverses is set on a reversal: the key of the use it gave back.
	Reverses string `json:"reverses,omitempty"`
	// Reversed is when the use was given back (the central's clock);
	// zero while it stands.
	Reversed time.Time `json:"reversed,omitzero"`
}

// Conflicted reports whether the central would have refused the use.
func (e *Entry) Conflicted() bool { return len(e.Conflicts) > 0 }

// SameUse reports whether o, an entry uploaded again under e's till and
// key, describes the same use: lease, series, code, customer, bill and
// sale time.
func (e *Entry) SameUse(o *Entry) bool {
	return e.LeaseID == o.LeaseID && e.SeriesID == o.SeriesID && e.Code == o.Code &&
		e.Customer == o.Customer && e.Bill.Currency == o.Bill.Currency &&
		e.Bill.Amount.Equal(o.Bill.Amount) && e.At.Equal(o.At)
}

// SameSale reports whether o describes the same sale as e: series, code,
// customer and bill, whatever lease it drew on and whenever it was made.
// It is how a use decided online and the same sale uploaded from the
// journal (which may name another lease and sale time) are matched.
func (e *Entry) SameSale(o *Entry) bool {
	return e.SeriesID == o.SeriesID && e.Code == o.Code && e.Customer == o.Customer &&
		e.Bill.Currency == o.Bill.Currency && e.Bill.Amount.Equal(o.Bill.Amount)
}
