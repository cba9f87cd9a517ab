package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/internal/apiwalk"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// testServer is the API over a fresh demo data set, with a fixed clock.
type testServer struct {
	t   *testing.T
	ctx context.Context
	e   *couponkit.Engine
	srv *httptest.Server
}

func newTestServer(t *testing.T) *testServer { return newTestServerOn(t, memstore.New()) }

// newSQLite returns a migrated SQLite store in a temporary file.
func newSQLite(t *testing.T) store.Store { return apiwalk.SQLite(t) }

// newTestServerOn is the API over the demo data set on st, with a fixed
// clock.
func newTestServerOn(t *testing.T, st store.Store) *testServer {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)
	e, err := newDemoOn(ctx, st, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(e, "test"))
	t.Cleanup(srv.Close)
	return &testServer{t: t, ctx: ctx, e: e, srv: srv}
}

// do sends a request and returns the status and the decoded JSON body.
func (s *testServer) do(method, query, body string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+revokePath+query, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.t.Errorf("Content-Type %q", ct)
	}
	out, err := decodeJSON(string(raw))
	if err != nil {
		s.t.Fatalf("response is not JSON: %v\n%s", err, raw)
	}
	return resp.StatusCode, out
}

func (s *testServer) post(query, body string) (int, map[string]any) {
	s.t.Helper()
	return s.do(http.MethodPost, query, body)
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	out, err := decodeJSON(s)
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return out
}

// decodeJSON decodes one JSON object, keeping numbers as json.Number.
func decodeJSON(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out map[string]any
	err := dec.Decode(&out)
	return out, err
}

// num is n as the decoded JSON holds it.
func num(n int) json.Number { return json.Number(fmt.Sprint(n)) }

// normalise checks that every revoked coupon's couponId is the id of the
// coupon of that code held by issuedToUserId in the series, then blanks it
// (the documented API's ids are not ours) and sorts the revoked coupons by
// code (the API does not document their order).
func (s *testServer) normalise(got map[string]any, seriesID string) {
	s.t.Helper()
	ent, ok := got["entity"].(map[string]any)
	if !ok {
		return
	}
	rc, _ := ent["revokedCoupons"].([]any)
	for _, x := range rc {
		m := x.(map[string]any)
		holder := fmt.Sprint(m["issuedToUserId"])
		cs, err := s.e.CustomerCoupons(s.ctx, couponkit.ByID(holder), seriesID)
		if err != nil {
			s.t.Fatal(err)
		}
		i := slices.IndexFunc(cs, func(c couponkit.CouponView) bool { return strings.EqualFold(c.Code, fmt.Sprint(m["couponCode"])) })
		if i < 0 {
			s.t.Errorf("revoked coupon %v is not %s's", m, holder)
		} else if id, isNum := m["couponId"].(json.Number); !isNum || id.String() != cs[i].ID {
			s.t.Errorf("couponId %v, want %s as a number", m["couponId"], cs[i].ID)
		} else if cs[i].State != coupon.Revoked {
			s.t.Errorf("coupon %s is %v after the call", cs[i].Code, cs[i].State)
		}
		m["couponId"] = num(0)
	}
	slices.SortFunc(rc, func(a, b any) int {
		return strings.Compare(fmt.Sprint(a.(map[string]any)["couponCode"]), fmt.Sprint(b.(map[string]any)["couponCode"]))
	})
}

// Each documented example of the revoke API, end to end over HTTP: the
// request and the response it documents. Where a documented response holds only
// part of the demo data (the 18 coupons revoked by mobile), the steps
// before it bring the data there.
func TestDocumentedExamples(t *testing.T) {
	codes := testdata(t, "req_codes.json")
	tests := []struct {
		name   string
		before []string // requests made first, which must succeed
		body   string
		series string
		want   string
	}{
		{"revoke by coupon codes", nil, codes, demoSeries, "resp_codes.json"},
		{"revoke by mobile", []string{codes}, testdata(t, "req_mobile.json"), demoSeries, "resp_mobile.json"},
		{"revoke by external id", []string{codes}, testdata(t, "req_external.json"), demoSeries, "resp_mobile.json"},
		{"revoke by customer id", []string{codes}, testdata(t, "req_id.json"), demoSeries, "resp_mobile.json"},
		{"revoke by email", []string{codes}, testdata(t, "req_email.json"), demoSeries, "resp_mobile.json"},
		{"revoke a generic code with the customer", nil,
			`{"couponSeriesId": 415447, "couponCodes": ["SALE20"], "customer": {"id": "555567088"}}`, demoGeneric, "resp_generic.json"},
		{"coupons not found", nil,
			`{"couponSeriesId": 415446, "couponCodes": ["V6AUE8G5890V41TCRRKKRM1K18SNO2BUUW2FLJ25", "GQ7PTBRWBLJLFT7R775B1XMUS2QCRB83WS9HI1A8", "CODE123"]}`,
			demoSeries, "resp_not_found.json"},
		{"partial success: not found in the series, and redeemed", nil,
			`{"couponSeriesId": 415446, "couponCodes": ["SDDSDSDS", "CODE4", "CODE5", "CODE6", "CODE7"]}`, demoSeries, "resp_partial_404_405.json"},
		{"partial success: not found, and already revoked", nil,
			`{"couponSeriesId": 415446, "couponCodes": ["3H2G6OAGPAQ3FYMT5IO4ZNV49V21VEV05JBP6S3T", "V6AUE8G5890V41TCRRKKRM1K18SNO2BUUW2FLJ25", "CODE123"]}`,
			demoSeries, "resp_partial_revoked.json"},
		{"a generic code alone is not supported", nil, `{"couponSeriesId": 415447, "couponCodes": ["SALE20"]}`, demoGeneric, "resp_108.json"},
		{"a generic code alone, without the series", nil, `{"couponCodes": ["sale20"]}`, demoGeneric, "resp_108.json"},
		{"the series has expired", nil, `{"couponSeriesId": 415448, "couponCodes": ["OLD-1"]}`, demoEnded, "resp_712.json"},
		{"neither codes nor customer", nil, `{"couponSeriesId": 415446}`, demoSeries, "resp_756.json"},
		{"an empty customer", nil, `{"couponSeriesId": 415446, "customer": {}, "couponCodes": []}`, demoSeries, "resp_756.json"},
		{"an empty body", nil, ``, demoSeries, "resp_756.json"},
	}
	for _, tc := range tests {
		for name, open := range map[string]func(*testing.T) store.Store{
			"memstore": func(*testing.T) store.Store { return memstore.New() },
			"sqlite":   newSQLite,
			"postgres": apiwalk.Postgres,
		} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				s := newTestServerOn(t, open(t))
				for _, b := range tc.before {
					if status, got := s.post("", b); status != http.StatusOK || got["success"] != true {
						t.Fatalf("step before: %d %v", status, got)
					}
				}
				status, got := s.post("", tc.body)
				if status != http.StatusOK {
					t.Errorf("HTTP %d, want 200", status)
				}
				want := decode(t, testdata(t, tc.want))
				s.normalise(got, tc.series)
				s.normalise2(want)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("response (-documented +got):\n%s", d)
				}
			})
		}
	}
}

// normalise2 blanks and sorts the expected response as normalise does the
// response.
func (s *testServer) normalise2(want map[string]any) {
	ent, ok := want["entity"].(map[string]any)
	if !ok {
		return
	}
	rc, _ := ent["revokedCoupons"].([]any)
	for _, x := range rc {
		x.(map[string]any)["couponId"] = num(0)
	}
	slices.SortFunc(rc, func(a, b any) int {
		return strings.Compare(fmt.Sprint(a.(map[string]any)["couponCode"]), fmt.Sprint(b.(map[string]any)["couponCode"]))
	})
}

// couponCodeCase writes codes, revoked and failed, in the case asked.
func TestCouponCodeCase(t *testing.T) {
	tests := []struct {
		query         string
		revoked, fail string
	}{
		{"", "ABAB123", "NOPE-X"},
		{"?couponCodeCase=UPPER", "ABAB123", "NOPE-X"},
		{"?couponCodeCase=LOWER", "abab123", "nope-x"},
		{"?couponCodeCase=AS_IT_IS", "abAB123", "nOpE-x"},
		{"?couponCodeCase=as_it_is", "abAB123", "nOpE-x"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			s := newTestServer(t)
			if _, err := s.e.Upload(s.ctx, couponkit.UploadRequest{SeriesID: demoOther, Rows: []couponkit.UploadRow{{Code: "abAB123", Customer: couponkit.ByID(demoCustomer)}}, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			status, got := s.post(tc.query, `{"couponSeriesId": "415449", "couponCodes": ["ABab123", "nOpE-x"]}`)
			if status != http.StatusOK || got["success"] != true {
				t.Fatalf("%d %v", status, got)
			}
			ent := got["entity"].(map[string]any)
			rc := ent["revokedCoupons"].([]any)[0].(map[string]any)
			fc := ent["failedToRevoke"].([]any)[0].(map[string]any)["couponCodes"].([]any)[0]
			if rc["couponCode"] != tc.revoked || fc != tc.fail {
				t.Errorf("revoked %v, failed %v; want %s and %s", rc["couponCode"], fc, tc.revoked, tc.fail)
			}
		})
	}
	s := newTestServer(t)
	status, got := s.post("?couponCodeCase=TITLE", `{"couponSeriesId": 415446, "couponCodes": ["3138309782"]}`)
	wantError(t, status, got, http.StatusOK, 1002)
	if cs, _ := s.e.CustomerCoupons(s.ctx, couponkit.ByID(demoCustomer), demoSeries); cs[0].State == coupon.Revoked {
		t.Error("a refused request revoked a coupon")
	}
}

// wantError checks an error envelope: the status, no entity, success false
// and one error with the code.
func wantError(t *testing.T, status int, got map[string]any, wantStatus, code int) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("HTTP %d, want %d", status, wantStatus)
	}
	want := map[string]any{"warnings": []any{}, "success": false}
	errs, _ := got["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v", got["errors"])
	}
	e := errs[0].(map[string]any)
	if e["status"] != false || e["code"] != num(code) || e["message"] == "" {
		t.Errorf("error %v, want code %d", e, code)
	}
	delete(got, "errors")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("envelope (-want +got):\n%s", d)
	}
}

// At most 50 codes per request, and 100 coupons per customer: more is an
// error and nothing is revoked.
func TestCaps(t *testing.T) {
	s := newTestServer(t)
	codes := func(n int) string {
		cs := make([]string, n)
		for i := range cs {
			cs[i] = fmt.Sprintf("%q", fmt.Sprintf("CAP-%03d", i))
		}
		return "[" + strings.Join(cs, ",") + "]"
	}
	status, got := s.post("", `{"couponSeriesId": 415446, "couponCodes": `+codes(51)+`}`)
	wantError(t, status, got, http.StatusOK, 1003)
	status, got = s.post("", `{"couponSeriesId": 415446, "couponCodes": `+codes(50)+`}`)
	if ent, ok := got["entity"].(map[string]any); status != http.StatusOK || !ok || ent["totalCount"] != num(50) || ent["failedCount"] != num(50) {
		t.Errorf("50 codes: %d %v", status, got)
	}

	upload := func(customer string, n int) {
		rows := make([]couponkit.UploadRow, n)
		for i := range rows {
			rows[i] = couponkit.UploadRow{Code: fmt.Sprintf("%s-%03d", customer, i), Customer: couponkit.ByID(customer)}
		}
		if res, err := s.e.Upload(s.ctx, couponkit.UploadRequest{SeriesID: demoOther, Rows: rows, Actor: "test"}); err != nil || len(res.Failed) > 0 {
			t.Fatal(err, res.Failed)
		}
	}
	upload(otherHolder, 101)
	upload(thirdHolder, 100)
	status, got = s.post("", `{"couponSeriesId": 415449, "customer": {"id": 341612616}}`)
	wantError(t, status, got, http.StatusOK, 1003)
	cs, err := s.e.CustomerCoupons(s.ctx, couponkit.ByID(otherHolder), demoOther)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.State == coupon.Revoked {
			t.Fatalf("%s was revoked by a refused request", c.Code)
		}
	}
	status, got = s.post("", `{"couponSeriesId": 415449, "customer": {"id": "123132"}}`)
	if ent, ok := got["entity"].(map[string]any); status != http.StatusOK || !ok || ent["totalCount"] != num(100) || len(ent["revokedCoupons"].([]any)) != 100 {
		t.Errorf("100 coupons: %d", status)
	}
}

// Requests the API refuses, and how.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		status int
		code   int
	}{
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed, 1002},
		{"not JSON", http.MethodPost, `couponSeriesId=415446`, http.StatusBadRequest, 1002},
		{"two JSON values", http.MethodPost, `{"couponSeriesId": 415446} {}`, http.StatusBadRequest, 1002},
		{"a code of the wrong type", http.MethodPost, `{"couponSeriesId": 415446, "couponCodes": [true]}`, http.StatusBadRequest, 1002},
		{"a series id of the wrong type", http.MethodPost, `{"couponSeriesId": {"id": 1}, "couponCodes": ["X"]}`, http.StatusBadRequest, 1002},
		{"several codes without the series", http.MethodPost, `{"couponCodes": ["3138309782", "3636820421"]}`, http.StatusOK, 1002},
		{"an unknown customer", http.MethodPost, `{"couponSeriesId": 415446, "customer": {"mobile": "999"}}`, http.StatusOK, 1004},
		{"two identifiers", http.MethodPost, `{"couponSeriesId": 415446, "customer": {"mobile": "11223569865", "id": "555567088"}}`, http.StatusOK, 1002},
		{"an unknown series", http.MethodPost, `{"couponSeriesId": 1, "couponCodes": ["X"]}`, http.StatusOK, 404},
		{"a customer without the series", http.MethodPost, `{"customer": {"id": "555567088"}}`, http.StatusOK, 1002},
		{"a body too large", http.MethodPost, `{"couponCodes": ["` + strings.Repeat("x", httpapi.DefaultMaxBody) + `"]}`, http.StatusBadRequest, 1002},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			status, got := s.do(tc.method, "", tc.body)
			wantError(t, status, got, tc.status, tc.code)
		})
	}
}

// A single code may be given without the series; ids may be numbers or
// strings; couponCodes may be one string.
func TestLenientRequests(t *testing.T) {
	for _, body := range []string{
		`{"couponCodes": ["3138309782"]}`,
		`{"couponSeriesId": "415446", "couponCodes": "3138309782"}`,
		`{"couponSeriesId": 415446, "couponCodes": [3138309782]}`,
		`{"couponSeriesId": 415446, "couponCodes": ["3138309782"], "customer": {"id": 555567088}}`,
	} {
		s := newTestServer(t)
		status, got := s.post("", body)
		ent, ok := got["entity"].(map[string]any)
		if status != http.StatusOK || !ok || ent["totalCount"] != num(1) || len(ent["revokedCoupons"].([]any)) != 1 {
			t.Errorf("%s: %d %v", body, status, got)
		}
	}
}

// Several codes of a generic series with the series revoke the generic code
// of every customer holding it: a bulk request revokes every coupon it
// names, the generic code of the series included.
func TestGenericInBulk(t *testing.T) {
	s := newTestServer(t)
	if _, err := s.e.Issue(s.ctx, couponkit.IssueRequest{SeriesID: demoGeneric, Customer: couponkit.ByID(otherHolder)}); err != nil {
		t.Fatal(err)
	}
	status, got := s.post("", `{"couponSeriesId": 415447, "couponCodes": ["SALE20", "NOPE"]}`)
	if status != http.StatusOK || got["success"] != true {
		t.Fatalf("%d %v", status, got)
	}
	var holders []string
	for _, x := range got["entity"].(map[string]any)["revokedCoupons"].([]any) {
		holders = append(holders, fmt.Sprint(x.(map[string]any)["issuedToUserId"]))
	}
	slices.Sort(holders)
	if d := cmp.Diff([]string{otherHolder, demoCustomer}, holders); d != "" {
		t.Errorf("holders (-want +got):\n%s", d)
	}
}
