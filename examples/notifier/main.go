// Command notifier follows the event feed of a couponkit SQLite store and
// sends every notification on it: the issuance threshold of a series (to
// the operator), a reissue whose caller asked to tell the holder (the new
// code), and expiry reminders that came due. "Sending" is a line on
// standard output and in an outbox file. Each notification is sent exactly
// once, even when the process is killed in the middle of a batch and
// started again.
//
//	go run ./examples/notifier                 # a demo on a fresh file
//	go run ./examples/notifier -db coupons.db  # catch up with a store, then exit
//	go run ./examples/notifier -db coupons.db -follow
//
// # Exactly once
//
// The feed delivers at least once: a feed.Consumer saves its checkpoint in
// the store only after the handler has handled a batch, so a process
// killed in between handles the batch again. The outbox makes the sends
// exactly once: each line starts with the event's position, and on start
// the notifier reads the position of the last line it wrote (dropping a
// line cut short). An event at or before it was sent already and is
// skipped. Positions are unique and only grow along the feed, so that one
// position is all the state a sender needs; a real sender would keep it
// with its messages (the mail queue's table, a provider's idempotency key).
//
// A line is written with one write(2) to a file opened for appending, so a
// process killed by any signal leaves whole lines; a machine that loses
// power may leave a line cut short, which the next start drops and sends
// again. Add fsync to send across power losses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/feed"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlite"
)

// options are the command line's.
type options struct {
	db, out, handled string
	follow, demo     bool
	batch            int
	slow             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.db, "db", "", "SQLite file of the store (default: a demo on a temporary file)")
	flag.StringVar(&o.out, "out", "", "outbox file the notifications are appended to (default: the -db file's name + .outbox)")
	flag.StringVar(&o.handled, "handled", "", "if set, a file every handled event's position is appended to, repeats included")
	flag.BoolVar(&o.follow, "follow", false, "keep following the feed until interrupted, instead of exiting once caught up")
	flag.BoolVar(&o.demo, "demo", false, "first write the demo's events into the store")
	flag.IntVar(&o.batch, "batch", 20, "events per batch")
	flag.DurationVar(&o.slow, "slow", 0, "pause after each event (to watch, or to be killed mid-batch)")
	flag.Parse()
	if o.db == "" {
		dir, err := os.MkdirTemp("", "couponkit-notifier")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		o.db, o.demo = filepath.Join(dir, "coupons.db"), true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, o); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// run opens the store, writes the demo's events into it if asked, and follows its feed, sending
// the notifications to w and the outbox.
func run(ctx context.Context, w io.Writer, o options) error {
	if o.out == "" {
		o.out = o.db + ".outbox"
	}
	st, err := sqlite.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if o.demo {
		if err := writeDemo(ctx, st, 12, demoStart); err != nil {
			return err
		}
	}
	eng, err := couponkit.New(couponkit.Config{Store: st})
	if err != nil {
		return err
	}
	// Reminders come due with time: record those due in the last two
	// days (a reminder is recorded once, however often this runs).
	if _, err := eng.SweepReminders(ctx, time.Now().Add(-48*time.Hour)); err != nil {
		return err
	}
	box, err := openOutbox(o.out, w)
	if err != nil {
		return err
	}
	defer box.close()
	var handled *os.File
	if o.handled != "" {
		if handled, err = os.OpenFile(o.handled, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			return err
		}
		defer handled.Close()
	}
	c := &feed.Consumer{
		Name: "notifier", Feed: eng, Checkpoints: st, Batch: o.batch,
		MinWait: 50 * time.Millisecond, MaxWait: time.Second,
		OnError: func(err error) { log.Printf("notifier: %v (trying again)", err) },
		Handle: func(ctx context.Context, batch []store.FeedEvent) error {
			for _, fe := range batch {
				if handled != nil {
					if _, err := handled.WriteString(fe.Position.String() + "\n"); err != nil {
						return err
					}
				}
				if err := box.send(fe); err != nil {
					return err
				}
				if o.slow > 0 {
					time.Sleep(o.slow)
				}
			}
			return nil
		},
	}
	if o.follow {
		return c.Run(ctx)
	}
	for { // catch up, then exit
		n, _, err := c.Poll(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// message is what a notification says, and to whom; "" for an event that
// is not a notification.
func message(ev *store.FeedEvent) string {
	e := &ev.Event
	if !e.Notification() {
		return ""
	}
	switch e.Kind {
	case coupon.EventIssuanceThreshold:
		return fmt.Sprintf("to the operator: series %s has %d coupons left to issue", e.SeriesID, e.Remaining)
	case coupon.EventReminderDue:
		return fmt.Sprintf("to %s by %s: your coupon %s expires soon (%s)", e.Customer, e.Channel, e.Code, e.Reason)
	case coupon.EventReissued:
		return fmt.Sprintf("to %s: your coupon %s was replaced by %s", e.Customer, e.OldCode, e.NewCode)
	}
	return fmt.Sprintf("to %s: %s", e.Customer, e.Kind)
}
