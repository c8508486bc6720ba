package bot

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// catalogueSamples are the values put into a catalogue text, by the name
// of the text; any other string is "X".
var catalogueSamples = map[string][]string{
	"progress":           {"20190415152645093983751"},
	"usage":              {"/tempreport"},
	"denied":             {"U0123ABCD"},
	"interrupted":        {"/tempreport", "20190415152645093983751"},
	"refused":            {"20190415152645093983751"},
	"vendorCode":         {"1002"},
	"accountUnavailable": {"906"},
	"reportTitle":        {"20190415152645093983751"},
	"wrongCommand":       {"/tempreport"},
}

// renderCatalogue renders every text of a catalogue: strings as they are,
// funcs called with sample values (each int as 1, 2 and 6, so plural forms
// show). A text it cannot render fails the test, so a new entry is never
// left unchecked.
func renderCatalogue(t *testing.T, lang string) map[string][]string {
	t.Helper()
	w := reflect.ValueOf(catalogues[lang]).Elem()
	out := map[string][]string{}
	when := time.Date(2024, 12, 2, 7, 11, 6, 0, time.UTC)
	for i := range w.NumField() {
		name := w.Type().Field(i).Name
		// The fields are unexported: reach them through their address to call them.
		f := reflect.NewAt(w.Field(i).Type(), unsafe.Pointer(w.Field(i).UnsafeAddr())).Elem()
		switch f.Kind() {
		case reflect.String:
			out[name] = []string{f.String()}
			continue
		case reflect.Func:
		default:
			t.Errorf("%s: cannot render %s of kind %s", lang, name, f.Kind())
			continue
		}
		ft := f.Type()
		if ft.NumOut() != 1 || ft.Out(0).Kind() != reflect.String {
			t.Errorf("%s: %s does not return a string", lang, name)
			continue
		}
		if ft.IsVariadic() {
			parts := map[string][]string{"en": {"One.", "Two."}, "zh": {"第一句。", "第二句。"}}[lang]
			args := make([]reflect.Value, len(parts))
			for k, p := range parts {
				args[k] = reflect.ValueOf(p)
			}
			out[name] = []string{f.Call(args)[0].String()}
			continue
		}
		for _, n := range []int{1, 2, 6} {
			args := make([]reflect.Value, ft.NumIn())
			strs := catalogueSamples[name]
			for k := range args {
				switch in := ft.In(k); {
				case in.Kind() == reflect.String && (name == "limited" || name == "busy"):
					args[k] = reflect.ValueOf(catalogues[lang].seconds(20 * n))
				case in.Kind() == reflect.String:
					s := "X"
					if k < len(strs) {
						s = strs[k]
					}
					args[k] = reflect.ValueOf(s)
				case in.Kind() == reflect.Int:
					args[k] = reflect.ValueOf(n + k) // lo, hi, n differ
				case in == reflect.TypeFor[time.Time]():
					args[k] = reflect.ValueOf(when)
				default:
					t.Errorf("%s: cannot render %s: it takes a %s", lang, name, in)
					args = nil
				}
				if args == nil {
					break
				}
			}
			if args != nil {
				out[name] = append(out[name], f.Call(args)[0].String())
			}
		}
	}
	return out
}

var (
	fullWidth = `\x{3000}-\x{303F}\x{FF00}-\x{FFEF}“”‘’…—`
	// A space after full-width punctuation, or before the closing kind.
	spaceAfterFullWidth  = regexp.MustCompile(`[` + fullWidth + `][ \x{3000}]`)
	spaceBeforeFullWidth = regexp.MustCompile(`[ \x{3000}][，。、：；！？）】”’]`)
	// ASCII ": " or ", ", or ASCII punctuation touching a Chinese character.
	asciiPunct = regexp.MustCompile(`[,:;!?] |\p{Han}[,:;!?.]|[,:;!?]\p{Han}`)
	// Parts joined with a spaced middle dot, as English does.
	spacedDot = regexp.MustCompile(` · `)
	// Half-width brackets, parentheses or straight quotes around Chinese.
	asciiBrackets = regexp.MustCompile(`[\[(<"'][^\])>"']*\p{Han}|\p{Han}[^\[(<"']*[\])>"']`)
	// A single … where mainland usage has ……, and three dots.
	loneEllipsis = regexp.MustCompile(`(^|[^…])…([^…]|$)|\.\.\.`)
	// 您 and a vendor's 贵公司 / 贵司: the catalogue says 你.
	otherRegister = regexp.MustCompile(`您|贵公司|贵司`)
)

// chineseFaults is what a native reader would mark in a Chinese text.
func chineseFaults(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "**", ""), "`", "")
	var faults []string
	for _, c := range []struct {
		re   *regexp.Regexp
		what string
	}{
		{spaceAfterFullWidth, "a space after full-width punctuation"},
		{spaceBeforeFullWidth, "a space before full-width punctuation"},
		{asciiPunct, "ASCII punctuation in Chinese text"},
		{spacedDot, "parts joined with a spaced ·"},
		{asciiBrackets, "half-width brackets or quotes around Chinese"},
		{loneEllipsis, "a lone … (mainland usage is ……)"},
		{otherRegister, "您 or 贵公司 where the catalogue says 你"},
	} {
		if m := c.re.FindString(s); m != "" {
			faults = append(faults, fmt.Sprintf("%s: %q", c.what, m))
		}
	}
	return faults
}

// TestChineseCatalogue renders every Chinese text and fails on what a
// native HR reader would mark.
func TestChineseCatalogue(t *testing.T) {
	t.Parallel()
	for name, texts := range renderCatalogue(t, "zh") {
		for _, s := range texts {
			for _, f := range chineseFaults(s) {
				t.Errorf("zh %s: %s in %q", name, f, s)
			}
		}
	}
	// The separators a fallback is made of are full-width and unspaced.
	for name, sep := range map[string]string{"labelSep": chinese.labelSep, "listSep": chinese.listSep, "partSep": chinese.partSep,
		"sentences": chinese.sentences("甲。", "乙。")} {
		if strings.ContainsAny(sep, " ,:;·") {
			t.Errorf("zh %s is %q: ASCII or spaced", name, sep)
		}
	}
}

// TestEnglishCatalogue: no Chinese punctuation or pronoun slips into the
// English texts (易背调, the vendor's name, may stay).
func TestEnglishCatalogue(t *testing.T) {
	t.Parallel()
	fullWidthRe := regexp.MustCompile(`[\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]|你|您`)
	for name, texts := range renderCatalogue(t, "en") {
		for _, s := range texts {
			if m := fullWidthRe.FindString(s); m != "" {
				t.Errorf("en %s: %q in %q", name, m, s)
			}
		}
	}
}

// TestChineseFaultsAreFound: the checks above find what they are for.
func TestChineseFaultsAreFound(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"**用法：** `/x 背调号`",    // a space after a full-width colon
		"获取链接。 共 6 个",         // … and after a full stop
		"获取链接 。",              // a space before a full stop
		"打开报告: https://x",     // ASCII ": "
		"背调号, 请查收",            // ASCII ", "
		"背调号:2019",            // ASCII colon touching Chinese
		"正在获取临时报告…",           // a lone …
		"正在获取临时报告...",         // three dots
		"[链接已隐藏]",             // half-width brackets
		"请联系(通常是 HR)管理员",      // half-width parentheses
		"请点击\"获取新链接\"",        // straight quotes
		"请您稍后再试。",             // the other register
		"易背调提示贵公司的企业账号当前不可用。", // a vendor's word for its customer
	} {
		if len(chineseFaults(bad)) == 0 {
			t.Errorf("no fault found in %q", bad)
		}
	}
	for _, good := range []string{
		"正在获取背调号 20190415152645093983751 的临时报告……",
		"**用法：**`/tempreport 背调号`，例如 `/tempreport 20190415152645093983751`。",
		"链接 1 分钟后失效，有效期至 15:11:06（北京时间），此消息仅你本人可见，请勿转发链接。",
		"请联系公司负责易背调账号的同事（通常是 HR）。",
	} {
		if f := chineseFaults(good); len(f) != 0 {
			t.Errorf("faults found in %q: %q", good, f)
		}
	}
}

// separatorsWired is set once words.go and blocks.go join the parts of an
// answer with the catalogue's separators (labelSep, listSep, partSep,
// sentences, expiresAtLabel) instead of ": ", ", ", " · " and " ".
const separatorsWired = true

// TestChineseAnswersAsSent checks whole answers, as Slack gets them (the
// fallback text and the rich text), for the same faults: the separators
// between catalogue texts are code, and need the same care.
func TestChineseAnswersAsSent(t *testing.T) {
	t.Parallel()
	if !separatorsWired {
		t.Skip("the answers are joined with ASCII separators until words.go and blocks.go use the catalogue's")
	}
	for _, res := range everyAnswer() {
		msg := chinese.compose(res, answerFor{user: "U0ASKER", command: "/tempreport"})
		var rich strings.Builder
		for _, spans := range msg.rich {
			for _, sp := range spans {
				rich.WriteString(sp.text) // a date's text is its fallback; an emoji has none
			}
			rich.WriteString("\n")
		}
		for _, s := range []string{msg.fallback, rich.String()} {
			for _, f := range chineseFaults(s) {
				t.Errorf("zh %s: %s in %q", res.outcome, f, s)
			}
		}
	}
}
