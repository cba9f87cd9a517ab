package faults

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// The PostgreSQL wire protocol, as much of it as the proxy needs.
//
// A client opens with a startup packet (an int32 length, itself included,
// then an int32 code), possibly preceded by an SSLRequest or a
// GSSENCRequest packet, each answered with one byte. Every later message,
// both ways, is a type byte and an int32 length (itself included) before
// the body. The proxy forwards the client's bytes as they come and reads
// the server's messages one by one.
const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	// maxStartup bounds a startup packet (PostgreSQL allows 10,000 bytes).
	maxStartup = 10000
	// maxMessage bounds a server message (PostgreSQL's own bound on a
	// field is 1 GB).
	maxMessage = 1 << 30
)

// relay runs one client connection to its end.
func (p *PGProxy) relay(l *pgLink) {
	defer l.cut()
	cr := bufio.NewReader(l.client)
	first, err := startup(l.client, cr)
	if err != nil {
		return
	}
	srv, err := net.DialTimeout("tcp", p.target, p.dialTimeout)
	if err != nil || !l.setServer(srv) {
		return
	}
	if _, err := srv.Write(first); err != nil {
		return
	}
	up := make(chan struct{})
	go func() { // client to server, as it comes
		defer close(up)
		_, _ = cr.WriteTo(srv)
		l.cut()
	}()
	_ = p.replies(l, srv)
	l.cut()
	<-up
}

// startup answers the client's encryption requests with 'N' (the proxy
// speaks in clear) and returns its startup packet, to send to the server.
func startup(c net.Conn, r *bufio.Reader) ([]byte, error) {
	for range 4 { // at most an SSLRequest and a GSSENCRequest before it
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		code := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 || n > maxStartup {
			return nil, fmt.Errorf("faults: startup packet of %d bytes", n)
		}
		if n == 8 && (code == sslRequestCode || code == gssEncRequestCode) {
			if _, err := c.Write([]byte{'N'}); err != nil {
				return nil, err
			}
			continue
		}
		pkt := make([]byte, n)
		copy(pkt, hdr[:])
		if _, err := io.ReadFull(r, pkt[8:]); err != nil {
			return nil, err
		}
		return pkt, nil
	}
	return nil, errors.New("faults: too many encryption requests")
}

// replyState follows a connection's transactions from the server's
// messages.
type replyState struct {
	// inBlock is true inside an explicit transaction block (BEGIN seen, or
	// the last ReadyForQuery said so): nothing commits until COMMIT.
	inBlock bool
	// held, while holding, keeps the reply of an autocommit write until
	// the ReadyForQuery that ends it, which follows its commit.
	holding bool
	held    bytes.Buffer
}

// replies forwards the server's messages to the client, dropping the
// chosen commit replies. It returns when either side fails or a reply is
// dropped; the caller cuts the link.
func (p *PGProxy) replies(l *pgLink, srv net.Conn) error {
	r := bufio.NewReaderSize(srv, 64<<10)
	w := bufio.NewWriterSize(l.client, 64<<10)
	var st replyState
	var hdr [5]byte
	var body []byte
	for {
		if r.Buffered() == 0 {
			// Nothing more to hand: send what came before waiting.
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		typ, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
		if n < 4 || n > maxMessage {
			return fmt.Errorf("faults: server message %q of %d bytes", typ, n)
		}
		size := int(n) - 4
		if !inspected(typ) {
			// Forwarded as it streams in: a data row may be large.
			out := st.out(w)
			if _, err := out.Write(hdr[:]); err != nil {
				return err
			}
			if _, err := io.CopyN(out, r, int64(size)); err != nil {
				return err
			}
			continue
		}
		if cap(body) < size {
			body = make([]byte, size)
		}
		body = body[:size]
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		if err := p.reply(&st, w, hdr[:], body); err != nil {
			if errors.Is(err, errDropped) {
				// The replies before the dropped one reach the client.
				_ = w.Flush()
			}
			return err
		}
	}
}

// inspected reports whether the proxy reads a message of type typ before
// forwarding it: CommandComplete, ReadyForQuery, ErrorResponse and the
// copy responses, which tell where transactions end.
func inspected(typ byte) bool {
	switch typ {
	case 'C', 'Z', 'E', 'G', 'H', 'W':
		return true
	}
	return false
}

// out is where the next message goes: the held reply, or the client.
func (st *replyState) out(w *bufio.Writer) io.Writer {
	if st.holding {
		return &st.held
	}
	return w
}

// release sends the held reply on to the client and stops holding.
func (st *replyState) release(w *bufio.Writer) error {
	st.holding = false
	_, err := st.held.WriteTo(w)
	return err
}

// errDropped ends a link whose commit reply was dropped.
var errDropped = errors.New("faults: commit reply dropped")

// reply handles one inspected message: it forwards it, holds it, or drops
// it with the link (errDropped).
func (p *PGProxy) reply(st *replyState, w *bufio.Writer, hdr, body []byte) error {
	switch hdr[0] {
	case 'C':
		return p.commandComplete(st, w, hdr, body)
	case 'Z':
		if len(body) != 1 {
			return errors.New("faults: malformed ReadyForQuery")
		}
		status := body[0]
		if st.holding {
			if status == 'I' && p.drop(true) {
				// The autocommit write committed; its reply is lost.
				return errDropped
			}
			if err := st.release(w); err != nil {
				return err
			}
		}
		st.inBlock = status != 'I'
	default: // 'E', 'G', 'H', 'W'
		// An error undoes an autocommit write not yet committed; a copy
		// response waits for the client: either way, hold no longer.
		if st.holding {
			if err := st.release(w); err != nil {
				return err
			}
		}
	}
	return writeMsg(st.out(w), hdr, body)
}

// commandComplete handles a CommandComplete: the end of one statement,
// whose tag names it.
func (p *PGProxy) commandComplete(st *replyState, w *bufio.Writer, hdr, body []byte) error {
	tag := string(bytes.TrimRight(body, "\x00"))
	switch {
	case tag == "COMMIT":
		// The server sends it once the transaction is committed (a COMMIT
		// of a failed transaction answers ROLLBACK).
		st.inBlock = false
		if p.drop(false) {
			return errDropped
		}
	case tag == "BEGIN":
		// Statements before it in the same query join its block.
		st.inBlock = true
		if st.holding {
			if err := st.release(w); err != nil {
				return err
			}
		}
	case tag == "ROLLBACK":
		st.inBlock = false
	case !st.inBlock && writeTag(tag):
		st.holding = true
	}
	return writeMsg(st.out(w), hdr, body)
}

// writeTag reports whether a CommandComplete tag is one of a statement
// that writes rows: INSERT, UPDATE, DELETE, MERGE or COPY.
func writeTag(tag string) bool {
	verb, _, _ := strings.Cut(tag, " ")
	switch verb {
	case "INSERT", "UPDATE", "DELETE", "MERGE", "COPY":
		return true
	}
	return false
}

func writeMsg(w io.Writer, hdr, body []byte) error {
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}
