package couponkit

import (
	"fmt"
	"strconv"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// codeNotFound is the error for a code with no coupon.
func codeNotFound(code string) error {
	return errcode.New(errcode.CouponNotFound, "Code", "coupon "+strconv.Quote(code)+" not found")
}

// keyMismatch is the error of an idempotency key used before with another
// value of field.
func keyMismatch(field, what string) error {
	return errcode.New(errcode.KeyMismatch, field, "the idempotency key was used for "+what+"; use a new key for a new request")
}

// mintRefused is the error for minting past the code space (PoolEmpty) or
// past the series' fill ratio (FillRatioExceeded), wrapping codegen's.
func mintRefused(s *series.Series, err error) error {
	if errcode.CodeOf(err) == errcode.FillRatioExceeded {
		return &errcode.Error{Code: errcode.FillRatioExceeded, Field: "SeriesID", Message: fmt.Sprintf(
			"series %s has made the most codes its fill ratio allows (%g of its code space; Source.MaxFill)",
			s.ID, s.Source.FillLimit()), Err: err}
	}
	return &errcode.Error{Code: errcode.PoolEmpty, Field: "SeriesID",
		Message: "series " + s.ID + " has used its code space", Err: err}
}

// staleSeries is the error of an update that passed a version other than the
// stored one (now, when known).
func staleSeries(id string, passed, now int64) error {
	msg := "series " + id + " was changed since version " + strconv.FormatInt(passed, 10) + " was read"
	if passed == 0 {
		msg = "series " + id + ": pass the version you read (Series.Version)"
	} else if now > 0 {
		msg += " (it is at version " + strconv.FormatInt(now, 10) + ")"
	}
	return errcode.New(errcode.Conflict, "Version", msg+"; read it again and pass its version")
}

// notAHold is the error of a Confirm or Release naming a use that is a
// redemption, not a hold.
func notAHold(id string) error {
	return errcode.New(errcode.RedemptionNotFound, "Hold", "redemption "+id+" is not a hold")
}

// checkOpen refuses work on a series that is paused, ended, not started or
// past its end, with a *refusal.Error; at is best in the series' time zone,
// in which the refusal's times are given.
func checkOpen(s *series.Series, at time.Time) error {
	if r, closed := refusal.Closed(s, at); closed {
		return &refusal.Error{Refusals: []refusal.Refusal{r}}
	}
	return nil
}
