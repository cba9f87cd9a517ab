package bulk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
)

// rowKey is the idempotency key of data row row of the file named fileID:
// "file:<fileID>:row:<row>". Distinct files and rows give distinct keys
// (the row number is the last ":row:" part, and has no ':').
func rowKey(fileID string, row int) string {
	return "file:" + fileID + ":row:" + strconv.Itoa(row)
}

// MaxFileIDBytes is the longest Options.FileID: the keys of its rows must
// fit an idempotency key.
const MaxFileIDBytes = 200

// checkFileID refuses a FileID whose rows' keys would not be valid
// idempotency keys, with InvalidArgument on "FileID".
func checkFileID(id string) error {
	if len(id) > MaxFileIDBytes {
		return errcode.New(errcode.InvalidArgument, "FileID", fmt.Sprintf("is %d bytes long; at most %d are allowed", len(id), MaxFileIDBytes))
	}
	return input.Text("FileID", input.Key, id)
}

// contentIDPrefix marks a file identity derived from the file's bytes.
const contentIDPrefix = "sha256:"

// checkEvery is how many rows the first reading of a file reads between
// two looks at the context.
const checkEvery = 4096

// identify returns the identity of the file r holds from its current
// position, and the reader to read its rows from. With opts.FileID set
// that is the identity, and r the reader. Otherwise the file is read whole
// first, with the checks of a run (header, CSV syntax, UTF-8, line and row
// lengths), while its SHA-256 is computed: the identity is "sha256:" and
// its hex. A malformed file is then refused with the BadFile error a run
// would give, having read no further than a run would, and before any row
// is applied. The rows are read again from r itself, sought back, when it
// can seek, else from a temporary copy in opts.TempDir made while hashing:
// memory stays flat either way. done removes the copy; call it when the run
// ends.
func identify(ctx context.Context, r io.Reader, opts *Options, allowed colSet, check func(colSet) string) (id string, rd io.Reader, done func(), err error) {
	noop := func() {}
	if opts.FileID != "" {
		return opts.FileID, r, noop, checkFileID(opts.FileID)
	}
	h := sha256.New()
	if rs, ok := r.(io.ReadSeeker); ok {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			if err := scanFile(ctx, io.TeeReader(rs, h), opts.MaxLineBytes, allowed, check); err != nil {
				return "", nil, noop, err
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return "", nil, noop, fmt.Errorf("bulk: going back to the start of the file: %w", err)
			}
			return contentIDPrefix + hex.EncodeToString(h.Sum(nil)), rs, noop, nil
		}
		// It cannot seek after all (a pipe): copy it.
	}
	f, err := os.CreateTemp(opts.TempDir, "couponkit-bulk-*.csv")
	if err != nil {
		return "", nil, noop, fmt.Errorf("bulk: making a temporary copy of the file: %w", err)
	}
	done = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	if err := scanFile(ctx, io.TeeReader(r, io.MultiWriter(h, f)), opts.MaxLineBytes, allowed, check); err != nil {
		done()
		return "", nil, noop, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		done()
		return "", nil, noop, fmt.Errorf("bulk: reading the temporary copy of the file: %w", err)
	}
	return contentIDPrefix + hex.EncodeToString(h.Sum(nil)), f, done, nil
}

// scanFile reads a file through to its end with the checks of a run,
// applying nothing. It returns the first error a run would stop at, or the
// context's error.
func scanFile(ctx context.Context, r io.Reader, maxLine int, allowed colSet, check func(colSet) string) error {
	rd, err := newReader(r, maxLine, allowed, check)
	if err != nil {
		return err
	}
	for n := 1; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := rd.next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
