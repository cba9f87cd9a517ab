package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/postgres"
)

// tillSecret is the API key the HTTP contenders' clients present (no
// comma: couponkitd's -keys separates keys by commas).
const tillSecret = "httpload-till-key-not-a-secret"

// bench is one run's engine over a private schema, and the loopback
// server of its HTTP handler.
type bench struct {
	dsn, schema string
	st          *postgres.Store
	e           *couponkit.Engine
	srv         *http.Server
	base        string
	client      *http.Client
	seq         int
	// With cfg.daemon: couponkitd serving the same schema, and the
	// directory its binary was built in ("" when given -couponkitd).
	daemon *daemon
	tmp    string
}

// open creates the schema httpload_<random>, a migrated store on it with
// the store's default pool, the engine, and the daemon's handler served on
// 127.0.0.1 with a Till key; with cfg.daemon, it also starts couponkitd on
// the same schema (see startDaemon). Clients share one keep-alive client.
func open(ctx context.Context, cfg config) (b *bench, err error) {
	var r [6]byte
	rand.Read(r[:])
	b = &bench{dsn: cfg.dsn, schema: "httpload_" + hex.EncodeToString(r[:])}
	if err := b.exec(ctx, "CREATE SCHEMA "+b.schema); err != nil {
		return nil, fmt.Errorf("creating the schema: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.close())
		}
	}()
	u, err := url.Parse(cfg.dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", b.schema)
	u.RawQuery = q.Encode()
	if b.st, err = postgres.Open(ctx, u.String()); err != nil {
		return nil, err
	}
	if err = b.st.Migrate(ctx); err != nil {
		return nil, err
	}
	b.e, err = couponkit.New(couponkit.Config{
		Store:   b.st,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("httpload code key, not a secret"), nil },
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.srv = &http.Server{Handler: httpapi.New(b.e, httpapi.Options{
		Keys: []httpapi.APIKey{{Name: "till", Secret: []byte(tillSecret), Role: httpapi.Till}},
	}), ReadHeaderTimeout: 10 * time.Second}
	go b.srv.Serve(ln)
	b.base = "http://" + ln.Addr().String()
	b.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: 2 * cfg.clients, MaxIdleConnsPerHost: cfg.clients, IdleConnTimeout: time.Minute,
	}}
	if cfg.daemon {
		err = b.startDaemon(ctx, cfg.couponkitd, u.String())
	}
	return b, err
}

// startDaemon starts couponkitd on the bench's schema (dsn names it in
// its search_path): the binary at bin, or else one built in a temporary
// directory.
func (b *bench) startDaemon(ctx context.Context, bin, dsn string) (err error) {
	if bin == "" {
		if b.tmp, err = os.MkdirTemp("", "httpload-"); err != nil {
			return err
		}
		if bin, err = buildDaemon(ctx, b.tmp); err != nil {
			return err
		}
	}
	b.daemon, err = startDaemon(ctx, bin, dsn, tillSecret)
	return err
}

// stopDaemon stops couponkitd, if it runs, and answers how it exited.
func (b *bench) stopDaemon() (string, error) {
	if b.daemon == nil {
		return "", nil
	}
	d := b.daemon
	b.daemon = nil
	return d.stop()
}

// exec runs sql on a connection of its own, outside the store's pool.
func (b *bench) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// close stops the server, closes the store and drops the schema.
func (b *bench) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	_, err := b.stopDaemon()
	errs = append(errs, err)
	if b.tmp != "" {
		errs = append(errs, os.RemoveAll(b.tmp))
	}
	if b.srv != nil {
		b.client.CloseIdleConnections()
		errs = append(errs, b.srv.Shutdown(ctx))
	}
	if b.st != nil {
		errs = append(errs, b.st.Close())
	}
	errs = append(errs, b.exec(ctx, "DROP SCHEMA IF EXISTS "+b.schema+" CASCADE"))
	return errors.Join(errs...)
}

// redeemer redeems coupon i of the trial's series, held by customer
// tag+"c"+i, with code tag+i.
type redeemer func(ctx context.Context, req couponkit.RedeemRequest) error

// inProcess calls the engine.
func (b *bench) inProcess(ctx context.Context, req couponkit.RedeemRequest) error {
	_, err := b.e.Redeem(ctx, req)
	return err
}

// overHTTP posts the request to the in-process server's redeem route.
func (b *bench) overHTTP(ctx context.Context, req couponkit.RedeemRequest) error {
	return b.post(ctx, b.base, req)
}

// overDaemon posts the request to couponkitd's redeem route.
func (b *bench) overDaemon(ctx context.Context, req couponkit.RedeemRequest) error {
	return b.post(ctx, b.daemon.base, req)
}

// post posts the request to the redeem route of the server at base, its
// idempotency key in the header; anything but 200 is an error.
func (b *bench) post(ctx context.Context, base string, req couponkit.RedeemRequest) error {
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/coupons/"+url.PathEscape(req.Code)+"/redeem", bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", "Bearer "+tillSecret)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(httpapi.HeaderIdempotencyKey, key)
	resp, err := b.client.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("redeem %s: %s: %s", req.Code, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// prepare creates a fresh series and stores n coupons of it, each issued
// to a customer of its own; it returns the series and the codes' prefix.
func (b *bench) prepare(ctx context.Context, n int) (sid, tag string, err error) {
	sr, err := b.e.CreateSeries(ctx, series.Series{
		Name: "httpload", TimeZone: "UTC",
		Source:   series.Source{Kind: series.Uploaded},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
	})
	if err != nil {
		return "", "", err
	}
	b.seq++
	tag = "HL" + strconv.Itoa(b.seq) + "X"
	at := time.Now()
	const chunk = 5000
	for from := 0; from < n; from += chunk {
		cs := make([]coupon.Coupon, 0, chunk)
		for i := from; i < min(from+chunk, n); i++ {
			k := strconv.Itoa(i)
			cs = append(cs, coupon.Coupon{ID: sr.ID + "-" + k, SeriesID: sr.ID, Code: tag + k, Canonical: tag + k,
				State: coupon.Issued, Holder: tag + "c" + k, CreatedAt: at, IssuedAt: at,
				ExpiresAt: at.Add(30 * 24 * time.Hour), LastStatusChange: at, Version: 2})
		}
		if _, err := b.st.InsertCoupons(ctx, cs, nil); err != nil {
			return "", "", err
		}
	}
	return sr.ID, tag, nil
}

// timed redeems every coupon of a fresh series of n through redeem with
// clients goroutines and answers the rate in redemptions per second. Any
// failed redemption, or a stored count other than n, is an error.
func (b *bench) timed(ctx context.Context, redeem redeemer, clients, n int) (float64, error) {
	sid, tag, err := b.prepare(ctx, n)
	if err != nil {
		return 0, fmt.Errorf("preparing: %w", err)
	}
	bill := series.Money{Amount: decimal.NewFromInt(40)}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, clients)
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				k := strconv.Itoa(i)
				if err := redeem(ctx, couponkit.RedeemRequest{
					Code: tag + k, Customer: couponkit.ByID(tag + "c" + k), IdempotencyKey: "k",
					Bill: bill, Place: limits.Place{Till: "t1"},
				}); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var stored int
	if err := b.st.DB().QueryRowContext(ctx, "SELECT count(*) FROM ck_redemptions WHERE series_id = $1", sid).Scan(&stored); err != nil {
		return 0, err
	}
	if stored != n {
		return 0, fmt.Errorf("series %s stored %d redemptions, want %d", sid, stored, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}
