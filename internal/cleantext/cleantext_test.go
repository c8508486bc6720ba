package cleantext

import "testing"

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
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range String(s) {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || (isInvisible(r) && r != zwj) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("String(%q) keeps %U", s, r)
			}
		}
	})
}

func TestReplaceLinks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"请登录 www.yibeidiao-report.com/login 查看", "请登录 [L] 查看"},
		{"see https://evil.example/x?y=1 now", "see [L] now"},
		{"mail admin@corp.example.cn", "mail admin@[L]"},
		{"hxxp://a.b and ftp://x", "[L] and [L]"},
		{"背调未在进行中 1.5 元", "背调未在进行中 1.5 元"},
		{"evil.example:8443/a", "[L]"},
		{"a :// b", "a [L] b"},
		{"背调://x", "[L]"},
	} {
		if got := ReplaceLinks(tt.in, "[L]"); got != tt.want {
			t.Errorf("ReplaceLinks(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
