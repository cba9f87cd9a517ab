package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// mutant is one deliberate error in a real answer: the value at path
// (dot-separated object keys and array indexes) replaced by value, or
// removed when del is set.
type mutant struct {
	path  string
	value any
	del   bool
}

func set(path string, v any) mutant { return mutant{path: path, value: v} }
func del(path string) mutant        { return mutant{path: path, del: true} }

// TestOpenAPIRejects shows that the walk's validation is not vacuous: for
// representative operations it takes a real answer the walk recorded,
// checks that the answer validates, then breaks it one way at a time (a
// field of the wrong type, a required field missing, a field the Go type
// does not have, a value outside an enum) and checks that the validator
// refuses each broken copy.
func TestOpenAPIRejects(t *testing.T) {
	c := walked(t)
	cases := []struct {
		op      string // "METHOD /template STATUS"
		mutants []mutant
	}{
		{"POST /v1/issue 200", []mutant{
			set("coupon.redemptions", "0"), del("coupon.id"), set("coupon.state", "spent"),
			set("coupon.surplus", 1), set("surplus", true), set("replayed", "yes"),
			set("coupon.created_at", "yesterday"),
		}},
		{"GET /v1/series/{id} 200", []mutant{
			del("time_zone"), del("redemption.places"), set("source.kind", "printed"),
			set("version", "1"), set("discount.surplus", 1), set("status", "closed"),
			set("redemption.min_bill", true), del("discount.currency"),
		}},
		{"GET /v1/series/{id}/counters 200", []mutant{
			set("issued", 1.5), del("remaining_uses"), set("remaining_issuable", -2), set("surplus", 0),
		}},
		{"POST /v1/coupons/{code}/redeem 200", []mutant{
			set("redemption.status", "done"), set("redemption.bill", 64.9), del("redemption.idempotency_key"),
			set("discount.amount", 5), del("discount.currency"), set("coupon.holds", nil),
			set("redemption.location.shelf", "A"),
		}},
		{"GET /v1/customers/{id}/coupons 200", []mutant{
			del("coupons.0.now"), set("coupons.0.now", "lost"), set("coupons.0.surplus", 1), set("coupons", map[string]any{}),
		}},
		{"GET /v1/feed 200", []mutant{
			set("next", 7), set("events.0.position", "first"), set("events.0.event.kind", "painted"),
			del("events.0.event.at"), set("events.0.event.surplus", "x"),
		}},
		{"POST /v1/coupons/{code}/validate 422", []mutant{
			set("error.refusals.0.rule", "mood"), set("error.refusals.0.code", 9999), del("error.message"),
			set("error.refusals.0.params.surplus", 1), set("error.code", "1211"), set("error.refusals", []any{}),
		}},
		{"POST /till/v1/leases/grant 200", []mutant{
			set("lease.status", 3), set("lease.granted.uses", "2"), del("remaining"), del("lease.updated"),
			set("lease.surplus", 1),
		}},
		{"POST /v2/coupon/revoke 200", []mutant{
			del("success"), set("warnings", nil), set("errors", []any{map[string]any{"status": false}}),
			set("entity.surplus", 1),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			s, ok := c.samples[tc.op]
			if !ok {
				t.Fatalf("the walk recorded no answer for %s", tc.op)
			}
			if errs := c.validate(s, s.answer); errs != "" {
				t.Fatalf("the real answer does not validate: %s", errs)
			}
			for _, m := range tc.mutants {
				body := s.mutate(t, m)
				if errs := c.validate(s, body); errs == "" {
					t.Errorf("mutant %+v validates: %s", m, body)
				}
			}
		})
	}
}

// sample is a request the walk sent and the answer it got.
type sample struct {
	req    *http.Request
	body   []byte // the request's
	resp   *http.Response
	answer []byte
}

// validate checks answer as the response to s's request, returning the
// validator's messages ("" when it validates).
func (c *checker) validate(s sample, answer []byte) string {
	r := s.req.Clone(s.req.Context())
	r.Body = io.NopCloser(bytes.NewReader(s.body))
	resp := *s.resp
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	resp.ContentLength = int64(len(answer))
	ok, errs := c.v.ValidateHttpResponse(r, &resp)
	if ok {
		return ""
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Message+": "+e.Reason)
		for _, se := range e.SchemaValidationErrors {
			msgs = append(msgs, se.FieldPath+": "+se.Reason)
		}
	}
	return strings.Join(msgs, "; ")
}

// mutate returns a copy of s's answer with m applied.
func (s sample) mutate(t *testing.T, m mutant) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal(s.answer, &doc); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(m.path, ".")
	parent := doc
	for _, k := range keys[:len(keys)-1] {
		parent = step(t, parent, k, m)
	}
	last := keys[len(keys)-1]
	switch p := parent.(type) {
	case map[string]any:
		if m.del {
			if _, ok := p[last]; !ok {
				t.Fatalf("mutant %+v: no field %q to remove", m, last)
			}
			delete(p, last)
		} else {
			p[last] = m.value
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i >= len(p) || m.del {
			t.Fatalf("mutant %+v: cannot change element %q of %d", m, last, len(p))
		}
		p[i] = m.value
	default:
		t.Fatalf("mutant %+v: %T has no fields", m, parent)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// step returns the field or element k of v.
func step(t *testing.T, v any, k string, m mutant) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if next, ok := x[k]; ok {
			return next
		}
	case []any:
		if i, err := strconv.Atoi(k); err == nil && i < len(x) {
			return x[i]
		}
	}
	t.Fatalf("mutant %+v: the answer has nothing at %q", m, k)
	return nil
}
