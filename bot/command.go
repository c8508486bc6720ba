package bot

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Record numbers are ASCII digits. The vendor documents 23 (a 17-digit
// timestamp and 6 more); a wider range tolerates format changes without
// letting anything else through to the vendor.
const (
	minRecordDigits = 10
	maxRecordDigits = 32
)

// InputError says why command text is not a record number. Its message is
// written for the person who typed it.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return e.Reason }

// ErrInput is matched by every [*InputError].
var ErrInput = errors.New("bad command input")

// Is makes every InputError match [ErrInput].
func (e *InputError) Is(target error) bool { return target == ErrInput }

// ParseCommand reads what a person typed after the slash command. It returns
// help for an empty text or "help", the record number for 10 to 32 ASCII
// digits with optional surrounding whitespace, and an [*InputError] for
// anything else.
func ParseCommand(text string) (recordNo string, help bool, err error) {
	text = strings.TrimSpace(text)
	if text == "" || strings.EqualFold(text, "help") {
		return "", true, nil
	}
	if strings.ContainsFunc(text, unicode.IsSpace) {
		return "", false, &InputError{"Give one record number only, with nothing else around it."}
	}
	if !utf8.ValidString(text) || !isASCIIDigits(text) {
		return "", false, &InputError{"A record number has only the digits 0–9 (half-width)."}
	}
	if n := len(text); n < minRecordDigits || n > maxRecordDigits {
		return "", false, &InputError{fmt.Sprintf("A record number has %d to %d digits (usually 23); that one has %d.", minRecordDigits, maxRecordDigits, n)}
	}
	return text, false, nil
}

func isASCIIDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
