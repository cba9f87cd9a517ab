package httpapi

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/couponkit/couponkit/httpapi/httperr"
)

// Role is what an API key may do.
type Role uint8

// The roles.
const (
	// Operator may call every route.
	Operator Role = iota + 1
	// Checkout serves shoppers: it may read series, validate, redeem,
	// hold, confirm and release, and read the coupons and history of the
	// one customer its request is made for (the Couponkit-Customer
	// header, which must name the path's customer). It may not revoke,
	// transfer, reissue, issue, upload, change series, read a coupon's
	// details (they show its holder) or the feed.
	Checkout
	// Till is a till's online calls: read series, validate, redeem, hold,
	// confirm, release and reverse. (The till protocol under /till has
	// its own secrets; see package tillhttp.)
	Till
)

// HeaderCustomer names the customer a checkout's request is made for.
const HeaderCustomer = "Couponkit-Customer"

// APIKey is one key the handler accepts: its secret, sent as
// "Authorization: Bearer <secret>", and its role. Name identifies it in
// the throttle and is recorded as the actor of a change that names none.
type APIKey struct {
	Name   string
	Secret []byte
	Role   Role
}

// DefaultFailedLookups is how many failed code look-ups (a code route
// answered 404) one key, or one client address without keys, may make per
// hour: the throttle's bucket holds this many and refills at this rate.
// At 100 an hour a guesser tries 2,400 codes a day; against a series
// filled to its default ratio of 1 in 10,000 that is one hit in about
// four days per key.
const DefaultFailedLookups = 100

var (
	errUnauthorized = &httperr.StatusError{Status: http.StatusUnauthorized, Name: "unauthorized", Message: "a valid API key is required (Authorization: Bearer <key>)"}
	errForbidden    = &httperr.StatusError{Status: http.StatusForbidden, Name: "forbidden", Message: "this API key's role may not do this"}
	errThrottled    = &httperr.StatusError{Status: http.StatusTooManyRequests, Name: "throttled", Message: "too many failed code look-ups; try again later"}
)

// caller is who sends a request: its key (nil without keys) and the
// throttle's name for it.
type caller struct {
	key  *APIKey
	name string
}

// authenticate returns the key r's bearer secret is, compared in constant
// time with every key (the time does not tell which key, nor how much of
// a secret matched). Without keys, every request is an operator's.
func (s *server) authenticate(r *http.Request) (caller, error) {
	if len(s.opts.Keys) == 0 {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return caller{name: "addr:" + host}, nil
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || given == "" {
		return caller{}, errUnauthorized
	}
	found := -1
	for i := range s.opts.Keys {
		if subtle.ConstantTimeCompare([]byte(given), s.opts.Keys[i].Secret) == 1 && len(s.opts.Keys[i].Secret) > 0 {
			found = i
		}
	}
	if found < 0 {
		return caller{}, errUnauthorized
	}
	k := &s.opts.Keys[found]
	return caller{key: k, name: "key:" + k.Name}, nil
}

// allowed reports whether c may call a route open to roles; scope, when
// not empty, is the customer the route reads, which a checkout may only
// do for the customer its request is made for.
func (c caller) allowed(r *http.Request, roles []Role, scope string) error {
	if c.key == nil || c.key.Role == Operator {
		return nil
	}
	for _, role := range roles {
		if role != c.key.Role {
			continue
		}
		if c.key.Role == Checkout && scope != "" && r.Header.Get(HeaderCustomer) != scope {
			return errForbidden
		}
		return nil
	}
	return errForbidden
}

// throttle is a token bucket per caller of failed code look-ups.
type throttle struct {
	perHour float64
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the throttle's memory: past it, full buckets are
// dropped (a full bucket is the same as none).
const maxBuckets = 100_000

// blocked reports whether name has no failed look-up left.
func (t *throttle) blocked(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refill(name).tokens < 1
}

// failed takes one failed look-up from name's bucket.
func (t *throttle) failed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.refill(name)
	b.tokens--
	if len(t.buckets) > maxBuckets {
		for k, x := range t.buckets {
			if x.tokens >= t.perHour {
				delete(t.buckets, k)
			}
		}
	}
}

func (t *throttle) refill(name string) *bucket {
	now := t.now()
	b, ok := t.buckets[name]
	if !ok {
		b = &bucket{tokens: t.perHour, at: now}
		t.buckets[name] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(t.perHour, b.tokens+d.Hours()*t.perHour)
	}
	b.at = now
	return b
}
