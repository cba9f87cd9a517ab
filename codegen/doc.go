// Package codegen makes coupon codes: collision-free, unguessable from their
// order, and fast enough for series of tens of millions.
//
// # Codes as a keyed permutation
//
// A series' codes are code(i) = encode(P(i)) for the indexes i in
// [0, Capacity()), where P is a bijection on that range keyed with a secret
// the caller supplies. Issuing the i-th code needs only the [Generator] and
// the counter i: no set of issued codes, no database round trip per
// candidate, no retries, and no collisions, by construction, up to a
// completely full space. [Generator.Decode] inverts the mapping, so a code a
// customer types gives back its index (and whether it was issued is a
// comparison with the issued counter when codes are issued in index order).
// The same key and spec always give the same codes, so a crashed bulk issue
// resumes from its counter.
//
// P is an alternating Feistel network shaped like NIST SP 800-38G's FF1: the
// index is split into its high and low base-r numeral halves
// (Z_(r^u) x Z_(r^v), u = Length/2, v = Length-u), and each of the 8 rounds
// (the round count of FF3-1) adds a pseudo-random function of one half to the
// other modulo its size. The round function is AES-128 under a key derived
// with HMAC-SHA256 from the caller's secret and every parameter that shapes
// the codes (alphabet, length, prefix, suffix, check character, kind of
// series), so series with different specs are unrelated even under one
// secret. Because the halves are numeral groups, the domain is exactly
// r^Length: there is no cycle walking and every well-formed code is the code
// of exactly one index. Codes of consecutive indexes look unrelated; with
// issued codes out of n possible, a well-formed guess hits an issued code
// with probability Fill(issued) = issued/n and nothing better is known
// without the key.
//
// Keep the key secret and per series. It is not stored here: the caller
// keeps it (for instance in a secret store, referenced from the series).
//
// Only making and decoding codes needs the key. A [Format] ([NewFormat],
// [NewRandomizedFormat]) is the key-free shape of a series' codes: it
// canonicalises and checks a typed code and sizes the code space, so a
// till that only reads codes never holds the secret. Every Generator embeds
// the Format of its spec and reads codes through it.
//
// # Alphabets and canonical form
//
// [Numeric] (0-9), [Alphanumeric] (0-9A-Z) and [ConfusionFree] (Crockford's
// base 32, without I, L, O and U) are built in; [NewAlphabet] makes another.
// What a person types is canonicalised once, at input: surrounding ASCII
// white space removed, ASCII letters folded to the alphabet's case (codes
// compare case-insensitively), and for ConfusionFree O->0, I and L->1 and
// hyphens dropped. [Format.Canonical] (and so [Generator.Canonical]) and
// [Generator.Decode] do this and then check the width, prefix, suffix,
// alphabet and check character, failing with typed errors
// ([errcode.InvalidCode], [errcode.CheckFailed]).
//
// Codes are ASCII, and only the ASCII letters a-z and A-Z are case-folded:
// any other byte outside printable ASCII is refused with InvalidCode, never
// mapped. Unicode case mapping would make look-alikes into ASCII letters
// ("ſ", the long s, upper-cases to "S"; "ı", the dotless i, to "I"), so that
// "ſUMMER10" would pass for SUMMER10. [Plain] is the same rule for codes
// that follow no Format (common and uploaded codes): trimmed, upper-cased,
// ASCII only.
//
// # Series kinds
//
// [NewUnique] makes generated unique codes: prefix, Length characters of an
// alphabet, an optional check character, suffix.
//
// [NewRandomizedCommon] makes randomized common codes from a sample of 5 to
// 10 letters and digits: the first half of the sample (rounded down) is kept
// as a fixed part, the rest is generated from the sample's alphabet (Numeric
// when the sample is all digits, else Alphanumeric), so the codes have the
// sample's length. "TEST12345" keeps "TEST" and generates 5 characters; a
// 10-character alphanumeric sample holds exactly 36^5 = 60,466,176 codes. The
// fixed part must be unique in the organisation: [FixedPartAvailable] checks
// a sample against the fixed parts in use.
//
// # Check character
//
// With UniqueSpec.CheckChar the generated characters are followed by one
// check character computed with Damm's method over a weakly totally
// anti-symmetric quasigroup of the alphabet's size. It detects every
// substitution of one character by another and every transposition of two
// different adjacent characters among the generated and check characters
// (errcode.CheckFailed); a change in the prefix or suffix is detected by the
// literal comparison (errcode.InvalidCode). The familiar Luhn mod N is not
// used because it misses the transposition of the alphabet's first and last
// characters ("0Z" and "Z0" in base 36). Quasigroups are built for every
// alphabet size except sizes that are 2 mod 4 and not a multiple of 10 (2, 6,
// 14, 18, 22, 26, 34, ...); such alphabets cannot carry a check character.
// All three built-in alphabets can.
//
// # Capacity and fill
//
// [Format.Capacity] is r^Length. A spec whose Count cannot be issued is
// refused up front ([errcode.CapacityExceeded], or
// [errcode.FillRatioExceeded] when MaxFill forbids it). MaxFill caps the share
// of the space that may be issued, because the fuller the space the easier a
// guess: with n codes issued out of a capacity c, one guess of a
// well-formed code hits an issued one with odds n/c ([Format.Fill]).
// [Generator.Limit] is the cap, floor(MaxFill * c) computed exactly with
// MaxFill read as the decimal it prints as; [Generator.CheckIssue] refuses a
// request past it, and Code, AppendCode and Generate refuse indexes past it.
// [Format.Limit] and [Format.CheckCount] give the same without a key, and
// [MinLengthFor] the shortest length for a count and fill.
//
// A MaxFill of 0 here means 1: the whole space. A caller choosing a ratio
// should weigh what it allows; at 1 in 10,000 (0.0001, the default of
// package series for generated unique codes) a 4-digit numeric series may
// issue 1 code, a 6-digit one 100, an 8-digit one 10,000, 6 alphanumeric
// characters 217,678 codes, 8 alphanumeric characters 282,110,990 and 8
// confusion-free characters 109,951,162. A 4-digit series filled with 5,000
// codes, by contrast, lets half of all random guesses hit.
//
// # Speed
//
// [Generator.Generate] writes the codes of a range of indexes into a caller
// buffer without allocating, and goroutines may run it on disjoint ranges at
// the same time. A code costs 8 AES block encryptions and a few
// multiplications: about 150 ns on one core with AES-NI (some 6.5 million
// 10-character codes per second; a check character adds about 20 ns), and
// the whole 60,466,176-code space of a 10-character sample takes about 9
// core-seconds. Code and Decode cost about the same per code.
package codegen
