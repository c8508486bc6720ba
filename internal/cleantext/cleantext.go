// Package cleantext makes text from elsewhere (the vendor, Slack) safe to
// show a person or print on a terminal.
package cleantext

import (
	"strings"
	"unicode"
)

// String removes control characters (terminal escapes, NUL, DEL, C1 codes)
// and the bidirectional marks, embeddings, overrides and isolates that can
// make text read differently from what it is. Line breaks and tabs become
// spaces.
func String(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r), isBidiControl(r), r == unicode.ReplacementChar:
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

func isBidiControl(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F: // ALM, LRM, RLM
		return true
	case r >= 0x202A && r <= 0x202E: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}
