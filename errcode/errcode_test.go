package errcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodesAreUniqueAndNamed(t *testing.T) {
	seen := map[Code]bool{}
	for c, name := range codeNames {
		if name == "" {
			t.Errorf("code %d has no name", c)
		}
		if seen[c] {
			t.Errorf("code %d listed twice", c)
		}
		seen[c] = true
	}
	// The revoke API's codes keep their numbers.
	for want, got := range map[int]Code{108: GenericNotSupported, 404: NotFound, 405: Redeemed, 682: CouponNotFound, 712: SeriesExpired, 756: NothingToRevoke} {
		if int(got) != want {
			t.Errorf("revoke API code %d is %d here", want, got)
		}
	}
	if got := Code(9999).String(); got != "code 9999" {
		t.Errorf("unknown code String() = %q", got)
	}
}

func TestIsMatchesByCodeThroughWrapping(t *testing.T) {
	base := New(Expired, "Code", "past expiry")
	err := fmt.Errorf("outer: %w", Wrap(Conflict, base, "retrying"))
	if !errors.Is(err, ErrConflict) || !errors.Is(err, ErrExpired) {
		t.Fatalf("both codes in the chain must match: %v", err)
	}
	if errors.Is(err, ErrRevoked) {
		t.Fatal("a code not in the chain must not match")
	}
	if CodeOf(err) != Conflict {
		t.Fatalf("CodeOf returns the outermost code, got %d", CodeOf(err))
	}
	if CodeOf(errors.New("plain")) != 0 {
		t.Fatal("CodeOf of a plain error is 0")
	}
}

func TestFields(t *testing.T) {
	var f Fields
	if f.Err() != nil {
		t.Fatal("empty Fields must give nil")
	}
	f.Add(InvalidConfig, "A", "x")
	if e := All(f.Err()); len(e) != 1 || e[0].Field != "A" {
		t.Fatalf("one field: %v", e)
	}
	f.Add(InvalidArgument, "B", "y")
	es := All(fmt.Errorf("wrapped: %w", f.Err()))
	if len(es) != 2 || es[0].Field != "A" || es[1].Field != "B" {
		t.Fatalf("All must list each joined error in order, got %v", es)
	}
}

func TestEveryNotFoundMatchesErrNotFound(t *testing.T) {
	for _, c := range []Code{NotFound, CouponNotFound, RedemptionNotFound, UnknownConsumer} {
		err := fmt.Errorf("wrapped: %w", New(c, "Code", "x"))
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("code %d must match ErrNotFound", c)
		}
	}
	// The match is one way: a plain 404 is not a coupon-not-found.
	if errors.Is(New(NotFound, "", ""), ErrCouponNotFound) {
		t.Error("a 404 must not match ErrCouponNotFound")
	}
	for _, c := range []Code{Redeemed, Revoked, Expired, HoldReleased, KeyMismatch, FuturePosition} {
		if errors.Is(New(c, "", ""), ErrNotFound) {
			t.Errorf("code %d must not match ErrNotFound", c)
		}
	}
}
