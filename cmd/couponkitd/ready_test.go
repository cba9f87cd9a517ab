package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/couponkit/couponkit/store/sqlite"
)

// TestReady: /readyz is 200 on a migrated store, 503 on one without the
// schema and on a closed one.
func TestReady(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := readyHandler(st.DB(), io.Discard)
	status := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}
	if got := status(); got != http.StatusServiceUnavailable {
		t.Errorf("readyz before migrating: %d, want 503", got)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != http.StatusOK {
		t.Errorf("readyz on a migrated store: %d, want 200", got)
	}
	st.Close()
	if got := status(); got != http.StatusServiceUnavailable {
		t.Errorf("readyz on a closed store: %d, want 503", got)
	}
}
