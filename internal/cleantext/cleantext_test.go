package cleantext

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"背调未在进行中", "背调未在进行中"},
		{"plain text, 1.5 ¥", "plain text, 1.5 ¥"},
		{"\x1b[2J\x1b[32m✓ all good\x1b[0m", "[2J[32m✓ all good[0m"},
		{"a\x00b\x7fc\u0085d", "abcd"},
		{"invoice \u202egpj.exe", "invoice gpj.exe"},
		{"\u2066isolated\u2069 \u200fmark\u200e", "isolated mark"},
		{"two\nlines\tand\rtab", "two lines and tab"},
		{"bad \xff utf-8", "bad  utf-8"},
		{"emoji 👩\u200d💻 stays", "emoji 👩\u200d💻 stays"},
		{"zero\u200bwidth\u200c \u200djoin\u2060word\ufeffbom", "zerowidth joinwordbom"},
		{"soft\u00adhyphen, line\u2028sep\u2029para", "softhyphen, line sep para"},
		{"tags\U000E0041\U000E007F gone", "tags gone"},
	} {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\u202e")
	for _, tt := range linkForms {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range String(s) {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || (isInvisible(r) && r != zwj) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("String(%q) keeps %U", s, r)
			}
		}
		// Links: what is left holds none, and no mark hangs on the word.
		const word = "⟦⟧"
		if strings.Contains(s, word) {
			return
		}
		out := ReplaceLinks(s, word)
		if again := ReplaceLinks(out, word); again != out {
			t.Fatalf("ReplaceLinks(%q) = %q still holds a link: %q", s, out, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("ReplaceLinks(%q) = %q is not UTF-8", s, out)
		}
		for rest := out; ; {
			_, after, found := strings.Cut(rest, word)
			if !found {
				break
			}
			if r, _ := utf8.DecodeRuneInString(after); unicode.IsMark(r) {
				t.Fatalf("ReplaceLinks(%q) = %q leaves a mark after the word", s, out)
			}
			rest = after
		}
		if !mayHoldLink(s) && out != s {
			t.Fatalf("ReplaceLinks(%q) = %q changed text with no dot, colon or bracket", s, out)
		}
	})
}

// linkForms are the forms of a link that must become the word, as a
// vendor may write them: none may reach a person.
var linkForms = []struct{ in, want string }{
	{"请登录 www.yibeidiao-report.com/login 查看", "请登录 [L] 查看"},
	{"see https://evil.example/x?y=1 now", "see [L] now"},
	{"mail admin@corp.example.cn", "mail admin@[L]"},
	{"hxxp://a.b and ftp://x", "[L] and [L]"},
	{"evil.example:8443/a", "[L]"},
	{"a :// b", "a [L] b"},
	{"背调://x", "[L]"},
	// IP addresses, with and without a port; localhost; bracketed IPv6.
	{"go to 1.2.3.4:8080/x now", "go to [L] now"},
	{"go to 1.2.3.4 now", "go to [L] now"},
	{"请访问192.168.0.1登录", "请访问[L]登录"},
	{"localhost:8080/x", "[L]"},
	{"try localhost", "try [L]"},
	{"[::1]/x", "[L]"},
	{"at [fe80::1%eth0]:443/a.", "at [L]"},
	// Domains in other scripts, and mixed scripts.
	{"пример.рф", "[L]"},
	{"例子.中国", "[L]"},
	{"请访问 例子.中国查看", "请访问 [L]查看"},
	{"evil.c\u043em", "[L]"}, // Cyrillic о
	{"\u0435vil.com/login", "[L]"},
	{"xn--e1afmkfd.xn--p1ai", "[L]"},
	// Full-width and ideographic dots, and full-width everything.
	{"evil。com/login", "[L]"},
	{"请访问evil。com", "请访问[L]"},
	{"例子。evil。com", "例子。[L]"},
	{"evil｡com", "[L]"},
	{"ｅｖｉｌ．ｃｏｍ", "[L]"},
	{"ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ", "[L]"},
	{"ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ 查看", "[L] 查看"},
	// Schemes that need no slashes.
	{"javascript:alert(1)", "[L]"},
	{"click JavaScript:alert(1)", "click [L]"},
	{"call tel:+8613812345678 now", "call [L] now"},
	{"mailto:hr@corp", "[L]"},
	{"data:text/html;base64,PHNjcmlwdD4=", "[L]"},
	{"ｊａｖａｓｃｒｉｐｔ：alert(1)", "[L]"},
	// Combining marks and invisible characters go with the link.
	{"evil.co\u0301m", "[L]"},
	{"evil.c\u00f3m", "[L]"},
	{"evil.com\u0301\u0301 then", "[L] then"},
	{"evil\u200b.com", "[L]"},
	// Several in one text, of different forms.
	{"javascript:alert(1) 1.2.3.4 evil.com", "[L] [L] [L]"},
	{"a.com://x b.com", "[L] [L]"},
}

func TestReplaceLinks(t *testing.T) {
	t.Parallel()
	for _, tt := range linkForms {
		if got := ReplaceLinks(tt.in, "[L]"); got != tt.want {
			t.Errorf("ReplaceLinks(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Prose, numbers and record numbers are kept as they are.
	for _, text := range []string{
		"背调未在进行中 1.5 元",
		"背调未在进行中。请稍后再试。",
		"签名错误.请检查参数",
		"查询失败。Please retry later.",
		"Done. Next step: wait 1.5 s, then retry.",
		"记录 20190415152645093983751 已完成",
		"record 20190415152645093983751: not found",
		"错误码：1002，余额：0.00 元",
		"第1.2节 v1.2.3 2024.12.02 10:30:59",
		"Invalid data: record not found (code: 901)",
		"ｏｋ，全角文字：１２３４５６７８９０１２",
		"比率 3:1 与 1.5:1",
		"",
	} {
		if got := ReplaceLinks(text, "[L]"); got != text {
			t.Errorf("ReplaceLinks(%q) = %q, want it unchanged", text, got)
		}
	}
}

// TestReplaceLinksOnEndlessDots: 180,000 characters of dots, the text a
// stranger could use to stall a finder that backtracks, are no link and
// come back unchanged. How long it takes is BenchmarkReplaceLinks's figure
// (MB/s that stays flat from 80 KB to 240 KB of them is linear time),
// which CI prints.
func TestReplaceLinksOnEndlessDots(t *testing.T) {
	t.Parallel()
	long := dots(30000)
	if got := ReplaceLinks(long, "[L]"); got != long {
		t.Errorf("ReplaceLinks on 180,000 characters of dots changed them: %.80q…", got)
	}
}

// dots is n each of "a.", "1." and "例.".
func dots(n int) string {
	return strings.Repeat("a.", n) + strings.Repeat("1.", n) + strings.Repeat("例.", n)
}

func BenchmarkReplaceLinks(b *testing.B) {
	for _, n := range []int{10000, 30000} {
		text := dots(n)
		b.Run(fmt.Sprintf("dots_%dB", len(text)), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				ReplaceLinks(text, "[L]")
			}
		})
	}
}
