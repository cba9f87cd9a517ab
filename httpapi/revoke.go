package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
)

// RevokePath is the path of the coupon revoke API (see the package
// documentation). It answers with the revoke API's own envelope, not
// httperr's, as its clients expect.
const RevokePath = "/v2/coupon/revoke"

// revokeRequest is the request body of the revoke API.
type revokeRequest struct {
	CouponSeriesID flexString    `json:"couponSeriesId"`
	Customer       *customerJSON `json:"customer"`
	CouponCodes    flexStrings   `json:"couponCodes"`
}

// customerJSON identifies the customer: by id, mobile, email or external id.
type customerJSON struct {
	ID         flexString `json:"id"`
	Mobile     flexString `json:"mobile"`
	Email      flexString `json:"email"`
	ExternalID flexString `json:"externalId"`
}

// envelope is the response of every call. Entity is left out of error
// responses, as the API documents.
type envelope struct {
	Entity   *entity    `json:"entity,omitempty"`
	Warnings []apiError `json:"warnings"`
	Errors   []apiError `json:"errors"`
	Success  bool       `json:"success"`
}

// entity is the result of a revocation.
type entity struct {
	TotalCount     int             `json:"totalCount"`
	FailedCount    int             `json:"failedCount"`
	RevokedCoupons []revokedCoupon `json:"revokedCoupons"`
	FailedToRevoke []failure       `json:"failedToRevoke"`
}

type revokedCoupon struct {
	CouponID       jsonID `json:"couponId"`
	CouponCode     string `json:"couponCode"`
	IssuedToUserID jsonID `json:"issuedToUserId"`
}

// failure groups the codes that failed for one reason. The documented API's
// "Partial success" example spells the code "errroCode" and "errrorCode";
// the documented name, used by its other examples, is errorCode.
type failure struct {
	ErrorCode    int      `json:"errorCode"`
	ErrorMessage string   `json:"errorMessage"`
	CouponCodes  []string `json:"couponCodes"`
}

type apiError struct {
	Status  bool   `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// failureText is the documented API's message for each failure code ("Coupon not
// found " keeps the documented API's trailing space).
var failureText = map[errcode.Code]string{
	errcode.NotFound:       "Coupon code not found",
	errcode.Redeemed:       "Coupon code redeemed",
	errcode.CouponNotFound: "Coupon not found ",
}

// errorText is the documented API's message for each request error code.
var errorText = map[errcode.Code]string{
	errcode.GenericNotSupported: "Unsupported coupons series config with client handling type GENERIC",
	errcode.SeriesExpired:       "Coupon Series / Campaign has expired",
	errcode.NothingToRevoke:     "CouponCode/s or customer info is mandatory",
}

// codeCases maps the couponCodeCase query parameter to the engine's case.
var codeCases = map[string]couponkit.CodeCase{
	"":         couponkit.Upper,
	"UPPER":    couponkit.Upper,
	"LOWER":    couponkit.Lower,
	"AS_IT_IS": couponkit.AsCreated,
}

// revoke serves the revoke API.
func (s *server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeRevokeError(w, http.StatusMethodNotAllowed, errcode.InvalidArgument, "use POST")
		return
	}
	cc, ok := codeCases[strings.ToUpper(r.URL.Query().Get("couponCodeCase"))]
	if !ok {
		writeRevokeError(w, http.StatusOK, errcode.InvalidArgument, "couponCodeCase must be LOWER, UPPER or AS_IT_IS")
		return
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		writeRevokeError(w, http.StatusBadRequest, errcode.InvalidArgument, "the body is not a revoke request: "+err.Error())
		return
	}
	rr := couponkit.RevokeRequest{
		SeriesID: string(req.CouponSeriesID),
		Codes:    req.CouponCodes,
		CodeCase: cc,
		Reason:   "revoke API",
	}
	s.actor(r, &rr.Actor)
	if c := req.Customer; c != nil {
		rr.Customer = couponkit.CustomerRef{ID: string(c.ID), Mobile: string(c.Mobile), Email: string(c.Email), ExternalID: string(c.ExternalID)}
	}
	res, err := s.e.Revoke(r.Context(), rr)
	if err != nil {
		status, code, msg := describe(err)
		if status == http.StatusInternalServerError && s.opts.OnError != nil {
			s.opts.OnError(r, err)
		}
		writeRevokeError(w, status, code, msg)
		return
	}
	writeRevokeJSON(w, http.StatusOK, &envelope{Entity: toEntity(&res), Success: true})
}

// decodeRequest reads one JSON object; an empty body is an empty request.
func decodeRequest(body io.Reader) (revokeRequest, error) {
	var req revokeRequest
	dec := json.NewDecoder(body)
	if err := dec.Decode(&req); err != nil {
		if err == io.EOF {
			return revokeRequest{}, nil
		}
		return revokeRequest{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return revokeRequest{}, errors.New("more than one JSON value")
	}
	return req, nil
}

// describe maps an engine error to the HTTP status, code and message of the
// error response. Refusals of the request (bad input, 108, 712, 756, the
// 50-code and 100-coupon caps) are HTTP 200 with success false, as the API documents
// shows them; a failure of the service is 500 (503 when the store is
// unavailable), with a message that tells nothing of the inside.
func describe(err error) (int, errcode.Code, string) {
	var ce *errcode.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, errcode.Unavailable, "the request was cancelled"
	case !errors.As(err, &ce):
		return http.StatusInternalServerError, 0, "internal error"
	}
	switch ce.Code {
	case errcode.Unavailable:
		return http.StatusServiceUnavailable, ce.Code, "the service is unavailable; try again"
	case errcode.Conflict, errcode.GuardFailed, errcode.InvalidConfig:
		return http.StatusInternalServerError, ce.Code, "internal error"
	}
	if msg, ok := errorText[ce.Code]; ok {
		return http.StatusOK, ce.Code, msg
	}
	msg := ce.Message
	if msg == "" {
		msg = ce.Code.String()
	}
	return http.StatusOK, ce.Code, msg
}

func toEntity(res *couponkit.RevokeResult) *entity {
	out := &entity{
		TotalCount:     res.Total,
		FailedCount:    res.FailedCount(),
		RevokedCoupons: make([]revokedCoupon, 0, len(res.Revoked)),
		FailedToRevoke: make([]failure, 0, len(res.Failed)),
	}
	for _, c := range res.Revoked {
		out.RevokedCoupons = append(out.RevokedCoupons, revokedCoupon{CouponID: jsonID(c.CouponID), CouponCode: c.Code, IssuedToUserID: jsonID(c.Holder)})
	}
	for _, f := range res.Failed {
		msg, ok := failureText[f.Code]
		if !ok {
			msg = f.Message
		}
		out.FailedToRevoke = append(out.FailedToRevoke, failure{ErrorCode: int(f.Code), ErrorMessage: msg, CouponCodes: f.Codes})
	}
	return out
}

func writeRevokeError(w http.ResponseWriter, status int, code errcode.Code, msg string) {
	writeRevokeJSON(w, status, &envelope{Errors: []apiError{{Status: false, Code: int(code), Message: msg}}})
}

func writeRevokeJSON(w http.ResponseWriter, status int, env *envelope) {
	if env.Warnings == nil {
		env.Warnings = []apiError{}
	}
	if env.Errors == nil {
		env.Errors = []apiError{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	if err := enc.Encode(env); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// flexString decodes a JSON string or number (the documented API's ids are numbers in
// some places and strings in others) as its text; null is "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("want a string or a number, got " + string(b))
	}
	*f = flexString(n.String())
	return nil
}

// flexStrings decodes a JSON array of codes, or one code alone.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var ss []flexString
		if err := json.Unmarshal(b, &ss); err != nil {
			return err
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = string(s)
		}
		*f = out
		return nil
	}
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = nil
	} else {
		*f = flexStrings{string(s)}
	}
	return nil
}

// jsonID writes an id as a JSON number when it is a plain decimal number
// that JSON readers hold exactly (no leading zero, at most 15 digits), as
// the documented API's ids are, and as a string otherwise; "" is null.
type jsonID string

func (id jsonID) MarshalJSON() ([]byte, error) {
	s := string(id)
	if s == "" {
		return []byte("null"), nil
	}
	if numeric(s) {
		return []byte(s), nil
	}
	return json.Marshal(s)
}

func numeric(s string) bool {
	if len(s) == 0 || len(s) > 15 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
