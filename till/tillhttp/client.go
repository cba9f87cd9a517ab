package tillhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi/httperr"
	"github.com/couponkit/couponkit/series"
)

// Client is a till's client of the central's handler. Its zero value is
// not usable: set BaseURL, Till and Secret. It is safe for concurrent use.
type Client struct {
	// BaseURL is the central's address, such as "https://central:8443".
	BaseURL string
	Till    string
	Secret  []byte
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each attempt; 0 means 5 seconds.
	Timeout time.Duration
	// Retries is how many times a call is sent again, with the same
	// message, after a network error, a timeout or a 5xx answer; 0 means
	// 2. Negative means none.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next
	// one; 0 means 100ms.
	Backoff time.Duration
}

// GrantLease asks the central for a new lease (couponkit.Engine.GrantLease).
func (c *Client) GrantLease(ctx context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error) {
	var out couponkit.LeaseResult
	return out, c.post(ctx, "/v1/leases/grant", req, &out)
}

// RenewLease moves one of the till's leases' End (couponkit.Engine.RenewLease).
func (c *Client) RenewLease(ctx context.Context, call couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	var out couponkit.LeaseResult
	return out, c.post(ctx, "/v1/leases/renew", call, &out)
}

// TopUpLease grants more uses on one of the till's leases
// (couponkit.Engine.TopUpLease).
func (c *Client) TopUpLease(ctx context.Context, call couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	var out couponkit.LeaseResult
	return out, c.post(ctx, "/v1/leases/topup", call, &out)
}

// ReturnLease gives unused uses back (couponkit.Engine.ReturnLease).
func (c *Client) ReturnLease(ctx context.Context, call couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	var out couponkit.LeaseResult
	return out, c.post(ctx, "/v1/leases/return", call, &out)
}

// UploadJournal sends a batch of the till's journal
// (couponkit.Engine.ApplyJournal).
func (c *Client) UploadJournal(ctx context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error) {
	var out couponkit.JournalAck
	return out, c.post(ctx, "/v1/journal", b, &out)
}

// RedeemAtTill asks the central to decide a use online
// (couponkit.Engine.RedeemAtTill). A refused use comes back as the
// *refusal.Error the central gave.
func (c *Client) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	var out couponkit.TillRedeemResult
	return out, c.post(ctx, "/v1/redeem", req, &out)
}

// TillFeed reads the till's sync down after req.After, at most req.Limit
// events (couponkit.Engine.TillFeed); req.Till is the client's.
func (c *Client) TillFeed(ctx context.Context, req couponkit.TillFeedRequest) (couponkit.TillFeedPage, error) {
	q := url.Values{"after": {req.After.String()}}
	if req.Limit != 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	var out couponkit.TillFeedPage
	return out, c.do(ctx, http.MethodGet, "/v1/feed?"+q.Encode(), nil, &out)
}

// Series fetches the configuration of a series the till holds a lease of,
// for its offline decisions (couponkit.Engine.TillSeries); any other
// series is not found.
func (c *Client) Series(ctx context.Context, id string) (series.Series, error) {
	var out series.Series
	return out, c.do(ctx, http.MethodGet, "/v1/series/"+url.PathEscape(id), nil, &out)
}

func (c *Client) post(ctx context.Context, path string, msg, out any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("tillhttp: encoding the message: %w", err)
	}
	return c.do(ctx, http.MethodPost, path, body, out)
}

// do sends the request, again after a retryable failure, and decodes the
// answer into out or returns its error.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	retries, wait := c.Retries, c.Backoff
	if retries == 0 {
		retries = 2
	}
	if wait == 0 {
		wait = 100 * time.Millisecond
	}
	var err error
	for attempt := 0; ; attempt++ {
		var retry bool
		retry, err = c.once(ctx, method, path, body, out)
		if !retry || attempt >= retries {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tillhttp: %w (last failure: %w)", ctx.Err(), err)
		case <-time.After(wait << attempt):
		}
	}
}

// once sends the request once, and reports whether a failure is worth
// another attempt.
func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) (retry bool, err error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("tillhttp: %w", err)
	}
	req.Header.Set(HeaderTill, c.Till)
	req.Header.Set("Authorization", "Bearer "+string(c.Secret))
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return true, fmt.Errorf("tillhttp: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return true, fmt.Errorf("tillhttp: reading the answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("tillhttp: decoding the answer: %w", err)
		}
		return false, nil
	}
	err = answerError(resp.StatusCode, data)
	return resp.StatusCode >= 500 || errcode.CodeOf(err) == errcode.Conflict, err
}

// answerError turns an error answer back into the typed error it was.
func answerError(code int, data []byte) error {
	switch code {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	}
	if err, ok := httperr.Err(data); ok {
		return err
	}
	return errcode.Wrap(errcode.Unavailable, errors.New(http.StatusText(code)), "the central answered "+fmt.Sprint(code))
}
