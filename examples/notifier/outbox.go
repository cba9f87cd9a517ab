package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/couponkit/couponkit/store"
)

// outbox is the file the notifications are sent to, one line each: the
// event's position, a space, the message. sent is the position of the
// last line, below which every notification was sent.
type outbox struct {
	f    *os.File
	w    io.Writer // a copy of each line, for people
	sent store.Position
}

// openOutbox opens (or creates) the outbox at path, drops a last line cut
// short, and reads the position of the last whole line.
func openOutbox(path string, w io.Writer) (*outbox, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	whole := bytes.LastIndexByte(b, '\n') + 1
	if whole < len(b) {
		if err := f.Truncate(int64(whole)); err != nil {
			f.Close()
			return nil, err
		}
	}
	o := &outbox{f: f, w: w}
	if whole > 0 {
		lines := strings.Split(string(b[:whole-1]), "\n")
		pos, _, _ := strings.Cut(lines[len(lines)-1], " ")
		if o.sent, err = store.ParsePosition(pos); err != nil {
			f.Close()
			return nil, fmt.Errorf("outbox %s: last line: %w", path, err)
		}
	}
	return o, nil
}

// send sends the notification of fe, once: an event at or before the last
// one sent was sent before (the consumer hands a batch again after a
// crash), and an event that is no notification is nothing to send.
func (o *outbox) send(fe store.FeedEvent) error {
	if fe.Position.Compare(o.sent) <= 0 {
		return nil
	}
	msg := message(&fe)
	if msg == "" {
		return nil
	}
	line := fe.Position.String() + " " + msg + "\n"
	if _, err := o.f.WriteString(line); err != nil { // one write: a whole line or none
		return err
	}
	o.sent = fe.Position
	_, err := io.WriteString(o.w, line)
	return err
}

func (o *outbox) close() error { return o.f.Close() }
