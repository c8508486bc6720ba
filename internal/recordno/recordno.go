// Package recordno finds 易背调 record numbers (背调号) in text a person
// typed or pasted: a slash command's text, a button's value, a message. It
// knows Slack's markup (links, mentions, escaped angle brackets) but no
// Slack types, and never keeps or logs the text it reads.
//
// It reads at most [MaxBytes] of a text, and its cost is linear in what
// it reads: one pass to clean the text, one to fold full-width forms and
// drop Slack's tokens, one to find links, one over the runs of digits.
package recordno

import (
	"bytes"
	"hash/maphash"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Record numbers are runs of ASCII digits (full-width digits are read as
// ASCII). The vendor documents 23 (a 17-digit timestamp and 6 more); the
// wider range tolerates format changes without letting anything else
// through to the vendor.
const (
	MinDigits = 10
	MaxDigits = 32
)

// MaxBytes is the most of a text [Find] reads. Slack truncates a
// message's text at 40,000 characters; UTF-8 takes at most 4 bytes for
// one, so a whole message text always fits. A message with blocks and
// attachments can carry more in total; past MaxBytes the text is cut at the
// last space before it (or, in one unbroken word, before the last run of
// digits, which may be a record cut in two) and [Found.Cut] says so.
const MaxBytes = 40_000 * 4

// minNear is the fewest digits a run of the wrong length needs to be
// reported as [Found.WrongLength] when the text holds more than that run:
// shorter numbers (floors, counts, times) are no mistyped record.
const minNear = 6

// Found is what a text names.
type Found struct {
	// Records are the record numbers the text names, in order, each once:
	// MinDigits to MaxDigits ASCII digits.
	Records []string
	// Help: the whole text is empty or asks for help: "help", "帮助", "?",
	// "？" (any case, any spaces around). Meant for a command's text or a
	// button's value; what a message that says only "help" means is the
	// caller's choice.
	Help bool
	// WrongLength, when there are no Records, is how many digits the first
	// number of the wrong length had: a run of digits standing alone (not
	// a phone number, date, link or part of a word) that is shorter than
	// MinDigits or longer than MaxDigits, of at least 6 digits, or of any
	// length when it is the whole text. 0 when there is none.
	WrongLength int
	// PhoneOrDate, when there are no Records: the text has a phone number
	// or a date, which are never records and were skipped on purpose:
	// 13812345678, +86 138 1234 5678, 010-12345678, 400-812-3123,
	// 20241202, 2024-12-02, 2024/12/2, 2024年12月2日, 20241202103059.
	PhoneOrDate bool
	// NotDigits, when there are no Records, WrongLength is 0 and
	// PhoneOrDate is false: the text is one word of at least 6 digits mixed
	// with something else ("2019041515264509398375a", "+2019…", digits of
	// another script) — what a person who meant one record number but
	// typed it wrong sends.
	NotDigits bool
	// Skipped counts the runs of MinDigits or more digits that were read
	// and not taken: phone numbers, dates and times, numbers in links,
	// mentions or words. A text with Skipped > 0 and no Records had
	// numbers, just none that is a record.
	Skipped int
	// Cut: the text was longer than MaxBytes and only its beginning was
	// read.
	Cut bool
}

// helpWords ask for help in either language.
var helpWords = []string{"help", "帮助", "?"}

// Find reads what a text names. See [Found].
func Find(text string) Found {
	var f Found
	text, f.Cut = cut(text)
	b := fold(text)
	trimmed := bytes.TrimSpace(b)
	f.Help = len(trimmed) == 0 || helpWord(trimmed)
	notDigits := mixedWord(trimmed) // before Slack's tokens are dropped
	dropSlackTokens(b)
	links := findLinks(b)

	whole := isDigits(bytes.TrimSpace(b)) // the text is one number and nothing else
	var seen recordSet
	li := 0 // the first link that may still hold a run
	for s := 0; s < len(b); {
		if !isDigit(b[s]) {
			s++
			continue
		}
		e := s + 1
		for e < len(b) && isDigit(b[e]) {
			e++
		}
		run, n := b[s:e], e-s
		for li < len(links) && links[li].end <= s {
			li++
		}
		inLink := li < len(links) && links[li].start < e
		if !inLink && startsWord(b, s) {
			if end, ok := writtenPhoneOrDate(b, s); ok { // its parts are no mistyped record
				f.PhoneOrDate = true
				s = end
				continue
			}
		}
		switch {
		case inLink || joined(b, s, e):
			if n >= MinDigits {
				f.Skipped++
			}
		case afterCountryCode(b, s):
			f.PhoneOrDate = true
			if n >= MinDigits {
				f.Skipped++
			}
		case n < MinDigits || n > MaxDigits:
			if n == 8 && isCompactDate(run) {
				f.PhoneOrDate = true
			} else if f.WrongLength == 0 && (n >= minNear || whole) {
				f.WrongLength = n
			}
		case isPhone(run) || isCompactDateTime(run):
			f.PhoneOrDate = true
			f.Skipped++
		default:
			seen.add(run)
		}
		s = e
	}
	f.Records = seen.records()
	if len(f.Records) > 0 {
		f.WrongLength, f.PhoneOrDate = 0, false
	} else if f.WrongLength == 0 {
		f.NotDigits = notDigits && !f.PhoneOrDate
	}
	return f
}

// recordSet keeps records in order, each once, in one buffer: a set that
// costs no allocation per record (a megabyte of distinct numbers must cost
// little), with open addressing.
type recordSet struct {
	buf   []byte  // the records, one after another
	ends  []int32 // where each record ends in buf
	slots []int32 // 1 + the index of a record in ends; 0 is empty
}

func (s *recordSet) add(run []byte) {
	if 2*(len(s.ends)+1) > len(s.slots) {
		s.grow()
	}
	mask := uint32(len(s.slots) - 1)
	for i := hash(run) & mask; ; i = (i + 1) & mask {
		k := s.slots[i]
		if k == 0 {
			s.buf = append(s.buf, run...)
			s.ends = append(s.ends, int32(len(s.buf)))
			s.slots[i] = int32(len(s.ends))
			return
		}
		if bytes.Equal(s.record(int(k-1)), run) {
			return
		}
	}
}

func (s *recordSet) record(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.buf[start:s.ends[i]]
}

func (s *recordSet) grow() {
	s.slots = make([]int32, max(16, 2*len(s.slots)))
	mask := uint32(len(s.slots) - 1)
	for k := range s.ends {
		i := hash(s.record(k)) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = int32(k + 1)
	}
}

// records are the records as strings that share one allocation.
func (s *recordSet) records() []string {
	if len(s.ends) == 0 {
		return nil
	}
	all := string(s.buf)
	out := make([]string, len(s.ends))
	start := int32(0)
	for i, end := range s.ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

var seed = maphash.MakeSeed()

func hash(b []byte) uint32 { return uint32(maphash.Bytes(seed, b)) }

func helpWord(s []byte) bool {
	for _, w := range helpWords {
		if len(s) == len(w) && strings.EqualFold(string(s), w) {
			return true
		}
	}
	return false
}

// cut keeps at most MaxBytes of text: up to the last space before the cap,
// or, in one unbroken word, up to the last rune boundary with any digits
// touching the cut dropped (they may be the front of a longer number).
func cut(text string) (string, bool) {
	if len(text) <= MaxBytes {
		return text, false
	}
	i := MaxBytes
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	head := text[:i]
	if sp := strings.LastIndexAny(head, " \t\n\r"); sp > 0 {
		return head[:sp], true
	}
	return strings.TrimRightFunc(head, func(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }), true
}

// fold makes text readable as a person reads it, in bytes: invalid UTF-8,
// control and format characters (bidirectional marks, zero-width spaces
// and joiners, soft hyphens, BOM, tags: Unicode's Cc and Cf) dropped, so
// that they neither split a number nor hide one; line breaks and Unicode
// spaces made ASCII spaces (line breaks stay, as \n); the forms an input method types made ASCII:
// full-width digits, letters and punctuation (but ＜ and ＞, which Slack
// does not escape and which must not read as its own brackets), hyphens
// and the minus sign. Everything else stays as it is.
func fold(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c == '\n' || c == '\r':
				b = append(b, '\n')
			case c == '\t':
				b = append(b, ' ')
			case c < ' ' || c == 0x7f:
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError: // invalid UTF-8, or U+FFFD itself
		case r >= 0xFF01 && r <= 0xFF5E && r != '＜' && r != '＞':
			b = append(b, byte(r-0xFEE0))
		case r == 0x3000 || r == 0x00A0 || r >= 0x2000 && r <= 0x200A || r == 0x202F || r == 0x205F || r == 0x2028 || r == 0x2029 || r == 0x85:
			b = append(b, ' ')
		case r >= 0x2010 && r <= 0x2013 || r == 0x2212 || r == 0xFE63:
			b = append(b, '-')
		case r >= 0x2070 && r < 0xFEFF: // Chinese, Japanese, Korean, symbols: no Cc or Cf among them
			b = utf8.AppendRune(b, r)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// dropSlackTokens blanks Slack's own tokens — <https://…|label>, <@U…>,
// <#C…|name>, <!date^…|…> — and then the escaped brackets a person typed
// (&lt; &gt;), so a number they put in angle brackets stands alone. &amp;
// is an ampersand. Only Slack's tokens hold a real < or >: Slack escapes
// the ones people type. A token ends on its line, so a stray bracket in one
// text of a message cannot hide the texts after it.
func dropSlackTokens(b []byte) {
	for i := 0; i < len(b); {
		switch {
		case b[i] == '<':
			k := i + 1
			for k < len(b) && b[k] != '<' && b[k] != '>' && b[k] != '\n' {
				k++
			}
			if k < len(b) && b[k] == '>' { // a token: blank it
				blank(b[i : k+1])
				i = k + 1
			} else { // a stray bracket: read on from the next one or the line's end
				i = k
			}
		case b[i] == '&' && (hasPrefixAt(b, i, "&lt;") || hasPrefixAt(b, i, "&gt;")):
			blank(b[i : i+4])
			i += 4
		case b[i] == '&' && hasPrefixAt(b, i, "&amp;"):
			copy(b[i:], "    &")
			i += 5
		default:
			i++
		}
	}
}

func blank(b []byte) {
	for i := range b {
		b[i] = ' '
	}
}

func hasPrefixAt(b []byte, i int, p string) bool {
	return len(b)-i >= len(p) && string(b[i:i+len(p)]) == p
}

// span is a link's place in the text: [start, end).
type span struct{ start, end int }

// findLinks finds, in order, what reads as a link: a scheme and "://"
// with what follows up to a space or a character no URL has unescaped
// (Chinese, full-width punctuation), and bare domains (www.example.com,
// example.com:8443/path, 2019….pdf) with their port and path. Digits in a
// link are never a record.
func findLinks(b []byte) []span {
	var out []span
	prevEnd := 0
	for i := 0; i < len(b); {
		switch {
		case b[i] == ':' && hasPrefixAt(b, i, "://"):
			start := i
			for start > prevEnd && isSchemeChar(b[start-1]) {
				start--
			}
			end := urlEnd(b, i+3)
			out = appendSpan(out, span{start, end})
			prevEnd, i = end, end
		case isHostChar(b[i]):
			// A run of letters, digits, dots and hyphens: a domain when a dot
			// in it follows a letter or digit and comes before a top-level
			// domain of two letters or more.
			e := i
			domain := false
			for e < len(b) && isHostChar(b[e]) {
				if b[e] == '.' && e > i && isAlnum(b[e-1]) && e+2 < len(b) && isLetter(b[e+1]) && isLetter(b[e+2]) {
					domain = true
				}
				e++
			}
			if !domain || hasPrefixAt(b, e, "://") { // "://" after it is the case above
				i = e
				continue
			}
			if e+1 < len(b) && b[e] == ':' && isDigit(b[e+1]) { // a port
				e++
				for e < len(b) && isDigit(b[e]) {
					e++
				}
			}
			if e < len(b) && b[e] == '/' { // a path
				e = urlEnd(b, e)
			}
			out = appendSpan(out, span{i, e})
			prevEnd, i = e, e
		default:
			i++
		}
	}
	return out
}

// appendSpan adds a span, merging it into the last when they overlap (a
// scheme reaches back into a domain found before it).
func appendSpan(out []span, s span) []span {
	if n := len(out); n > 0 && s.start <= out[n-1].end {
		out[n-1].end = max(out[n-1].end, s.end)
		return out
	}
	return append(out, s)
}

// urlEnd is where a URL that goes on at i ends: at a space, a control
// character or anything not ASCII.
func urlEnd(b []byte, i int) int {
	for i < len(b) && b[i] > ' ' && b[i] < utf8.RuneSelf {
		i++
	}
	return i
}

func isSchemeChar(c byte) bool { return isAlnum(c) || c == '+' || c == '.' || c == '-' }
func isHostChar(c byte) bool   { return isAlnum(c) || c == '.' || c == '-' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isLetter(c byte) bool     { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool      { return isDigit(c) || isLetter(c) }

func isDigits(s []byte) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// joined reports whether the digits at b[s:e] are part of something longer
// than a number: a word (ABC1234567890, ｘ２０１９…, 2019…x), an address or
// parameter (@, /, =, &, …), a decimal or version (v1.2019…, 1.5), a time
// (10:30). A label before the number is not: "背调号：", "背调号:", "No.",
// "#", a backtick, Slack's *bold* and _italics_.
func joined(b []byte, s, e int) bool {
	if s > 0 {
		c := b[s-1]
		switch {
		case c >= utf8.RuneSelf:
			r, _ := utf8.DecodeLastRune(b[:s])
			if wordRune(r) {
				return true
			}
		case isLetter(c), strings.IndexByte("-+@/\\=&%$", c) >= 0:
			return true
		case c == '_' || c == '#':
			return s > 1 && isAlnum(b[s-2])
		case c == '.':
			return s > 1 && isAlnum(b[s-2]) && !numberLabel(b[:s-1])
		case c == ':':
			return s > 1 && isDigit(b[s-2])
		}
	}
	if e < len(b) {
		c := b[e]
		switch {
		case c >= utf8.RuneSelf:
			r, _ := utf8.DecodeRune(b[e:])
			return wordRune(r)
		case isLetter(c), strings.IndexByte("-+@/\\=&%$", c) >= 0:
			return true
		case c == '_' || c == '#' || c == '.':
			return e+1 < len(b) && isAlnum(b[e+1])
		case c == ':':
			return e+1 < len(b) && isDigit(b[e+1])
		}
	}
	return false
}

// wordRune: a letter or digit of a script that writes words with spaces
// between them (é, я, α, ٣), which would make the digits beside it part
// of a word. Chinese, Japanese and Korean are written without spaces: a
// number right after 背调号 stands alone.
func wordRune(r rune) bool {
	if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// numberLabel reports whether b ends with "No" as a word: "No.2019…".
func numberLabel(b []byte) bool {
	n := len(b)
	if n < 2 || (b[n-2] != 'N' && b[n-2] != 'n') || (b[n-1] != 'o' && b[n-1] != 'O') {
		return false
	}
	return n == 2 || !isAlnum(b[n-3])
}

// afterCountryCode reports whether the digits at s follow a country code
// (+86 138…, +1 (415) 555…): a phone number.
func afterCountryCode(b []byte, s int) bool {
	i := s
	for k := 0; k < 3 && i > 0 && (b[i-1] == ' ' || b[i-1] == '(' || b[i-1] == ')' || b[i-1] == '-'); k++ {
		i--
	}
	if i == s {
		return false // digits right after '+' are joined anyway
	}
	d := i
	for d > 0 && i-d < 4 && isDigit(b[d-1]) {
		d--
	}
	return d < i && d > 0 && b[d-1] == '+'
}

// isPhone reports whether a run of 10 to 32 digits is a phone number
// written without separators: a mainland mobile (13812345678, with 86 or
// 0086 before it), a landline with its area code (01012345678,
// 075512345678), a 400 or 800 service number (4008123123).
func isPhone(run []byte) bool {
	mobile := func(m []byte) bool { return len(m) == 11 && m[0] == '1' && m[1] >= '3' }
	switch {
	case mobile(run):
		return true
	case len(run) == 13 && string(run[:2]) == "86" && mobile(run[2:]):
		return true
	case len(run) == 15 && string(run[:4]) == "0086" && mobile(run[4:]):
		return true
	case len(run) <= 12 && run[0] == '0':
		return true
	case len(run) == 10 && (string(run[:3]) == "400" || string(run[:3]) == "800"):
		return true
	}
	return false
}

// isCompactDateTime reports whether a run is a time written without
// separators: yyyyMMddHHmm or yyyyMMddHHmmss in this century.
func isCompactDateTime(run []byte) bool {
	if len(run) != 12 && len(run) != 14 || !isCompactDate(run[:8]) {
		return false
	}
	if num(run[8:10]) > 23 || num(run[10:12]) > 59 {
		return false
	}
	return len(run) == 12 || num(run[12:14]) <= 59
}

// isCompactDate reports whether 8 digits are a date yyyyMMdd in this
// century.
func isCompactDate(run []byte) bool {
	y, m, d := num(run[:4]), num(run[4:6]), num(run[6:8])
	if y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 { // 2000 was a leap year, 2100 is out of range
		days = 29
	}
	return d <= days
}

// startsWord reports whether the digits at s begin a word of their own:
// at the start, or after a space, punctuation or Chinese; not after a
// letter, a digit, or what joins a number to something (-+@/\=&%$.).
func startsWord(b []byte, s int) bool {
	if s == 0 {
		return true
	}
	c := b[s-1]
	if c >= utf8.RuneSelf {
		r, _ := utf8.DecodeLastRune(b[:s])
		return !wordRune(r)
	}
	return !isAlnum(c) && strings.IndexByte("-+@/\\=&%$.", c) < 0
}

// writtenPhoneOrDate reports whether a phone number or a date written with
// separators starts at s (see [writtenDate] and [writtenPhone]), and where
// it ends. It reads at most a few dozen bytes, so calling it once per run
// of digits keeps Find linear.
func writtenPhoneOrDate(b []byte, s int) (end int, ok bool) {
	if end, ok := writtenDate(b, s); ok {
		return end, true
	}
	return writtenPhone(b, s)
}

// writtenDate reports whether a date from 1900 to 2099 starts at s, and
// where it ends: 2024-12-02, 2024/12/2, 2024.12.02 (one separator
// throughout), 2024年12月2日 and 2024年12月.
func writtenDate(b []byte, s int) (end int, ok bool) {
	if digitsAt(b, s, 4) != 4 {
		return 0, false
	}
	if y := num(b[s : s+4]); y < 1900 || y > 2099 {
		return 0, false
	}
	i := s + 4
	if i < len(b) && (b[i] == '-' || b[i] == '/' || b[i] == '.') {
		sep := b[i]
		m, i := smallNumber(b, i+1)
		if m < 1 || m > 12 || i >= len(b) || b[i] != sep {
			return 0, false
		}
		d, i := smallNumber(b, i+1)
		return i, d >= 1 && d <= 31
	}
	i = skipSpaces(b, i)
	if !hasPrefixAt(b, i, "年") {
		return 0, false
	}
	m, i := smallNumber(b, skipSpaces(b, i+len("年")))
	i = skipSpaces(b, i)
	return i + len("月"), m >= 1 && m <= 12 && hasPrefixAt(b, i, "月")
}

// writtenPhone reports whether a phone number in groups of digits
// separated by single spaces or hyphens starts at s, and where it ends: a
// mainland mobile
// (138 1234 5678, 138-1234-5678), a landline with its area code
// (010-12345678, 0755 1234567), a 400 or 800 service number (400-812-3123).
// Written without separators, [isPhone] finds them.
func writtenPhone(b []byte, s int) (end int, ok bool) {
	digits, firstLen := 0, 0
	i := s
	for groups := 1; groups <= 4; groups++ {
		n := digitsAt(b, i, 8)
		if n == 0 || n > 8 || groups == 1 && n > 4 {
			return 0, false
		}
		if groups == 1 {
			firstLen = n
		}
		digits += n
		i += n
		if groups > 1 && phoneShape(b[s:s+firstLen], groups, n, digits) && (i == len(b) || !isLetter(b[i])) {
			return i, true
		}
		if i+1 >= len(b) || b[i] != ' ' && b[i] != '-' || !isDigit(b[i+1]) {
			return 0, false
		}
		i++
	}
	return 0, false
}

// phoneShape reports whether groups of digits in all, the first of them
// first and the last of n digits, make a phone number.
func phoneShape(first []byte, groups, n, digits int) bool {
	switch len(first) {
	case 3:
		if first[0] == '1' && first[1] >= '3' && digits == 11 || // a mobile
			(string(first) == "400" || string(first) == "800") && digits == 10 {
			return true
		}
		fallthrough
	case 4:
		return first[0] == '0' && groups == 2 && n >= 7 // a landline: the area code, then 7 or 8 digits
	}
	return false
}

// digitsAt counts the digits at i, up to most+1: more than most means
// too many.
func digitsAt(b []byte, i, most int) int {
	n := 0
	for i+n < len(b) && isDigit(b[i+n]) && n <= most {
		n++
	}
	return n
}

// smallNumber reads one or two digits at i: their value and where they
// end; -1 when there are none, or more.
func smallNumber(b []byte, i int) (int, int) {
	n := digitsAt(b, i, 2)
	if n == 0 || n > 2 {
		return -1, i
	}
	return num(b[i : i+n]), i + n
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func num(digits []byte) int {
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
	}
	return n
}

// mixedWord reports whether s is one word of at least minNear digits (of
// any script) mixed with something else.
func mixedWord(s []byte) bool {
	digits, other := 0, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		i += size
		switch {
		case r == ' ' || r == '\n':
			return false
		case r >= '0' && r <= '9':
			digits++
		case unicode.IsDigit(r):
			digits++
			other = true
		default:
			other = true
		}
	}
	return digits >= minNear && other
}
