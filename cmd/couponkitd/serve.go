package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// sqlStore is what serve needs of a store: the engine's store, its
// migrations, its pool for the readiness check, and Close.
type sqlStore interface {
	store.Store
	Migrate(ctx context.Context) error
	DB() *sql.DB
	Close() error
}

// openStore opens and migrates the store dsn names: a postgres:// or
// postgresql:// URL is PostgreSQL, anything else an SQLite file's path.
func openStore(ctx context.Context, dsn string) (sqlStore, error) {
	var (
		st  sqlStore
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		st, err = postgres.Open(ctx, dsn)
	} else {
		st, err = sqlite.Open(ctx, dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating the store: %w", err)
	}
	return st, nil
}

// seriesKey is the code key of one series: HMAC-SHA256 of its id under
// the daemon's secret, so that no two series share a key.
func seriesKey(secret []byte, seriesID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(seriesID))
	return m.Sum(nil)
}

// readyTimeout bounds the readiness check's read.
const readyTimeout = 2 * time.Second

// serve runs the server of cfg until ctx is cancelled, then shuts it down:
// see the package's documentation.
func serve(ctx context.Context, cfg config, log io.Writer) (err error) {
	st, err := openStore(ctx, cfg.db)
	if err != nil {
		return err
	}
	// The store is closed last, after every handler has returned.
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the store: %w", cerr)
		}
	}()
	mux, err := routes(st, cfg, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	// Handlers' contexts derive from base, cancelled only when the
	// shutdown timeout has passed.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	inflight := newGate()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !inflight.enter() {
				// Only past the shutdown timeout, on a connection
				// that Close has not reached yet.
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
			defer inflight.exit()
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(log, "couponkitd: serving on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		// Serve failed on its own; no handler can still be starting.
		inflight.closeAndWait()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(log, "couponkitd: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if serr != nil {
		// Past the timeout: cancel what is left and close its connections,
		// then still wait for its handlers before the store closes.
		cancelBase()
		srv.Close()
		serr = fmt.Errorf("shutdown: requests still running after %v: %w", cfg.shutdownTimeout, serr)
	}
	inflight.closeAndWait()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	fmt.Fprintln(log, "couponkitd: stopped")
	return serr
}

// routes is the daemon's handler over an engine on st: health, readiness,
// and the HTTP API.
func routes(st sqlStore, cfg config, log io.Writer) (*http.ServeMux, error) {
	ecfg := couponkit.Config{Store: st}
	if cfg.codeKey != nil {
		ecfg.CodeKey = func(_ context.Context, seriesID string) ([]byte, error) {
			return seriesKey(cfg.codeKey, seriesID), nil
		}
	} else {
		fmt.Fprintln(log, "couponkitd: no -code-key-file: series of generated codes cannot be issued")
	}
	eng, err := couponkit.New(ecfg)
	if err != nil {
		return nil, fmt.Errorf("starting the engine: %w", err)
	}
	api := httpapi.New(eng, httpapi.Options{
		Keys:     cfg.keys,
		TillKeys: tillKeys(cfg.tillKeys),
		MaxBody:  cfg.maxBody,
		OnError: func(r *http.Request, err error) {
			fmt.Fprintf(log, "couponkitd: %s %s: %v\n", r.Method, r.URL.Path, err)
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", readyHandler(st.DB(), log))
	mux.Handle("/", api)
	return mux, nil
}

// readyHandler answers 200 when a read of db succeeds, 503 otherwise
// (logging why on log).
func readyHandler(db *sql.DB, log io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), db); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			fmt.Fprintf(log, "couponkitd: readyz: %v\n", err)
			return
		}
		io.WriteString(w, "ok\n")
	})
}

// ready reads the store: the cheapest query of one of its tables.
func ready(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var n int
	err := db.QueryRowContext(ctx, "SELECT 1 FROM ck_series LIMIT 1").Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// tillKeys returns the till protocol's keys of the tills' secrets by id:
// secrets that never expire.
func tillKeys(secrets map[string][]byte) tillhttp.Keys {
	return func(till string) (tillhttp.Secret, bool) {
		s, ok := secrets[till]
		return tillhttp.Secret{Value: s}, ok
	}
}
