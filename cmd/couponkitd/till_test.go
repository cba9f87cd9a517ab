package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// tillProtoSecret is the till pos-1's secret of the till protocol.
const tillProtoSecret = "pos-1-protocol-secret-0123"

// TestRunTillKeys runs the server in-process with -till-keys: the till
// with its key calls the till protocol under /till, a wrong secret or an
// unknown till is 401, and the API keys are not till keys.
func TestRunTillKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(t.TempDir(), "ck.db")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-db", db, "-addr", "127.0.0.1:0", "-keys", testKeys},
			func(k string) string {
				if k == envTillKeys {
					return "pos-1:" + tillProtoSecret + ",pos-2:pos-2-protocol-secret-0123"
				}
				return ""
			}, io.Discard, pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("run did not return 30s after its context ended")
		}
	})
	base := waitServing(t, pr)
	client := func(till, secret string) *tillhttp.Client {
		return &tillhttp.Client{BaseURL: base + "/till", Till: till, Secret: []byte(secret),
			HTTP: &http.Client{Timeout: 30 * time.Second}, Retries: -1}
	}
	if _, err := client("pos-1", tillProtoSecret).TillFeed(ctx, couponkit.TillFeedRequest{Till: "pos-1"}); err != nil {
		t.Errorf("the feed with pos-1's key: %v, want an answer", err)
	}
	for _, tc := range []struct{ name, till, secret string }{
		{"a wrong secret", "pos-1", "wrong-secret-0123456789"},
		{"another till's secret", "pos-1", "pos-2-protocol-secret-0123"},
		{"an unknown till", "pos-9", tillProtoSecret},
		{"a till role's API key", "pos", tillSecret},
	} {
		_, err := client(tc.till, tc.secret).TillFeed(ctx, couponkit.TillFeedRequest{Till: tc.till})
		if !errors.Is(err, tillhttp.ErrUnauthorized) {
			t.Errorf("the feed with %s: %v, want %v", tc.name, err, tillhttp.ErrUnauthorized)
		}
	}
	// The status itself, as a till without the client sees it.
	req, err := http.NewRequest("GET", base+"/till/v1/feed", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(tillhttp.HeaderTill, "pos-1")
	req.Header.Set("Authorization", "Bearer wrong-secret-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /till/v1/feed with a wrong secret: %d, want 401", resp.StatusCode)
	}
}
