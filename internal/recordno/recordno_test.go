package recordno

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const (
	rec1 = "20190415152645093983751"
	rec2 = "20190415152645093983752"
	// rec1 as a Chinese input method types it.
	wide1 = "２０１９０４１５１５２６４５０９３９８３７５１"
)

func TestFind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want []string
	}{
		// Today's FindRecords cases (bot/shortcut_test.go), unchanged.
		{"候选人张三，背调号 " + rec1 + "，请看一下", []string{rec1}},
		{"背调号" + rec1, []string{rec1}},
		{"两份：" + rec1 + " 和 ２０１９０４１５１５２６４５０９３９８３７５２", []string{rec1, rec2}},
		{"again " + rec1 + " and " + rec1, []string{rec1}},
		{"no record here, just 12345", nil},
		{"<@U0123456789012> and <#C0123456789012|hr> said hi", nil},
		{"<https://res.yibeidiao.com/x/" + rec1 + ".pdf|report>", nil},
		{"see https://example.com/r/" + rec1 + " or www.example.com/" + rec2, nil},
		{"call 13812345678 or +86 138 1234 5678 or 010-12345678", nil},
		{"on 2024-12-02 10:30:59, at 20241202103059", nil},
		{"order ABC1234567890123 and v1." + rec1, nil},
		{"<!date^1733140800^{date}|Dec 2> " + rec1 + ".", []string{rec1}},
		{strings.Repeat("1", 33), nil},
		{"1234567890", []string{"1234567890"}},

		// Labels in any language before the number.
		{"背调号：" + rec1, []string{rec1}},
		{"背调号:" + rec1, []string{rec1}},
		{"背调号: " + rec1, []string{rec1}},
		{"背调号：" + wide1, []string{rec1}},
		{"背调号＃" + rec1, []string{rec1}},
		{"Record No. " + rec1, []string{rec1}},
		{"Record No." + rec1, []string{rec1}},
		{"Record no.:" + rec1, []string{rec1}},
		{"record #" + rec1, []string{rec1}},
		{"ID=" + rec1, nil}, // a parameter, as in a URL's query
		{"Номер: " + rec1, []string{rec1}},
		{"背调号（" + rec1 + "）", []string{rec1}},
		{"【背调号】" + rec1 + "。", []string{rec1}},
		// Code, Slack's formatting, lists.
		{"`" + rec1 + "`", []string{rec1}},
		{"```" + rec1 + "```", []string{rec1}},
		{"```\n" + rec1 + "\n" + rec2 + "\n```", []string{rec1, rec2}},
		{"*" + rec1 + "* _" + rec2 + "_", []string{rec1, rec2}},
		{"~" + rec1 + "~", []string{rec1}},
		{"• " + rec1 + "\n• " + rec2, []string{rec1, rec2}},
		{rec1 + "," + rec2 + "、" + rec1, []string{rec1, rec2}},
		{rec1 + "，" + rec2, []string{rec1, rec2}},
		{rec1 + ";" + rec2, []string{rec1, rec2}},
		// Slack's link and mention syntax, and its escaped brackets.
		{"<@U123> 背调号 " + rec1, []string{rec1}},
		{"<https://ats.example.com/candidates/42|张三> 背调号 " + rec1, []string{rec1}},
		{"<https://ats.example.com/c/" + rec2 + "|" + rec2 + "> " + rec1, []string{rec1}},
		{"&lt;" + rec1 + "&gt;", []string{rec1}},
		{"&lt;@" + rec1 + "&gt;", nil},
		{"A&amp;" + rec1, nil},
		{"＜" + rec1 + "＞", []string{rec1}},
		{"<" + rec1, []string{rec1}}, // a stray bracket is no token
		{rec1 + ">", []string{rec1}},
		{"a < b\n" + rec1 + " > c", []string{rec1}}, // raw brackets in two texts of a message
		{"<https://x.example/a|a\n" + rec1 + ">", []string{rec1}},
		// Words, addresses, decimals, versions.
		{"ABC1234567890", nil},
		{"ｘ" + wide1, nil},
		{"ｘ２０１９０４１５１５２６４５０９３９８３７５１", nil},
		{rec1 + "ｘ", nil},
		{"é" + rec1, nil},
		{"я" + rec1, nil},
		{"٣" + rec1, nil},
		{"x_" + rec1, nil},
		{rec1 + "_x", nil},
		{"user@" + rec1 + ".example", nil},
		{rec1 + "@corp.example.cn", nil},
		{rec1 + ".pdf", nil},
		{rec1 + ".5", nil},
		{"v1." + rec1, nil},
		{"12:" + rec1, nil},
		{rec1 + ":30", nil},
		{"/" + rec1, nil},
		{rec1 + "&x=1", nil},
		{"+" + rec1, nil},
		{"-" + rec1, nil},
		{rec1 + "%", nil},
		{"请看https://example.com/r/" + rec2 + "，背调号" + rec1, []string{rec1}},
		{"example.com:8443/a," + rec2 + " " + rec1, []string{rec1}},
		{"ftp://" + rec2 + " " + rec1, []string{rec1}},
		{rec2 + "://x " + rec1, []string{rec1}},
		{"https://x.example/报告/" + rec2, nil},
		// Phone numbers, dates and times.
		{"+86 13812345678", nil},
		{"+1 4155552671", nil},
		{"+1 (415) 5552671", nil},
		{"8613812345678 008613812345678", nil},
		{"01012345678 075512345678", nil},
		{"4008123123 8008123123", nil},
		{"１３８１２３４５６７８", nil},
		{"１３８－１２３４－５６７８", nil},
		{"２０２４－１２－０２ １０：３０", nil},
		{"202412021030 20241202103059", nil},
		{"202413021030", []string{"202413021030"}}, // no 13th month: not a time
		{"20240230103000", []string{"20240230103000"}},
		{"20240229103000", nil},
		{"2024年12月2日 10:30", nil},
		// Numbers are taken whole or not at all. Today's FindRecords read these
		// as other, valid-length numbers: "20190415152645093983" and
		// "152645093983052" (its phone pattern matched "051 2019 0415"
		// across two records), and "2019041515264509398" (its date pattern
		// matched the tail).
		{"背调号 20190415152645093983051 20190415152645093983052", []string{"20190415152645093983051", "20190415152645093983052"}},
		{"1000000000 1000007919 1000015838", []string{"1000000000", "1000007919", "1000015838"}},
		{rec1 + "-12-02", nil},
		{rec1 + "年1月2日", []string{rec1}},
		// Invisible characters do not split a number; spaces do.
		{"2019041515264\u200b5093983751", []string{rec1}},
		{"\u202e" + rec1 + "\u202c", []string{rec1}},
	} {
		if got := Find(tt.text).Records; !slices.Equal(got, tt.want) {
			t.Errorf("Find(%q).Records = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestFindWhatWasWrong: the command's text, and what Find says when it
// names no record.
func TestFindWhatWasWrong(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want Found
	}{
		{"", Found{Help: true}},
		{"   ", Found{Help: true}},
		{"help", Found{Help: true}},
		{"Help", Found{Help: true}},
		{"HELP", Found{Help: true}},
		{"帮助", Found{Help: true}},
		{" 帮助 ", Found{Help: true}},
		{"?", Found{Help: true}},
		{"？", Found{Help: true}},
		{"\u3000help\u3000", Found{Help: true}},
		{"ｈｅｌｐ", Found{Help: true}},
		{"help me", Found{}},
		{"帮助我", Found{}},
		{rec1, Found{Records: []string{rec1}}},
		{"  " + rec1 + "\n", Found{Records: []string{rec1}}},
		{"\u3000" + wide1 + "\u3000", Found{Records: []string{rec1}}},
		{"2019０４１５１５２６４５０９３９８３７５１", Found{Records: []string{rec1}}},
		{strings.Repeat("1", 32), Found{Records: []string{strings.Repeat("1", 32)}}},
		{rec1 + " " + rec2, Found{Records: []string{rec1, rec2}}},
		// The wrong number of digits: said, with how many.
		{"123456789", Found{WrongLength: 9}},
		{"１２３４５６７８９", Found{WrongLength: 9}},
		{"123", Found{WrongLength: 3}},
		{strings.Repeat("1", 33), Found{WrongLength: 33}},
		{"背调号：123456789", Found{WrongLength: 9}},
		{"背调号 201904151，请查", Found{WrongLength: 9}},
		{"背调号 201904151526450939837510123456789，请查", Found{WrongLength: 33}},
		{"&lt;123456789&gt;", Found{WrongLength: 9}},
		{"room 12, floor 3", Found{}},                                                // small numbers are no mistyped record
		{"see you at 10:30, call 13812345678", Found{PhoneOrDate: true, Skipped: 1}}, // skipped on purpose, and counted
		{"生日 20241202", Found{PhoneOrDate: true}},
		// Phone numbers and dates: never records, and said to be skipped.
		{"13812345678", Found{PhoneOrDate: true, Skipped: 1}},
		{"１３８１２３４５６７８", Found{PhoneOrDate: true, Skipped: 1}},
		{"+86 13812345678", Found{PhoneOrDate: true, Skipped: 1}},
		{"+86 138 1234 5678", Found{PhoneOrDate: true}},
		{"138 1234 5678", Found{PhoneOrDate: true}},
		{"138-1234-5678", Found{PhoneOrDate: true}},
		{"电话：138-1234-5678", Found{PhoneOrDate: true}},
		{"010-12345678", Found{PhoneOrDate: true}},
		{"0755 1234567", Found{PhoneOrDate: true}},
		{"400-812-3123", Found{PhoneOrDate: true}},
		{"4008123123", Found{PhoneOrDate: true, Skipped: 1}},
		{"20241202", Found{PhoneOrDate: true}},
		{"20241202103059", Found{PhoneOrDate: true, Skipped: 1}},
		{"2024-01-01", Found{PhoneOrDate: true}},
		{"２０２４－０１－０１", Found{PhoneOrDate: true}},
		{"2024/1/1", Found{PhoneOrDate: true}},
		{"1990.05.01", Found{PhoneOrDate: true}},
		{"2024-12-02 10:30", Found{PhoneOrDate: true}},
		{"2024年1月1日", Found{PhoneOrDate: true}},
		{"2024 年 12 月", Found{PhoneOrDate: true}},
		{"call 13812345678 about 123456789", Found{WrongLength: 9, PhoneOrDate: true, Skipped: 1}},
		{"13812345678 " + rec1, Found{Records: []string{rec1}, Skipped: 1}},
		// Look-alikes that are neither.
		{"2024-13-01", Found{NotDigits: true}},
		{"2024-01/01", Found{NotDigits: true}},
		{"x2024-01-01", Found{NotDigits: true}},
		{"138-1234-567", Found{NotDigits: true}},
		{"123-4567-8901", Found{NotDigits: true}},
		{"https://x.example/13812345678", Found{NotDigits: true, Skipped: 1}},
		{"v1.2024.01.01", Found{NotDigits: true}},
		{"123456789 " + rec1, Found{Records: []string{rec1}}},
		// One word of digits mixed with something else.
		{"2019041515264509398375a", Found{NotDigits: true, Skipped: 1}},
		{"+" + rec1, Found{NotDigits: true, Skipped: 1}},
		{rec1 + "&x=1", Found{NotDigits: true, Skipped: 1}},
		{rec1 + "/../balance", Found{NotDigits: true, Skipped: 1}},
		{"٢٠١٩٠٤١٥١٥٢٦٤٥٠٩٣٩٨٣٧٥١", Found{NotDigits: true}},
		{"𝟐𝟎𝟏𝟗𝟎𝟒𝟏𝟓𝟏𝟓𝟐𝟔𝟒𝟓𝟎𝟗𝟑𝟗𝟖𝟑𝟕𝟓𝟏", Found{NotDigits: true}},
		{"<@U012ABC>", Found{}},
		{"\xff\xfe", Found{Help: true}}, // nothing readable: as good as empty
		{"https://example.com/r/" + rec1, Found{NotDigits: true, Skipped: 1}},
	} {
		if got := Find(tt.text); !equal(got, tt.want) {
			t.Errorf("Find(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func equal(a, b Found) bool {
	return slices.Equal(a.Records, b.Records) && a.Help == b.Help && a.WrongLength == b.WrongLength &&
		a.PhoneOrDate == b.PhoneOrDate && a.NotDigits == b.NotDigits && a.Skipped == b.Skipped && a.Cut == b.Cut
}

// TestFindCut: past MaxBytes the text is cut at a space, a record the cut
// falls in is not read as a shorter one, and Found says it was cut.
func TestFindCut(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("x ", MaxBytes/2)
	for _, tt := range []struct {
		name string
		text string
		want Found
	}{
		{"fits", pad[:MaxBytes-len(rec1)-1] + " " + rec1, Found{Records: []string{rec1}}},
		{"record before the cap", rec1 + " " + pad, Found{Records: []string{rec1}, Cut: true}},
		{"record across the cap", pad[:MaxBytes-10] + " " + rec1, Found{Cut: true}},
		{"record after the cap", pad + rec1, Found{Cut: true}},
		{"one long word", strings.Repeat("背", MaxBytes/3-5) + rec1, Found{Cut: true}},
		{"one long word, full-width digits", strings.Repeat("背", MaxBytes/3-5) + wide1, Found{Cut: true}},
	} {
		got := Find(tt.text)
		if !equal(got, tt.want) {
			t.Errorf("%s: Find = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// FuzzFind: whatever the text, what Find takes for records are 10 to 32
// ASCII digits, each once, each a whole run of digits in the text as a
// person would read it; listed alone they are found again, the same.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"候选人张三，背调号 " + rec1 + "，请看一下",
		"<@U1> https://x.y/1234567890 13812345678",
		"背调号：" + wide1, "&lt;" + rec1 + "&gt;", "No." + rec1, "+1 4155552671",
		"```" + rec1 + "```", "ｘ" + wide1, "example.com:8443/a," + rec2, "2019041515264\u200b5093983751",
		"", "help", "123456789", rec1 + "://",
		"138-1234-5678", "2024-01-01", "2024年1月1日", "010 12345678", "400-812-3123 2024/1/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := Find(text)
		readable := digitsAsRead(text)
		seen := map[string]bool{}
		for _, r := range got.Records {
			if len(r) < MinDigits || len(r) > MaxDigits || !isDigits([]byte(r)) {
				t.Fatalf("Find(%q) found %q", text, r)
			}
			if seen[r] {
				t.Fatalf("Find(%q) found %q twice", text, r)
			}
			seen[r] = true
			if !wholeRun(readable, r) {
				t.Fatalf("Find(%q) found %q, which is not a whole number in %q", text, r, readable)
			}
		}
		if len(got.Records) > 0 {
			if again := Find(strings.Join(got.Records, " ")); !slices.Equal(again.Records, got.Records) {
				t.Fatalf("Find(%q) = %q; those alone: %q", text, got.Records, again.Records)
			}
			if got.WrongLength != 0 || got.NotDigits || got.PhoneOrDate {
				t.Fatalf("Find(%q) = %+v: a mistake reported beside records", text, got)
			}
		}
		if got.NotDigits && (got.PhoneOrDate || got.WrongLength != 0) {
			t.Fatalf("Find(%q) = %+v: not digits, and a phone number, a date or a length", text, got)
		}
		if got.Help && len(got.Records) > 0 {
			t.Fatalf("Find(%q) = %+v: help and records", text, got)
		}
		if got.Cut != (len(text) > MaxBytes) {
			t.Fatalf("Find of %d bytes: Cut %v", len(text), got.Cut)
		}
	})
}

// digitsAsRead is text as a person reads its numbers: without what they
// cannot see (invalid UTF-8, control and format characters), tabs and
// line breaks as spaces, full-width digits as ASCII.
func digitsAsRead(text string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(text, "") {
		switch {
		case r == '\t' || r == '\r' || r == 0x85:
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.Is(unicode.Cc, r) && r != '\n' || unicode.Is(unicode.Cf, r):
		case r >= '０' && r <= '９':
			b.WriteByte(byte(r - '０' + '0'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wholeRun reports whether r occurs in s with no digit right before or
// after it.
func wholeRun(s, r string) bool {
	for i := 0; ; {
		k := strings.Index(s[i:], r)
		if k < 0 {
			return false
		}
		k += i
		if (k == 0 || !isDigit(s[k-1])) && (k+len(r) == len(s) || !isDigit(s[k+len(r)])) {
			return true
		}
		i = k + 1
	}
}

// distinctNumbers is n bytes of distinct 10-digit numbers, space
// separated: the message a stranger can use to stall a finder that is not
// linear.
func distinctNumbers(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%010d ", 1_000_000_000+i*7919)
	}
	return b.String()[:n]
}

// TestFindReadsAtMostMaxBytes: a megabyte of distinct numbers is read as
// far as MaxBytes and said to be cut, with what MaxBytes of them hold, and
// MaxBytes of them are all found. That it costs what MaxBytes does, in
// time linear in the text, is BenchmarkFind's figure (MB/s that stays flat
// from 40 KB to 1 MB), which CI prints: a busy machine cannot fail it.
func TestFindReadsAtMostMaxBytes(t *testing.T) {
	t.Parallel()
	capped := distinctNumbers(MaxBytes)
	huge := distinctNumbers(1 << 20)
	fCapped, fHuge := Find(capped), Find(huge)
	if want := MaxBytes / 11; len(fCapped.Records) < want-1 || fCapped.Cut {
		t.Errorf("MaxBytes of numbers: %d records, cut %v; want about %d, not cut", len(fCapped.Records), fCapped.Cut, want)
	}
	if !fHuge.Cut || len(fHuge.Records) > len(fCapped.Records) {
		t.Errorf("1 MB of numbers: %d records, cut %v; want at most %d, cut", len(fHuge.Records), fHuge.Cut, len(fCapped.Records))
	}
}

func BenchmarkFind(b *testing.B) {
	for _, n := range []int{40_000, 150_000, 300_000, 1 << 20} {
		text := distinctNumbers(n)
		b.Run(fmt.Sprintf("distinct_10_digit_%dB", n), func(b *testing.B) {
			b.SetBytes(int64(min(n, MaxBytes)))
			for b.Loop() {
				Find(text)
			}
		})
	}
	chinese := strings.Repeat("候选人张三，背调号 "+rec1+"，电话 13812345678，https://ats.example.com/c/42 ", MaxBytes/120)
	b.Run("chinese_message", func(b *testing.B) {
		b.SetBytes(int64(len(chinese)))
		for b.Loop() {
			Find(chinese)
		}
	})
	b.Run("command", func(b *testing.B) {
		for b.Loop() {
			Find("背调号：" + rec1)
		}
	})
}
