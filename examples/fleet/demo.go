package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/central"
	"github.com/couponkit/couponkit/examples/fleet/netcut"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/examples/fleet/tillproc"
)

// demoOptions shape the demo.
type demoOptions struct {
	dir    string
	uses   int64         // the offer's use limit
	people int           // customers who come to the tills
	sales  int           // sale attempts per till
	outage time.Duration // how long the tills are cut off
}

// tills are the demo's tills and their secrets.
var tills = []struct{ id, secret string }{{"T1", "s1"}, {"T2", "s2"}, {"T3", "s3"}}

func runDemo(ctx context.Context, args []string, w io.Writer, sp spawner) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	o := demoOptions{}
	fs.StringVar(&o.dir, "dir", "", "directory of the demo's files (default: a temporary one, removed at the end)")
	fs.Int64Var(&o.uses, "uses", 200, "the offer's use limit")
	fs.IntVar(&o.people, "customers", 600, "how many customers come to the tills")
	fs.IntVar(&o.sales, "sales", 100, "sale attempts per till")
	fs.DurationVar(&o.outage, "outage", 1500*time.Millisecond, "how long the tills are cut off from the central")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "couponkit-fleet")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dir = dir
	}
	return demo(ctx, w, sp, o)
}

// demo runs a central and three tills as processes, cuts the tills off
// for a while, heals, and prints the books.
func demo(ctx context.Context, w io.Writer, sp spawner, o demoOptions) error {
	logf, err := os.Create(filepath.Join(o.dir, "fleet.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	proxy, err := netcut.Listen("127.0.0.1:0", "127.0.0.1:1")
	if err != nil {
		return err
	}
	defer proxy.Close()
	spec := "sqlite:" + filepath.Join(o.dir, "central.db")
	c, err := start(sp, logf, "central", centralArgs(spec, o)...)
	if err != nil {
		return err
	}
	defer c.kill()
	addr, err := c.addr(ctx)
	if err != nil {
		return err
	}
	proxy.SetTarget(addr)
	fmt.Fprintf(w, "central on %s (%s): offer %s, code %s once per customer, at most %d uses\n", addr, spec, offer.SeriesID, offer.Code, o.uses)
	fmt.Fprintf(w, "three tills reach it through a proxy on %s; each makes %d sale attempts to customers who bring the code\n", proxy.Addr(), o.sales)
	ps, err := startTills(sp, logf, proxy.Addr(), o)
	if err != nil {
		return err
	}
	if err := outage(ctx, w, proxy, ps, o); err != nil {
		return err
	}
	for _, p := range ps {
		if err := p.wait(ctx); err != nil {
			return fmt.Errorf("%w (see %s)", err, logf.Name())
		}
		var s tillproc.Summary
		if err := json.Unmarshal([]byte(p.last()), &s); err != nil {
			return fmt.Errorf("%s's summary %q: %w", p.name, p.last(), err)
		}
		fmt.Fprintf(w, "till %s: %d sold (%d decided online, %d offline), %d of them given back; %d refused by the rules, %d declined offline (of these, %d sales in doubt voided); %d uses returned%s\n",
			s.Till, s.Sold, s.Online, s.Offline, s.Reversed, s.Refused, s.Declined, s.Voided, s.Returned, map[bool]string{true: " (then every use left was leased)"}[s.SoldOut])
	}
	if err := c.stop(); err != nil {
		return err
	}
	st, err := central.OpenStore(ctx, spec)
	if err != nil {
		return err
	}
	defer st.Close()
	return report(ctx, w, st, offer.SeriesID)
}

func centralArgs(spec string, o demoOptions) []string {
	var secrets []string
	for _, t := range tills {
		secrets = append(secrets, t.id+"="+t.secret)
	}
	return []string{"central", "-store", spec, "-secrets", strings.Join(secrets, ","),
		"-uses", strconv.FormatInt(o.uses, 10), "-reclaim", "200ms", "-skew", "1s"}
}

// tillArgs are the arguments of till i: its customers are a third of
// them, and a few of its neighbour's, so that some customers use the code
// at two tills while they are cut off.
func tillArgs(i int, url string, o demoOptions, extra ...string) []string {
	third := o.people / len(tills)
	from, to := max(1, i*third-5), min(o.people, (i+1)*third+5)
	t := tills[i]
	return append([]string{"till", "-central", url, "-id", t.id, "-secret", t.secret,
		"-file", filepath.Join(o.dir, t.id+".sqlite"), "-acks", filepath.Join(o.dir, t.id+".acks"),
		"-sales", strconv.Itoa(o.sales), "-customers", fmt.Sprintf("%d:%d", from, to)}, extra...)
}

func startTills(sp spawner, logw io.Writer, proxy string, o demoOptions) ([]*proc, error) {
	var ps []*proc
	for i, t := range tills {
		p, err := start(sp, logw, "till "+t.id, tillArgs(i, "http://"+proxy, o)...)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// outage waits until the tills have sold a little, cuts them off for
// o.outage, heals, and prints what each sold meanwhile.
func outage(ctx context.Context, w io.Writer, proxy *netcut.Proxy, ps []*proc, o demoOptions) error {
	for deadline := time.Now().Add(10 * time.Second); sum(acked(o)) < 30 && time.Now().Before(deadline); {
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	proxy.Cut()
	before := acked(o)
	fmt.Fprintf(w, "network down: the tills are cut off from the central for %s\n", o.outage)
	if err := sleepCtx(ctx, o.outage); err != nil {
		return err
	}
	after := acked(o)
	proxy.Heal()
	for i, t := range tills {
		fmt.Fprintf(w, "  till %s sold %d times with the code offline, within its leases\n", t.id, after[i]-before[i])
	}
	fmt.Fprintf(w, "network back: the tills sync their journals\n")
	return nil
}

// acked counts each till's acknowledged sales so far (not reversals).
func acked(o demoOptions) []int {
	out := make([]int, len(tills))
	for i, t := range tills {
		b, _ := os.ReadFile(filepath.Join(o.dir, t.id+".acks"))
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "sold ") {
				out[i]++
			}
		}
	}
	return out
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
