package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
)

// The assertions every subtest uses: each failure message states the rule
// that was broken.

// cmpOpts compare couponkit records: times with Equal (a store may return
// another location), decimals with Equal, place sets by their places, and
// nil and empty slices alike.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b limits.PlaceSet) bool { return slices.Equal(a.Refs(), b.Refs()) }),
	cmpopts.EquateEmpty(),
}

// same fails the test when got differs from want, explaining the rule, and
// reports whether they are the same.
func same[T any](t testing.TB, got, want T, rule string, args ...any) bool {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("%s (-want +got):\n%s", fmt.Sprintf(rule, args...), d)
		return false
	}
	return true
}

// wantCode fails the test unless err matches the errcode code (errors.Is
// against an *errcode.Error of that code).
func wantCode(t testing.TB, err error, code errcode.Code, rule string, args ...any) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want %d %s", fmt.Sprintf(rule, args...), code, code)
	case !errors.Is(err, &errcode.Error{Code: code}):
		t.Errorf("%s: got %v (code %d), want code %d %s", fmt.Sprintf(rule, args...), err, errcode.CodeOf(err), code, code)
	}
}

// wantDenied fails the test unless err is a *refusal.Error whose refusals
// are exactly the given rules of package limits, in order of code, each
// once with a message, and that matches errcode.ErrLimitReached and each
// reason's code under errors.Is.
func wantDenied(t testing.TB, err error, reasons []limits.Reason, rule string, args ...any) {
	t.Helper()
	want := slices.Clone(reasons)
	slices.Sort(want)
	codes := make([]errcode.Code, len(want))
	for i, r := range want {
		codes[i] = r.Code()
	}
	if !wantRefused(t, err, codes, rule, args...) {
		return
	}
	if !errors.Is(err, errcode.ErrLimitReached) {
		t.Errorf("%s: a refusal by the rules must match errcode.ErrLimitReached", fmt.Sprintf(rule, args...))
	}
}

// wantRefused fails the test unless err is a *refusal.Error listing
// refusals with exactly the given codes, in order, each with a rule and a
// message, and matching each code under errors.Is. It reports whether err
// was such a refusal.
func wantRefused(t testing.TB, err error, codes []errcode.Code, rule string, args ...any) bool {
	t.Helper()
	msg := fmt.Sprintf(rule, args...)
	var d *refusal.Error
	if !errors.As(err, &d) {
		t.Errorf("%s: got %v (code %d), want a refusal with %v", msg, err, errcode.CodeOf(err), codes)
		return false
	}
	if got := d.Codes(); !slices.Equal(got, codes) {
		t.Errorf("%s: refused with %v (%v), want exactly %v", msg, got, err, codes)
	}
	for _, r := range d.Refusals {
		if r.Rule == "" || r.Message == "" {
			t.Errorf("%s: refusal %d has no rule or message: %+v", msg, r.Code, r)
		}
	}
	for _, c := range codes {
		if !errors.Is(err, &errcode.Error{Code: c}) {
			t.Errorf("%s: a refusal with %d must match that code under errors.Is", msg, c)
		}
	}
	return true
}

func reasons(rs ...limits.Reason) []limits.Reason { return rs }

func codes(cs ...errcode.Code) []errcode.Code { return cs }

// wantField fails the test unless err holds an *errcode.Error with the
// given code on the given field (errcode.All lists every error of a joined
// one) that matches the code under errors.Is.
func wantField(t testing.TB, err error, code errcode.Code, field, rule string, args ...any) {
	t.Helper()
	what := fmt.Sprintf(rule, args...)
	for _, ce := range errcode.All(err) {
		if ce.Code == code && ce.Field == field {
			if !errors.Is(err, &errcode.Error{Code: code}) {
				t.Errorf("%s: %v does not match code %d under errors.Is", what, err, code)
			}
			return
		}
	}
	t.Errorf("%s: got %v (code %d), want %d %s on field %q", what, err, errcode.CodeOf(err), code, code, field)
}

// wantOK fails the test when err is not nil.
func wantOK(t testing.TB, err error, rule string, args ...any) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error %v", fmt.Sprintf(rule, args...), err)
		return false
	}
	return true
}

// mustOK stops the test when err is not nil.
func mustOK(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
