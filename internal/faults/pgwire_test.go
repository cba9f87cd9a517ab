package faults

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The proxy's unit tests talk to a scripted server: a listener that reads
// the client's startup packet and bytes, then writes the server's side of
// a conversation, message by message, as the test chose it.

// msg is one server message: its type, length and body.
func msg(typ byte, body []byte) []byte {
	b := make([]byte, 5, 5+len(body))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
	return append(b, body...)
}

func cc(tag string) []byte     { return msg('C', append([]byte(tag), 0)) }
func ready(status byte) []byte { return msg('Z', []byte{status}) }
func errorResponse() []byte {
	return msg('E', []byte("SERROR\x00C23505\x00Mduplicate key\x00\x00"))
}

// piece is a part of a conversation: the server's messages, and which of
// them, if any, is the reply to a commit (-1: none).
type piece struct {
	name   string
	msgs   [][]byte
	commit int  // index in msgs where the commit's reply starts
	auto   bool // the commit is an autocommit write's
	// needs is the block state the piece starts in; leaves, the one it
	// ends in.
	needs, leaves blockState
}

type blockState uint8

const (
	either blockState = iota
	idle              // no transaction block open
	open              // in an explicit block
)

// pieces are the conversations' parts, as pgx and the store have them.
func pieces(big []byte) []piece {
	row := msg('D', []byte{0, 1, 0, 0, 0, 3, 'a', 'b', 'c'})
	desc := msg('T', []byte{0, 1, 'n', 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 20, 0, 8, 255, 255, 255, 255, 0, 0})
	return []piece{
		{name: "begin", msgs: [][]byte{cc("BEGIN"), ready('T')}, commit: -1, needs: idle, leaves: open},
		{name: "write in block", msgs: [][]byte{msg('1', nil), msg('2', nil), cc("INSERT 0 1"), ready('T')}, commit: -1, needs: open, leaves: open},
		{name: "commit", msgs: [][]byte{cc("COMMIT"), ready('I')}, commit: 0, needs: open, leaves: idle},
		{name: "pipelined commit", msgs: [][]byte{msg('2', nil), cc("RELEASE"), msg('2', nil), cc("COMMIT"), ready('I')}, commit: 3, needs: open, leaves: idle},
		{name: "rollback", msgs: [][]byte{cc("ROLLBACK"), ready('I')}, commit: -1, needs: open, leaves: idle},
		{name: "failed commit", msgs: [][]byte{errorResponse(), ready('E'), cc("ROLLBACK"), ready('I')}, commit: -1, needs: open, leaves: idle},
		{name: "select", msgs: [][]byte{desc, row, row, cc("SELECT 2"), ready('I')}, commit: -1, needs: idle, leaves: idle},
		{name: "select in block", msgs: [][]byte{desc, row, cc("SELECT 1"), ready('T')}, commit: -1, needs: open, leaves: open},
		{name: "large row", msgs: [][]byte{desc, msg('D', big), cc("SELECT 1"), ready('I')}, commit: -1, needs: idle, leaves: idle},
		{name: "autocommit insert", msgs: [][]byte{msg('1', nil), msg('2', nil), cc("INSERT 0 1"), ready('I')}, commit: 2, auto: true, needs: idle, leaves: idle},
		{name: "autocommit update, then a select", msgs: [][]byte{cc("UPDATE 3"), desc, row, cc("SELECT 1"), ready('I')}, commit: 0, auto: true, needs: idle, leaves: idle},
		{name: "autocommit insert that fails", msgs: [][]byte{cc("INSERT 0 1"), errorResponse(), ready('I')}, commit: -1, needs: idle, leaves: idle},
		{name: "insert, then begin", msgs: [][]byte{cc("INSERT 0 1"), cc("BEGIN"), ready('T')}, commit: -1, needs: idle, leaves: open},
		{name: "notice", msgs: [][]byte{msg('N', []byte("SNOTICE\x00Mhello\x00\x00")), msg('S', []byte("a\x00b\x00"))}, commit: -1, needs: either, leaves: either},
		{name: "commit prepared", msgs: [][]byte{cc("COMMIT PREPARED"), ready('I')}, commit: -1, needs: idle, leaves: idle},
	}
}

// conversation is a server's side of a connection, with where each commit
// reply starts (a byte offset) and whether it is an autocommit's.
type conversation struct {
	bytes   []byte
	commits []int
	auto    []bool
	names   []string
}

// bigRow is a data row's body larger than the proxy's buffers.
var bigRow = bytes.Repeat([]byte("0123456789abcdef"), 70_000/16)

// drawConversation draws pieces that follow one another as a server
// would send them.
func drawConversation(t *rapid.T) conversation {
	all := pieces(bigRow)
	var c conversation
	state := idle
	n := rapid.IntRange(0, 14).Draw(t, "pieces")
	for range n {
		var fit []piece
		for _, p := range all {
			if p.needs == either || p.needs == state {
				fit = append(fit, p)
			}
		}
		p := rapid.SampledFrom(fit).Draw(t, "piece")
		c.names = append(c.names, p.name)
		for i, m := range p.msgs {
			if i == p.commit {
				c.commits = append(c.commits, len(c.bytes))
				c.auto = append(c.auto, p.auto)
			}
			c.bytes = append(c.bytes, m...)
		}
		if p.leaves != either {
			state = p.leaves
		}
	}
	return c
}

// startupPacket is a client's startup packet for user u.
func startupPacket(u string) []byte {
	body := []byte{0, 3, 0, 0} // protocol 3.0
	body = append(body, "user\x00"+u+"\x00\x00"...)
	b := binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
	return append(b, body...)
}

func request(code uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), code)
}

// scriptedServer serves one connection: it reads want bytes from the
// client (startup packet and what follows), writes conv's bytes up to
// pause in chunks, waits for resume, writes the rest, and reports what it
// read and whether its connection was cut before it closed it.
type scriptedServer struct {
	ln     net.Listener
	resume chan struct{}
	done   chan serverResult
}

type serverResult struct {
	got []byte
	cut bool // the proxy closed the server's connection
	err error
}

func startServer(t *rapid.T, conv []byte, pause int, want int, chunks []int) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{ln: ln, resume: make(chan struct{}), done: make(chan serverResult, 1)}
	go func() {
		s.done <- s.serve(conv, pause, want, chunks)
	}()
	return s
}

func (s *scriptedServer) serve(conv []byte, pause, want int, chunks []int) serverResult {
	c, err := s.ln.Accept()
	if err != nil {
		return serverResult{err: err}
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	var res serverResult
	res.got = make([]byte, want)
	if _, err := io.ReadFull(c, res.got); err != nil {
		return serverResult{err: err}
	}
	write := func(b []byte) error {
		for i := 0; len(b) > 0; i++ {
			n := min(len(b), chunks[i%len(chunks)])
			if _, err := c.Write(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	}
	if err := write(conv[:pause]); err != nil {
		return serverResult{err: err}
	}
	<-s.resume
	// After a drop, the proxy may have cut the connection before the
	// rest is written: a failed write is the cut showing.
	werr := write(conv[pause:])
	if pause == len(conv) {
		return res // nothing to drop: close
	}
	var one [1]byte
	_, rerr := c.Read(one[:])
	var ne net.Error
	timeout := errors.As(rerr, &ne) && ne.Timeout()
	res.cut = werr != nil || rerr != nil && !timeout
	return res
}

// TestPGProxyForwardsFaithfully checks that, dropping nothing, the proxy
// passes every byte both ways unchanged, however the server's messages
// are cut into writes, and answers encryption requests with 'N' without
// passing them on; and that it counts the conversation's commits.
func TestPGProxyForwardsFaithfully(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		conv := drawConversation(t)
		chunks := rapid.SliceOfN(rapid.IntRange(1, 3000), 1, 8).Draw(t, "chunks")
		payload := rapid.SliceOfN(rapid.Byte(), 0, 5000).Draw(t, "client bytes")
		ssl := rapid.Bool().Draw(t, "ssl request")
		gss := rapid.Bool().Draw(t, "gssenc request")
		hello := append(startupPacket("alice"), payload...)
		srv := startServer(t, conv.bytes, len(conv.bytes), len(hello), chunks)
		defer srv.ln.Close()
		close(srv.resume)
		p, err := NewPGProxy(srv.ln.Addr().String(), PGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c := dialProxy(t, p, ssl, gss)
		defer c.Close()
		if _, err := c.Write(hello); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		res := <-srv.done
		if res.err != nil {
			t.Fatalf("server: %v", res.err)
		}
		if !bytes.Equal(res.got, hello) {
			t.Fatalf("the server read %d bytes that differ from the %d the client sent", len(res.got), len(hello))
		}
		if !bytes.Equal(got, conv.bytes) {
			t.Fatalf("the client read %d bytes that differ from the %d the server sent (%v)", len(got), len(conv.bytes), conv.names)
		}
		if st := p.Stats(); st.Commits != int64(len(conv.commits)) || st.Dropped != 0 || st.Implicit != count(conv.auto) || st.Conns != 1 {
			t.Fatalf("stats %+v; want %d commits (%d implicit), none dropped, one connection (%v)",
				st, len(conv.commits), count(conv.auto), conv.names)
		}
	})
}

func count(bs []bool) int64 {
	n := int64(0)
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// dialProxy connects to p and makes the encryption requests asked for,
// checking that each is answered 'N'.
func dialProxy(t *rapid.T, p *PGProxy, ssl, gss bool) net.Conn {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	for _, r := range []struct {
		ask  bool
		code uint32
	}{{gss, gssEncRequestCode}, {ssl, sslRequestCode}} {
		if !r.ask {
			continue
		}
		if _, err := c.Write(request(r.code)); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("encryption request %d answered %q, %v; want 'N'", r.code, b[0], err)
		}
	}
	return c
}

// TestPGProxyDropsChosenCommitReply checks that the proxy drops exactly
// the commit reply it was told to: the client reads every byte before
// that reply and then nothing (its connection is cut), the server's
// connection is cut too, and the commits before it were forwarded.
func TestPGProxyDropsChosenCommitReply(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		conv := drawConversation(t)
		if len(conv.commits) == 0 {
			t.Skip("no commit to drop")
		}
		k := rapid.IntRange(0, len(conv.commits)-1).Draw(t, "dropped commit")
		chunks := rapid.SliceOfN(rapid.IntRange(1, 3000), 1, 8).Draw(t, "chunks")
		hello := startupPacket("bob")
		at := conv.commits[k]
		srv := startServer(t, conv.bytes, at, len(hello), chunks)
		defer srv.ln.Close()
		p, err := NewPGProxy(srv.ln.Addr().String(), PGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c := dialProxy(t, p, true, false)
		defer c.Close()
		if _, err := c.Write(hello); err != nil {
			t.Fatal(err)
		}
		before := make([]byte, at)
		if _, err := io.ReadFull(c, before); err != nil {
			t.Fatalf("reading the %d bytes before the commit reply: %v", at, err)
		}
		if !bytes.Equal(before, conv.bytes[:at]) {
			t.Fatal("the bytes before the commit reply differ from the server's")
		}
		// The proxy has passed every earlier commit: drop the next one.
		p.DropNext(1)
		close(srv.resume)
		rest, err := io.ReadAll(c)
		if err != nil && !isReset(err) {
			t.Fatal(err)
		}
		if len(rest) != 0 {
			t.Fatalf("the client read %d bytes of and after the dropped reply (%v)", len(rest), conv.names)
		}
		if res := <-srv.done; res.err != nil || !res.cut {
			t.Fatalf("server: cut %v, %v; want its connection cut", res.cut, res.err)
		}
		st := p.Stats()
		if st.Commits != int64(k+1) || st.Dropped != 1 || st.Implicit != count(conv.auto[:k+1]) {
			t.Fatalf("stats %+v; want %d commits (%d implicit), one dropped (%v)", st, k+1, count(conv.auto[:k+1]), conv.names)
		}
	})
}

// isReset reports whether err is a connection reset, which a cut may show
// as instead of an end of file.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
