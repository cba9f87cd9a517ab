// Package feed follows couponkit's event feed: it reads the events after a
// checkpoint, hands them to a handler in batches and moves the checkpoint
// only once the handler succeeded, so that every event is delivered at
// least once, across crashes and restarts.
//
// The feed itself is store.Store.EventsAfter (and Engine.EventsAfter):
// every event a store keeps has a position in one total order, and a
// reader that resumes from the last position it handled never misses an
// event, however many writers commit concurrently and in whatever order.
// A [Consumer] adds what a service needs around it:
//
//	c := &feed.Consumer{
//		Name:        "mailer",
//		Feed:        eng,       // or the store
//		Checkpoints: st,        // a store.Checkpointer, as memstore, sqlite and postgres are
//		Handle: func(ctx context.Context, batch []store.FeedEvent) error {
//			for _, fe := range batch {
//				if fe.Event.Notification() {
//					if err := send(ctx, fe); err != nil {
//						return err // the batch comes again
//					}
//				}
//			}
//			return nil
//		},
//	}
//	err := c.Run(ctx) // until ctx is done
//
// # Delivery
//
// A batch is handed to the handler until the handler returns nil; then
// the position of its last event is saved under the consumer's name. A
// process that dies after the handler's work and before the save hands
// the batch again when it restarts: delivery is at least once, and a
// handler whose effects must happen once keeps them idempotent, for
// example by remembering the position of the last event it acted on with
// its effect (examples/notifier does). Positions are unique and ordered,
// so they make good deduplication keys.
//
// # Waiting
//
// A consumer that has read everything there is waits before it reads
// again: MinWait after a read that found events, doubling after each read
// that found none, up to MaxWait. A send on Wake cuts a wait short (an
// engine in the same process can signal its writes). Errors of the feed,
// the handler or the checkpoint wait the same way, are reported to
// OnError, and are tried again; errors that trying again cannot mend (a
// malformed name or position, a checkpoint from the future) end Run.
//
// The wait is the cost of polling: an event is delivered up to MaxWait
// after it is readable. On PostgreSQL an event is readable once every
// transaction that was running when it committed has ended (see
// store/postgres), so a long transaction elsewhere on the server delays
// the feed; it never loses an event.
package feed
