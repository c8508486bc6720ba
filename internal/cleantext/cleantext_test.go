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
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) {
				t.Fatalf("String(%q) keeps %U", s, r)
			}
		}
	})
}
