package cleantext

import (
	"slices"
	"strings"
	"unicode"
)

// ReplaceLinks replaces with word everything in s that Slack, a browser or
// a reader could take for a link:
//
//   - URLs of any scheme (anything around "://"), and the schemes that need
//     no slashes: javascript:, data:, mailto:, tel:, … followed by anything;
//   - bare domains with or without a port and path, in any script
//     (пример.рф, 例子.中国, evil.cоm with a Cyrillic о), with ASCII,
//     full-width or ideographic dots (evil。com/login);
//   - IPv4 addresses with or without a port, bracketed IPv6 addresses
//     ([::1]/x), and localhost;
//
// in ASCII or full-width forms (ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ), with the
// combining marks and invisible characters that belong to them (evil.cóm
// leaves no accent behind). Everything else is kept as it was: Chinese and
// English sentences, numbers like 1.5 and record numbers.
//
// Two cases keep prose from reading as a domain. A domain whose top label
// is in Chinese, Japanese or Korean script must end in a known top-level
// domain of those scripts (中国, 公司, 网络, …): "未完成。请稍后" is a
// sentence. And a domain with a non-ASCII label or an ideographic dot
// cannot end in a capitalised word: "失败。Please retry" is two sentences.
func ReplaceLinks(s, word string) string {
	if !mayHoldLink(s) {
		return s
	}
	t := fold(s)
	spans := t.links()
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, sp := range spans {
		b.WriteString(s[t.off[at]:t.off[sp.from]])
		b.WriteString(word)
		at = sp.to
	}
	b.WriteString(s[t.off[at]:])
	return b.String()
}

// mayHoldLink is false for text with nothing a link needs: no dot or colon
// of any width, no bracket and no "localhost". Most text from the vendor
// is that.
func mayHoldLink(s string) bool {
	for _, r := range s {
		switch f := foldRune(r); f {
		case '.', ':', '[':
			return true
		}
	}
	return strings.Contains(strings.ToLower(s), "localhost") || strings.Contains(s, "ｌｏｃａｌｈｏｓｔ")
}

// text is s rune by rune, folded for matching: full-width ASCII as ASCII,
// the dots, colons and slashes a browser reads as such as their ASCII
// forms, letters in lower case. Each folded rune stands for exactly one
// rune of s, so a span of runes is a span of s.
type text struct {
	orig []rune
	r    []rune
	ideo []bool // an ideographic full stop, folded to '.'
	kind []int8 // labelKind of each folded rune

	reach int   // the end of the links found so far
	off   []int // the byte offset in s of rune i; off[len(r)] == len(s)
}

func fold(s string) *text {
	t := &text{}
	for i, r := range s {
		t.off = append(t.off, i)
		t.orig = append(t.orig, r)
		f := foldRune(r)
		t.r = append(t.r, unicode.ToLower(f))
		t.ideo = append(t.ideo, f == '.' && isIdeographicDot(r))
		t.kind = append(t.kind, labelKind(unicode.ToLower(f)))
	}
	t.off = append(t.off, len(s))
	return t
}

func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return r - 0xFEE0
	case isIdeographicDot(r), r == 0xFE52, r == 0x2024: // small full stop, one dot leader
		return '.'
	case r == 0xFE13, r == 0xFE55, r == 0x2236, r == 0xA789: // presentation and small colons, ratio, modifier colon
		return ':'
	case r == 0x2044, r == 0x2215, r == 0x29F8: // fraction and division slashes, big solidus
		return '/'
	}
	return r
}

// isIdeographicDot: 。 ｡ ︒, which IDNA reads as dots between labels.
func isIdeographicDot(r rune) bool { return r == 0x3002 || r == 0xFF61 || r == 0xFE12 }

// span is runes [from, to) of a text.
type span struct{ from, to int }

// links finds every link in t, merged and in order, each with the marks
// and invisible characters that follow it.
func (t *text) links() []span {
	var found []span
	add := func(from, to int) {
		for to < len(t.r) && isAttached(t.r[to]) {
			to++
		}
		found = append(found, span{from, to})
		t.reach = max(t.reach, to)
	}
	n := len(t.r)
	for i := 0; i < n; {
		if t.kind[i] == notLabel {
			i++
			continue
		}
		to, ok, next := t.domainAt(i)
		if ok {
			add(i, to)
		}
		i = next
	}
	// Each link below reaches at most the next space; one that starts
	// inside another found here adds nothing, and none reaches back past
	// one: that keeps this pass linear.
	t.reach = 0
	for i, c := range t.r {
		if reach := t.reach; i < reach {
			continue
		}
		switch {
		case c == ':':
			if from, to, ok := t.schemeAt(i); ok {
				add(from, to)
			}
		case c == '[':
			if to, ok := t.ipv6At(i); ok {
				add(i, to)
			}
		case isDigit(c) && (i == 0 || !isDigit(t.r[i-1]) && t.r[i-1] != '.' && !isASCIILetter(t.r[i-1])):
			if to, ok := t.ipv4At(i); ok {
				add(i, to)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b span) int { return a.from - b.from })
	merged := found[:1]
	for _, sp := range found[1:] {
		last := &merged[len(merged)-1]
		if sp.from <= last.to {
			last.to = max(last.to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// Label characters: letters of two kinds, which a label does not mix, and
// the neutral rest.
const (
	notLabel = iota
	cjkLetter
	otherLetter
	neutral // digits, marks, invisible characters, - and _
)

func labelKind(c rune) int8 {
	switch {
	case unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return cjkLetter
	case unicode.IsLetter(c):
		return otherLetter
	case unicode.IsDigit(c), isAttached(c), c == '-', c == '_':
		return neutral
	}
	return notLabel
}

// isAttached: combining marks and invisible format characters, which
// belong to the character before them.
func isAttached(c rune) bool { return unicode.IsMark(c) || unicode.Is(unicode.Cf, c) }

// labelEnd is where the label starting at i ends: at a character that is
// not a label's, or where Chinese, Japanese or Korean letters meet others
// ("请访问evil.com" is text and a domain).
func (t *text) labelEnd(i int) int {
	kind := int8(notLabel)
	for ; i < len(t.r); i++ {
		k := t.kind[i]
		if k == notLabel {
			break
		}
		if k == cjkLetter || k == otherLetter {
			if kind == notLabel {
				kind = k
			} else if k != kind {
				break
			}
		}
	}
	return i
}

// DNS names have at most 127 labels of 63 characters; bounding the scan
// keeps ReplaceLinks linear in its input.
const maxLabels, maxName = 64, 512

// domainAt reads a domain name starting at label i: labels joined by
// dots, then a port and a path. It is one if some label after the first
// is a top-level domain; the longest such name is taken. next is where to
// look for the next one: past the name, or past the labels read if none
// of them can end a name (a later start would find none either).
func (t *text) domainAt(i int) (end int, ok bool, next int) {
	type label struct {
		from, to    int
		ascii       bool // this label and those before it are ASCII
		ideographic bool // an ideographic dot before it or one before
	}
	var labels []label
	ascii, ideographic := true, false
	for j := i; len(labels) < maxLabels && j-i < maxName; {
		e := t.labelEnd(j)
		if e == j {
			break
		}
		for p := j; p < e; p++ {
			ascii = ascii && (t.r[p] <= unicode.MaxASCII || isAttached(t.r[p]))
		}
		ideographic = ideographic || j > i && t.ideo[j-1]
		labels = append(labels, label{j, e, ascii, ideographic})
		if e+1 < len(t.r) && t.r[e] == '.' && t.kind[e+1] != notLabel {
			j = e + 1
			continue
		}
		break
	}
	if len(labels) == 1 && t.is(labels[0].from, labels[0].to, "localhost") {
		end = t.portAndPath(labels[0].to)
		return end, true, end
	}
	anyTop := false
	for last := len(labels) - 1; last >= 1; last-- {
		top := labels[last]
		to, ok := t.topLevel(top.from, top.to)
		anyTop = anyTop || ok
		if !ok || top.ideographic && !top.ascii || (top.ideographic || !top.ascii) && t.capitalised(top.from, to) {
			continue
		}
		if to < top.to { // a Chinese top-level domain, and text right after it
			return to, true, to
		}
		end = t.portAndPath(to)
		return end, true, end
	}
	if !anyTop && len(labels) > 1 {
		return 0, false, labels[len(labels)-1].from
	}
	return 0, false, labels[0].to
}

// topLevel reports whether the label [from, to) can end a domain name, and
// where the name ends: a label of letters of any script but Chinese,
// Japanese and Korean, or one that starts with a known top-level domain
// in those scripts.
func (t *text) topLevel(from, to int) (end int, ok bool) {
	if t.kind[from] == cjkLetter {
		for _, tld := range cjkTopLevel[t.r[from]] {
			if t.hasPrefix(from, to, tld) {
				return from + len([]rune(tld)), true
			}
		}
		return 0, false
	}
	if t.hasPrefix(from, to, "xn--") { // an internationalised one, as DNS spells it
		for p := from + 4; p < to; p++ {
			if !isASCIILetter(t.r[p]) && !isDigit(t.r[p]) && t.r[p] != '-' {
				return 0, false
			}
		}
		return to, to-from > 4
	}
	letters := 0
	for p := from; p < to; p++ {
		switch t.kind[p] {
		case otherLetter:
			letters++
		case neutral:
			if !isAttached(t.r[p]) {
				return 0, false
			}
		}
	}
	return to, letters >= 2
}

// capitalised: an ASCII word with a capital first letter and no other,
// as a sentence starts.
func (t *text) capitalised(from, to int) bool {
	if to-from < 2 || !unicode.IsUpper(foldRune(t.orig[from])) {
		return false
	}
	for p := from + 1; p < to; p++ {
		if unicode.IsUpper(foldRune(t.orig[p])) {
			return false
		}
	}
	return true
}

// portAndPath extends a host ending at i over a port (:8080) and a path,
// query or fragment, up to the next space.
func (t *text) portAndPath(i int) int {
	if i+1 < len(t.r) && t.r[i] == ':' && isDigit(t.r[i+1]) {
		j := i + 1
		for j < len(t.r) && isDigit(t.r[j]) {
			j++
		}
		if j-i-1 <= 5 {
			i = j
		}
	}
	if i < len(t.r) && (t.r[i] == '/' || t.r[i] == '?' || t.r[i] == '#') {
		for i < len(t.r) && !unicode.IsSpace(t.r[i]) {
			i++
		}
	}
	return i
}

// schemeAt reads a link around the colon at i: anything around "://", or
// a known scheme before it and something after it.
func (t *text) schemeAt(i int) (from, to int, ok bool) {
	from, to = i, i+1
	if t.is(i, min(i+3, len(t.r)), "://") {
		for from > t.reach && !unicode.IsSpace(t.r[from-1]) {
			from--
		}
		for to < len(t.r) && !unicode.IsSpace(t.r[to]) {
			to++
		}
		return from, to, true
	}
	for from > t.reach && isSchemeChar(t.r[from-1]) && i-from < 32 {
		from--
	}
	if from == i || to >= len(t.r) || unicode.IsSpace(t.r[to]) || !slices.Contains(schemes, string(t.r[from:i])) {
		return 0, 0, false
	}
	if from > 0 && (isASCIILetter(t.r[from-1]) || isDigit(t.r[from-1])) {
		return 0, 0, false
	}
	for to < len(t.r) && !unicode.IsSpace(t.r[to]) {
		to++
	}
	return from, to, true
}

func isSchemeChar(c rune) bool {
	return isASCIILetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.'
}

// ipv4At reads a dotted IPv4 address at i, with its port and path.
func (t *text) ipv4At(i int) (end int, ok bool) {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(t.r) || t.r[j] != '.' {
				return 0, false
			}
			j++
		}
		k, v := j, 0
		for k < len(t.r) && isDigit(t.r[k]) && k-j < 4 {
			v = v*10 + int(t.r[k]-'0')
			k++
		}
		if k == j || k-j > 3 || v > 255 {
			return 0, false
		}
		j = k
	}
	if j < len(t.r) && (isASCIILetter(t.r[j]) || t.r[j] == '.' && j+1 < len(t.r) && isDigit(t.r[j+1])) {
		return 0, false
	}
	return t.portAndPath(j), true
}

// ipv6At reads a bracketed IPv6 address at i ([::1], [fe80::1%eth0]),
// with its port and path.
func (t *text) ipv6At(i int) (end int, ok bool) {
	colons := 0
	for j := i + 1; j < len(t.r) && j-i <= 64; j++ {
		c := t.r[j]
		switch {
		case c == ']':
			if colons < 2 {
				return 0, false
			}
			return t.portAndPath(j + 1), true
		case c == ':':
			colons++
		case isDigit(c), c >= 'a' && c <= 'f', c == '.', c == '%', isASCIILetter(c) && colons >= 2:
		default:
			return 0, false
		}
	}
	return 0, false
}

func (t *text) is(from, to int, s string) bool {
	return to-from == len([]rune(s)) && t.hasPrefix(from, to, s)
}

func (t *text) hasPrefix(from, to int, s string) bool {
	for _, c := range s {
		if from >= to || t.r[from] != c {
			return false
		}
		from++
	}
	return true
}

func isDigit(c rune) bool       { return c >= '0' && c <= '9' }
func isASCIILetter(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// schemes that make a link without "//" (as browsers and Slack read
// them), in lower case.
var schemes = []string{
	"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "file", "javascript", "vbscript", "data", "blob", "about",
	"view-source", "mailto", "tel", "sms", "callto", "sip", "sips", "facetime", "skype", "slack", "tg", "whatsapp",
	"weixin", "alipay", "alipays", "intent", "market", "itms", "itms-services", "magnet", "news", "nntp", "irc",
	"xmpp", "geo", "maps", "chrome", "ms-settings",
}

// cjkTopLevel are top-level domains in Chinese, Japanese and Korean
// script, by their first character, longest first where one starts
// another.
var cjkTopLevel = byFirstRune(

	"中文网", "中國", "中国", "公司", "网络", "網絡", "网址", "網址", "网站", "网店", "在线", "在線", "商城", "商店",
	"商标", "商標", "集团", "集團", "游戏", "遊戲", "手机", "手機", "信息", "企业", "企業", "时尚", "购物",
	"娱乐", "政务", "政府", "公益", "健康", "招聘", "世界", "香港", "台湾", "台灣", "澳门", "澳門", "新加坡",
	"移动", "联通", "八卦", "慈善", "书籍", "广东", "佛山", "天主教", "点看", "點看", "组织机构", "組織機構",
	"机构", "機構", "我爱你", "微博", "食品", "家電", "通販", "みんな", "コム", "ストア", "セール", "クラウド",
	"ファッション", "ポイント", "한국", "닷컴", "닷넷", "삼성",
)

func byFirstRune(words ...string) map[rune][]string {
	m := map[rune][]string{}
	for _, w := range words {
		first := []rune(w)[0]
		m[first] = append(m[first], w)
	}
	return m
}
