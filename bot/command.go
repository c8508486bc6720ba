package bot

import (
	"errors"
	"slices"
	"strings"
	"unicode"
)

// Record numbers are ASCII digits. The vendor documents 23 (a 17-digit
// timestamp and 6 more); a wider range tolerates format changes without
// letting anything else through to the vendor.
const (
	minRecordDigits = 10
	maxRecordDigits = 32
)

// InputProblem is what is wrong with what a person typed, pressed or used
// the shortcut on.
type InputProblem int

// The problems: [ParseCommand] reports the first three; a button without a
// record and a message without one are found where they are read.
const (
	NotOneWord        InputProblem = iota + 1 // more than one word
	NotDigits                                 // something other than 0–9
	WrongLength                               // not minRecordDigits to maxRecordDigits digits
	NoRecordData                              // a button that carries no record number
	NoRecordInMessage                         // a message shortcut on a message that names none
)

// InputError says why command text is not a record number. The person who
// typed it is told in their language; Error is for logs.
type InputError struct {
	Problem InputProblem
	Digits  int // with WrongLength: how many digits were typed
}

func (e *InputError) Error() string {
	switch e.Problem {
	case NotOneWord:
		return "bot: input is more than one word"
	case NotDigits:
		return "bot: input is not digits"
	case WrongLength:
		return "bot: input has the wrong number of digits"
	case NoRecordInMessage:
		return "bot: no record number in the message"
	}
	return "bot: no record number"
}

// ErrInput is matched by every [*InputError].
var ErrInput = errors.New("bot: bad command input")

// Is makes every InputError match [ErrInput].
func (e *InputError) Is(target error) bool { return target == ErrInput }

// fullWidthDigits maps the digits a Chinese input method types (U+FF10–FF19)
// to ASCII.
var fullWidthDigits = strings.NewReplacer("０", "0", "１", "1", "２", "2", "３", "3", "４", "4",
	"５", "5", "６", "6", "７", "7", "８", "8", "９", "9")

// ParseCommand reads what a person typed after the slash command. It returns
// help for an empty text, "help", "帮助", "?" or "？", the record number for
// 10 to 32 digits (ASCII or full-width) with optional surrounding
// whitespace (full-width too), and an [*InputError] for anything else.
func ParseCommand(text string) (recordNo string, help bool, err error) {
	recordNo, help, inErr := parseCommand(text)
	if inErr != nil {
		return "", false, inErr
	}
	return recordNo, help, nil
}

// helpWords ask for help in either language.
var helpWords = []string{"help", "帮助", "?", "？"}

func parseCommand(text string) (recordNo string, help bool, err *InputError) {
	text = strings.TrimSpace(text)
	if text == "" || slices.ContainsFunc(helpWords, func(w string) bool { return strings.EqualFold(text, w) }) {
		return "", true, nil
	}
	if strings.ContainsFunc(text, unicode.IsSpace) {
		return "", false, &InputError{Problem: NotOneWord}
	}
	text = fullWidthDigits.Replace(text)
	if !isASCIIDigits(text) {
		return "", false, &InputError{Problem: NotDigits}
	}
	if n := len(text); n < minRecordDigits || n > maxRecordDigits {
		return "", false, &InputError{Problem: WrongLength, Digits: n}
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
