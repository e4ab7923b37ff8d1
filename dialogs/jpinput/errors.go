package jpinput

import "errors"

// Sentinel errors. Test with errors.Is; none of them (and no error this
// package returns) contains the customer's input.
var (
	// ErrEmpty: the input is empty or only spaces.
	ErrEmpty = errors.New("jpinput: empty input")
	// ErrFormat: a policy or phone number has the wrong shape. The error is
	// a *FormatError; its Reason says why (see ReasonOf).
	ErrFormat = errors.New("jpinput: bad format")
	// ErrUnrecognised: the text is not a date/time (or call time) this
	// package understands.
	ErrUnrecognised = errors.New("jpinput: not recognised")
	// ErrInvalidDate: the date or time does not exist (2月30日, 25時,
	// 14時70分, 平成40年, a call window that ends before it starts).
	ErrInvalidDate = errors.New("jpinput: impossible date or time")
	// ErrFuture: the time is more than FutureTolerance after now, or the
	// text names a future day (明日, tomorrow, 来週).
	ErrFuture = errors.New("jpinput: time is in the future")
	// ErrTooOld: the time is more than MaxAge before now.
	ErrTooOld = errors.New("jpinput: time is too far in the past")
)

// Reason says why a number was rejected with ErrFormat.
type Reason int

// Reasons carried by *FormatError.
const (
	// TooShort: fewer digits than the format needs.
	TooShort Reason = iota + 1
	// TooLong: more digits than the format allows.
	TooLong
	// BadChars: characters other than digits, letters, spaces, hyphens
	// (and for phones: parentheses, dots and a leading +).
	BadChars
	// BadLayout: the right characters in the wrong places (letters after
	// digits, three letters, a + in the middle).
	BadLayout
	// BadPrefix: a phone number that does not start like a Japanese number
	// we can call (no leading 0, a foreign country code, 0990, 0180, 00…).
	BadPrefix
)

// String returns a stable code such as "too_short", for metrics and logs.
func (r Reason) String() string {
	switch r {
	case TooShort:
		return "too_short"
	case TooLong:
		return "too_long"
	case BadChars:
		return "bad_chars"
	case BadLayout:
		return "bad_layout"
	case BadPrefix:
		return "bad_prefix"
	}
	return "unknown"
}

// FormatError is the error returned for a malformed policy or phone
// number. errors.Is(err, ErrFormat) is true for it. Its message names the
// field and the reason only, never the input.
type FormatError struct {
	Field  string // "policy number" or "phone number"
	Reason Reason
}

func (e *FormatError) Error() string {
	return "jpinput: " + e.Field + ": bad format (" + e.Reason.String() + ")"
}

// Unwrap makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Unwrap() error { return ErrFormat }

// ReasonOf returns the Reason of a *FormatError in err's chain, or 0 when
// there is none.
func ReasonOf(err error) Reason {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return 0
}
