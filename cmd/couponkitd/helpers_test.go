package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/series"
)

// The keys of the tests.
const (
	operatorSecret = "operator-secret-0123456789"
	tillSecret     = "till-secret-0123456789"
	testKeys       = "ops:operator:" + operatorSecret + ",pos:till:" + tillSecret
)

// waitServing reads the server's log until it names the address it
// serves on, and returns its base URL; the rest of the log goes to t.
func waitServing(t *testing.T, log io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	// The log is passed to t until the test ends, never after.
	var mu sync.Mutex
	live := true
	t.Cleanup(func() {
		mu.Lock()
		live = false
		mu.Unlock()
	})
	go func() {
		sc := bufio.NewScanner(log)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if live {
				t.Log(line)
			}
			mu.Unlock()
			if _, url, ok := strings.Cut(line, "serving on "); ok {
				select {
				case found <- url:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatal("the server stopped before serving")
		}
		return url
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start in 30s")
	}
	return ""
}

// call sends a JSON request with the secret's key and decodes a 2xx
// answer into out; it returns the status (0 and the error when there was
// no answer).
func call(hc *http.Client, base, secret, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// fiveOff is a series of generated codes worth 5 EUR, redeemable once.
func fiveOff() series.Series {
	return series.Series{
		Name:     "5 EUR off",
		TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 10, Alphabet: series.ConfusionFree},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	}
}

// customer names the i-th customer of a test.
func customer(i int) string { return fmt.Sprintf("cust-%04d", i) }

// issueCoupons creates a series with the operator's key and issues one
// coupon of it to each of n customers; it returns the series and the
// codes, the i-th customer's at i.
func issueCoupons(t *testing.T, base string, n int) (series.Series, []string) {
	t.Helper()
	hc := &http.Client{Timeout: time.Minute}
	var s series.Series
	if _, err := call(hc, base, operatorSecret, "POST", "/v1/series", fiveOff(), &s); err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 0, n)
	for lo := 0; lo < n; lo += httpapi.MaxIssueBatch {
		var batch httpapi.IssueBatchRequest
		for i := lo; i < min(n, lo+httpapi.MaxIssueBatch); i++ {
			batch.Requests = append(batch.Requests, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(customer(i))})
		}
		var res httpapi.IssueBatchResult
		if _, err := call(hc, base, operatorSecret, "POST", "/v1/issue/batch", batch, &res); err != nil {
			t.Fatal(err)
		}
		for i, o := range res.Outcomes {
			if o.Result == nil {
				t.Fatalf("issuing to %s: %+v", customer(lo+i), o.Error)
			}
			codes = append(codes, o.Result.Coupon.Code)
		}
	}
	return s, codes
}

// redeem redeems the i-th customer's code with the till's key.
func redeem(hc *http.Client, base, seriesID, code string, i int) (int, error) {
	req := couponkit.RedeemRequest{
		SeriesID:       seriesID,
		Customer:       couponkit.ByID(customer(i)),
		IdempotencyKey: fmt.Sprintf("pos-%d", i),
		Bill:           series.Money{Amount: decimal.NewFromInt(40), Currency: "EUR"},
	}
	var res couponkit.RedeemResult
	return call(hc, base, tillSecret, "POST", "/v1/coupons/"+code+"/redeem", req, &res)
}

// codeKeyFile writes a code key to a file and returns its path.
func codeKeyFile(t *testing.T) string {
	return writeKey(t, "test code key, 0123456789abcdef\n")
}

// shortKey writes a code key too short to use and returns its path.
func shortKey(t *testing.T) string { return writeKey(t, "short\n") }

// writeKey writes key to a file and returns its path.
func writeKey(t *testing.T, key string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "code.key")
	if err := os.WriteFile(p, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
