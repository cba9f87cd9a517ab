package apitest

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// described is a component schema and the Go type whose JSON it describes.
// An answer's schema must require every field the type always writes
// (those without omitempty or omitzero); a schema also read from requests,
// or whose answer form adds its required fields elsewhere (Series), need
// not.
type described struct {
	typ    reflect.Type
	answer bool
}

func answer[T any]() described  { return described{reflect.TypeFor[T](), true} }
func request[T any]() described { return described{reflect.TypeFor[T](), false} }

var schemaTypes = map[string]described{
	"Error":             answer[httperr.Envelope](),
	"ErrorBody":         answer[httperr.Body](),
	"Refusal":           answer[refusal.Refusal](),
	"RefusalParams":     answer[refusal.Params](),
	"Money":             answer[series.Money](),
	"MoneyInput":        request[series.Money](),
	"CustomerRef":       request[couponkit.CustomerRef](),
	"Place":             answer[limits.Place](),
	"UseRef":            request[couponkit.UseRef](),
	"BasketLine":        request[basket.Line](),
	"RedeemRequest":     request[couponkit.RedeemRequest](),
	"HoldRequest":       request[httpapi.HoldRequest](),
	"IssueRequest":      request[couponkit.IssueRequest](),
	"IssueResult":       answer[couponkit.IssueResult](),
	"RedeemResult":      answer[couponkit.RedeemResult](),
	"ValidateResult":    answer[couponkit.Check](),
	"SeriesInput":       request[series.Series](),
	"Source":            request[series.Source](),
	"Issuance":          request[series.Issuance](),
	"RedemptionRules":   request[limits.RedemptionRules](),
	"HourRange":         answer[limits.HourRange](),
	"PlaceRef":          answer[limits.PlaceRef](),
	"NewCustomerRule":   answer[limits.NewCustomerRule](),
	"Expiry":            request[series.Expiry](),
	"Discount":          request[series.Discount](),
	"Reminder":          request[series.Reminder](),
	"ProductRules":      answer[series.ProductRules](),
	"Budget":            answer[series.Budget](),
	"Stacking":          answer[series.Stacking](),
	"CouponFields":      answer[coupon.Coupon](),
	"Redemption":        answer[coupon.Redemption](),
	"Part":              answer[coupon.Part](),
	"Event":             answer[coupon.Event](),
	"FeedEvent":         answer[store.FeedEvent](),
	"SeriesCounters":    answer[couponkit.SeriesCounters](),
	"UploadReport":      answer[httpapi.UploadReport](),
	"TillLeaseRequest":  answer[couponkit.LeaseRequest](),
	"TillLeaseCall":     answer[couponkit.LeaseCall](),
	"TillJournalBatch":  answer[couponkit.JournalBatch](),
	"TillRedeemRequest": answer[couponkit.TillRedeemRequest](),
	"LeaseSlice":        answer[lease.Slice](),
	"Lease":             answer[lease.Lease](),
	"LeaseEntry":        answer[lease.Entry](),
	"TillLeaseResult":   answer[couponkit.LeaseResult](),
	"TillJournalAck":    answer[couponkit.JournalAck](),
	"TillRedeemResult":  answer[couponkit.TillRedeemResult](),
	"TillFeedPage":      answer[couponkit.TillFeedPage](),
}

// TestSchemasMatchTypes checks each component schema of schemaTypes
// against its Go type: the same property names as the type's JSON fields,
// required only fields the type always writes and, for an answer, every
// one of them; and closed (additionalProperties false) but for
// CouponFields, which the coupon schemas close with unevaluatedProperties.
// So a field added to, renamed in or made optional in a Go type fails here
// even when the walk's answers do not show it.
func TestSchemasMatchTypes(t *testing.T) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	schemas := model.Model.Components.Schemas
	for name, d := range schemaTypes {
		proxy, ok := schemas.Get(name)
		if !ok {
			t.Errorf("%s: no such component schema", name)
			continue
		}
		checkSchema(t, name, proxy.Schema(), d)
	}
}

func checkSchema(t *testing.T, name string, s *base.Schema, d described) {
	t.Helper()
	always, all := jsonFields(d.typ)
	var props []string
	if s.Properties != nil {
		for p := range s.Properties.KeysFromOldest() {
			props = append(props, p)
		}
	}
	slices.Sort(props)
	if !slices.Equal(props, all) {
		t.Errorf("%s: properties %v, but %v has the fields %v", name, props, d.typ, all)
	}
	for _, r := range s.Required {
		if !slices.Contains(always, r) {
			t.Errorf("%s: requires %q, which %v does not always write", name, r, d.typ)
		}
	}
	if d.answer {
		for _, f := range always {
			if !slices.Contains(s.Required, f) {
				t.Errorf("%s: does not require %q, which %v always writes", name, f, d.typ)
			}
		}
	}
	closed := s.AdditionalProperties != nil && s.AdditionalProperties.IsB() && !s.AdditionalProperties.B
	if !closed && name != "CouponFields" {
		t.Errorf("%s: not closed by additionalProperties: false", name)
	}
}

// jsonFields answers the sorted JSON names of typ's fields as
// encoding/json writes them (embedded structs' fields promoted), those
// written always and all of them.
func jsonFields(typ reflect.Type) (always, all []string) {
	for _, f := range reflect.VisibleFields(typ) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		n, opts, _ := strings.Cut(tag, ",")
		if n == "" {
			n = f.Name
		}
		all = append(all, n)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, n)
		}
	}
	slices.Sort(always)
	slices.Sort(all)
	return always, all
}

// TestErrorCodesListed checks the code enums against package errcode: the
// envelope lists every code errcode names and the refusals' codes, and
// nothing else but codes of package limits' reasons (1201 to 1299).
func TestErrorCodesListed(t *testing.T) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	enum := func(schema string) []int {
		s, _ := model.Model.Components.Schemas.Get(schema)
		p, _ := s.Schema().Properties.Get("code")
		var out []int
		for _, n := range p.Schema().Enum {
			v, err := strconv.Atoi(n.Value)
			if err != nil {
				t.Fatalf("%s.code: enum value %q", schema, n.Value)
			}
			out = append(out, v)
		}
		return out
	}
	envelope, refusals := enum("ErrorBody"), enum("Refusal")
	named := func(n int) bool { return errcode.Code(n).String() != "code "+strconv.Itoa(n) }
	for n := range 10000 {
		if named(n) && !slices.Contains(envelope, n) {
			t.Errorf("ErrorBody.code lacks %d (%s)", n, errcode.Code(n))
		}
	}
	for _, n := range envelope {
		if !named(n) && (n < 1201 || n > 1299) {
			t.Errorf("ErrorBody.code lists %d, which errcode does not name", n)
		}
	}
	for _, n := range refusals {
		if !slices.Contains(envelope, n) {
			t.Errorf("Refusal.code lists %d, which ErrorBody.code lacks", n)
		}
	}
}
