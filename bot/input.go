package bot

import "errors"

// InputProblem is what is wrong with what a person typed, pressed or used
// the shortcut on, when it names no record number.
type InputProblem int

// The problems.
const (
	NotDigits         InputProblem = iota + 2 // typed: one word of digits mixed with something else, or no number at all
	WrongLength                               // typed: a number of the wrong length
	NoRecordData                              // a button that carries no record number
	NoRecordInMessage                         // a message shortcut on a message that names none
	PhoneOrDate                               // typed: a phone number or a date, which the finder skips on purpose, and no record
)

// InputError says why what a person sent names no record number. The
// person is told in their language; Error is for logs.
type InputError struct {
	Problem InputProblem
	Digits  int // with WrongLength: how many digits the number had
}

func (e *InputError) Error() string {
	switch e.Problem {
	case NotDigits:
		return "bot: input is not a record number"
	case WrongLength:
		return "bot: input has the wrong number of digits"
	case NoRecordInMessage:
		return "bot: no record number in the message"
	case PhoneOrDate:
		return "bot: input is a phone number or a date, not a record number"
	}
	return "bot: no record number"
}

// ErrInput is matched by every [*InputError].
var ErrInput = errors.New("bot: bad command input")

// Is makes every InputError match [ErrInput].
func (e *InputError) Is(target error) bool { return target == ErrInput }
