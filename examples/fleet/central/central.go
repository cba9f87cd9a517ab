// Package central is the fleet example's central couponkit: it opens the
// store (SQLite or PostgreSQL), creates the demo offer, serves the tills
// over HTTP (package tillhttp, one secret per till) and reclaims lapsed
// leases on a timer. It also audits a series after a run (Audit). Tills
// never import it: it links the PostgreSQL driver.
package central

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// Options configure a central.
type Options struct {
	// Store is "sqlite:<file>" or "postgres:<dsn>".
	Store string
	// Addr is the address to listen on, such as "127.0.0.1:0".
	Addr string
	// Secrets are the tills the central knows, by id.
	Secrets map[string]string
	// SeriesID and Uses are the demo offer's id and use limit.
	SeriesID string
	Uses     int64
	// Reclaim is how often lapsed leases are reclaimed, with the
	// clock-skew allowance Skew.
	Reclaim time.Duration
	Skew    time.Duration
	// Log receives the central's log lines.
	Log io.Writer
}

// Closer is a store that can be closed.
type Closer interface {
	store.Store
	Close() error
}

// OpenStore opens and migrates the store of spec, "sqlite:<file>" or
// "postgres:<dsn>".
func OpenStore(ctx context.Context, spec string) (Closer, error) {
	kind, where, ok := strings.Cut(spec, ":")
	var st interface {
		Closer
		Migrate(context.Context) error
	}
	var err error
	switch {
	case ok && kind == "sqlite":
		st, err = sqlite.Open(ctx, where)
	case ok && kind == "postgres":
		st, err = postgres.Open(ctx, where)
	default:
		return nil, errcode.New(errcode.InvalidArgument, "store", "is sqlite:<file> or postgres:<dsn>")
	}
	if err != nil {
		return nil, fmt.Errorf("central: opening %s: %w", kind, err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("central: migrating: %w", err)
	}
	return st, nil
}

// Run serves the central until ctx is done. Once it listens it writes
// "listening on http://<addr>" as a line to ready.
func Run(ctx context.Context, o Options, ready io.Writer) error {
	lg := log.New(o.Log, "central: ", log.Lmicroseconds)
	st, err := OpenStore(ctx, o.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := couponkit.New(couponkit.Config{Store: st})
	if err != nil {
		return err
	}
	if err := EnsureOffer(ctx, eng, o.SeriesID, o.Uses); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           tillhttp.NewHandler(eng, func(till string) ([]byte, bool) { s, ok := o.Secrets[till]; return []byte(s), ok }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go reclaimLoop(ctx, eng, o, lg)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if _, err := fmt.Fprintf(ready, "listening on http://%s\n", ln.Addr()); err != nil {
		return err
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// reclaimLoop reclaims the lapsed leases of the series every o.Reclaim.
func reclaimLoop(ctx context.Context, eng *couponkit.Engine, o Options, lg *log.Logger) {
	if o.Reclaim <= 0 {
		return
	}
	t := time.NewTicker(o.Reclaim)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ls, err := eng.ReclaimLapsed(ctx, couponkit.ReclaimRequest{Skew: o.Skew, SeriesID: o.SeriesID})
		if err != nil && ctx.Err() == nil {
			lg.Printf("reclaiming: %v", err)
		}
		for _, l := range ls {
			lg.Printf("reclaimed %d uses of lease %s of %s", l.Reclaimed.Uses, l.ID, l.Till)
		}
	}
}

// EnsureOffer creates the demo series id with a limit of uses and issues
// its code once, unless that was done; a central stopped halfway through
// finishes when it starts again.
func EnsureOffer(ctx context.Context, eng *couponkit.Engine, id string, uses int64) error {
	if _, err := eng.Series(ctx, id); errors.Is(err, errcode.ErrNotFound) {
		if _, err := eng.CreateSeries(ctx, offer.Series(id, uses)); err != nil && !errors.Is(err, errcode.ErrAlreadyExists) {
			return fmt.Errorf("central: creating the demo series: %w", err)
		}
	} else if err != nil {
		return err
	}
	_, err := eng.Issue(ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID(offer.Issuer), IdempotencyKey: "fleet-first-issue", Actor: "fleet"})
	if err != nil {
		return fmt.Errorf("central: issuing the demo code: %w", err)
	}
	return nil
}
