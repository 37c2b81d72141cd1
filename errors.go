package consent

import (
	"errors"
	"strconv"
)

// Sentinel errors. Callers match them with errors.Is; the server maps them to
// status codes (ErrInvalid → 400, ErrNotFound → 404, ErrConflict → 409,
// ErrUnavailable → 503).
var (
	// ErrInvalid reports input that does not satisfy a documented format.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound reports a policy version, receipt or asset that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable reports a store that cannot be reached for now (its
	// database is down or unreachable): nothing was stored, and the same
	// request may succeed later.
	ErrUnavailable = errors.New("store unavailable")
	// ErrConflict reports a receipt sent with the id of a stored receipt but
	// other content: ids are the idempotency key, so it is not stored.
	ErrConflict = errors.New("conflict")
)

// SourceError is an error in a source file (policy, site config) at a line.
// Its message reads "file:line: message", as compilers print them.
type SourceError struct {
	File string
	Line int // 1-based; 0 when the error concerns the whole file
	Msg  string
}

func (e *SourceError) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Unwrap makes every SourceError match ErrInvalid.
func (e *SourceError) Unwrap() error { return ErrInvalid }
