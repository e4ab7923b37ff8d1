// Package jpinput parses what customers type, in Japanese and English, into
// values the accident-report dialog can use: policy numbers, Japanese phone
// numbers, the date and time of an accident, and a preferred time to call.
//
// Every parser is a pure function: no I/O, no logging, no globals that
// change, safe for concurrent use. Functions that depend on the current
// time take it as an argument (now), so dialogs pass their injected clock
// and tests pass a fixed instant. All calendar arithmetic happens in
// Asia/Tokyo (see Tokyo).
//
// Errors are sentinels (ErrEmpty, ErrFormat, ErrUnrecognised,
// ErrInvalidDate, ErrFuture, ErrTooOld), tested with errors.Is; format
// errors are *FormatError values that carry a Reason (TooShort, TooLong,
// BadChars, BadLayout, BadPrefix) so the dialog can pick a sentence from
// its catalogue. No error string ever contains the customer's input, so
// errors can be logged safely.
//
// Normalize is the shared first step: NFKC (full-width digits and letters
// become ASCII), unified hyphens and collapsed spaces.
package jpinput
