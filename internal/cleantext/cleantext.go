// Package cleantext makes text from elsewhere (the vendor, Slack) safe to
// show a person, print on a terminal or write to a log.
package cleantext

import (
	"strings"
	"unicode"
)

// String removes control characters (terminal escapes, NUL, DEL, C1 codes),
// the bidirectional marks, embeddings, overrides and isolates that can
// make text read differently from what it is, and invisible characters
// (zero-width spaces and joiners, word joiner, BOM, soft hyphen, tag
// characters; a zero-width joiner stays only inside an emoji sequence).
// Line breaks (U+2028, U+2029 too) and tabs become spaces.
func String(s string) string {
	rs := []rune(strings.ToValidUTF8(s, ""))
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch {
		case r == '\n' || r == '\t' || r == '\r' || r == 0x2028 || r == 0x2029:
			b.WriteRune(' ')
		case r == zwj && i > 0 && i+1 < len(rs) && isEmoji(rs[i-1]) && isEmoji(rs[i+1]):
			b.WriteRune(r)
		case unicode.IsControl(r), isBidiControl(r), isInvisible(r), r == unicode.ReplacementChar:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

const zwj = 0x200D

// isEmoji is a rough test for the pictographs a zero-width joiner joins.
func isEmoji(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || r == 0xFE0F
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

func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200D: // zero-width space, non-joiner, joiner
		return true
	case r == 0x2060, r == 0xFEFF, r == 0x00AD, r == 0x180E: // word joiner, BOM, soft hyphen, Mongolian vowel separator
		return true
	case r >= 0x2061 && r <= 0x2064: // invisible operators
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	}
	return false
}
