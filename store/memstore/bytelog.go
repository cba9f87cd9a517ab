package memstore

import (
	"encoding/binary"
	"time"

	"github.com/shopspring/decimal"
)

// byteLog is an append-only sequence of records kept in chunks of bytes. It
// holds no pointers, so the collector never scans it however large it
// grows, and appending a record costs a copy of its bytes. The event log
// and the redemption table keep their records encoded in one.
//
// Appending never moves or changes written bytes, nor any chunk or ends
// entry once written: a copy of a byteLog value taken under the lock can be
// read after the lock is released, at every position below its end.
type byteLog struct {
	chunks [][]byte // each allocated at its full length; the last is being filled
	ends   []int    // bytes used in each chunk but the last
	tail   int      // bytes used in the last chunk
}

// logChunkSize is the size of a chunk; a larger record gets a chunk of its
// own.
const logChunkSize = 64 << 10

// logPos is the position of a record in a byteLog, plus one: chunk index in
// the high 32 bits, byte offset in the low. The zero logPos is no record.
type logPos uint64

func (p logPos) chunk() int  { return int((p - 1) >> 32) }
func (p logPos) offset() int { return int((p - 1) & (1<<32 - 1)) }

// append writes one record, which encode appends to the empty slice it is
// given (with room for at least size bytes, so it encodes in place), and
// returns its position.
func (l *byteLog) append(size int, encode func([]byte) []byte) logPos {
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last])-l.tail < size {
		if last >= 0 {
			l.ends = append(l.ends, l.tail)
		}
		l.chunks = append(l.chunks, make([]byte, max(logChunkSize, size)))
		last, l.tail = last+1, 0
	}
	pos := logPos(uint64(last)<<32|uint64(l.tail)) + 1
	b := encode(l.chunks[last][l.tail:l.tail])
	l.tail += len(b)
	return pos
}

// at returns the bytes from the record at p to the end of its chunk.
func (l *byteLog) at(p logPos) []byte { return l.chunks[p.chunk()][p.offset():] }

// end returns the bytes used in chunk c.
func (l *byteLog) end(c int) int {
	if c < len(l.ends) {
		return l.ends[c]
	}
	return l.tail
}

// Field encodings shared by the records.

// maxTimeSize bounds an encoded time: a length byte and what
// time.Time.AppendBinary writes.
const maxTimeSize = 17

// appendTime writes t as a length byte and its binary form, which keeps the
// instant and the zone offset (not the Location's name).
func appendTime(b []byte, t time.Time) []byte {
	at := len(b)
	b = append(b, 0)
	out, err := t.AppendBinary(b)
	if err != nil { // a zone offset it cannot write: keep the instant
		out, _ = t.UTC().AppendBinary(b)
	}
	out[at] = byte(len(out) - at - 1)
	return out
}

// readTime reads what appendTime wrote at b[i:] and returns the index after.
func readTime(b []byte, i int, t *time.Time) int {
	n := int(b[i])
	if err := t.UnmarshalBinary(b[i+1 : i+1+n]); err != nil {
		panic("memstore: corrupt record: " + err.Error()) // only appendTime writes it
	}
	return i + 1 + n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readString reads what appendString wrote at b[i:] and returns the index
// after.
func readString(b []byte, i int, s *string) int {
	n, w := binary.Uvarint(b[i:])
	i += w
	if n > 0 {
		*s = string(b[i : i+int(n)])
	}
	return i + int(n)
}

// stringSize bounds what appendString writes for s.
func stringSize(s string) int { return binary.MaxVarintLen64 + len(s) }

// A decimal is written as a tag byte, then, for one whose coefficient fits
// an int64 (tag 0), the coefficient and the exponent as varints, or, for
// any other (tag 1), the coefficient in decimal as a string and the
// exponent. Either way it reads back with the same coefficient and
// exponent.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	if d.NumDigits() <= 18 {
		b = append(b, 0)
		b = binary.AppendVarint(b, d.CoefficientInt64())
	} else {
		b = append(b, 1)
		b = appendString(b, d.Coefficient().String())
	}
	return binary.AppendVarint(b, int64(d.Exponent()))
}

func decimalSize(d decimal.Decimal) int {
	if d.NumDigits() <= 18 {
		return 1 + 2*binary.MaxVarintLen64
	}
	return 1 + 2*binary.MaxVarintLen64 + d.NumDigits() + 1
}

// readDecimal reads what appendDecimal wrote at b[i:] and returns the index
// after.
func readDecimal(b []byte, i int, d *decimal.Decimal) int {
	tag := b[i]
	i++
	if tag == 0 {
		c, w := binary.Varint(b[i:])
		i += w
		e, w := binary.Varint(b[i:])
		*d = decimal.New(c, int32(e))
		return i + w
	}
	var s string
	i = readString(b, i, &s)
	e, w := binary.Varint(b[i:])
	c, err := decimal.NewFromString(s)
	if err != nil {
		panic("memstore: corrupt record: " + err.Error())
	}
	*d = decimal.NewFromBigInt(c.Coefficient(), int32(e))
	return i + w
}
