package coupon

import "time"

// in returns t in loc, leaving the zero time as it is.
func in(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

// In returns c with its times expressed in loc (the series' time zone, for
// results): the same instants, read in that zone. Zero times stay zero.
func (c Coupon) In(loc *time.Location) Coupon {
	c.CreatedAt, c.IssuedAt = in(c.CreatedAt, loc), in(c.IssuedAt, loc)
	c.ExpiresAt, c.LastStatusChange = in(c.ExpiresAt, loc), in(c.LastStatusChange, loc)
	return c
}

// In returns r with its times expressed in loc. Zero times stay zero.
func (r Redemption) In(loc *time.Location) Redemption {
	r.At, r.HoldExpiresAt, r.ConfirmedAt = in(r.At, loc), in(r.HoldExpiresAt, loc), in(r.ConfirmedAt, loc)
	r.ReleasedAt, r.ReversedAt = in(r.ReleasedAt, loc), in(r.ReversedAt, loc)
	if len(r.Returns) > 0 {
		rs := make([]Return, len(r.Returns))
		copy(rs, r.Returns)
		for i := range rs {
			rs[i].At = in(rs[i].At, loc)
		}
		r.Returns = rs
	}
	return r
}

// In returns ev with its time expressed in loc.
func (ev Event) In(loc *time.Location) Event {
	ev.At = in(ev.At, loc)
	return ev
}
