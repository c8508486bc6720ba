package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/slack-go/slack"
)

// TestEveryTextInEveryLanguage fails when a text exists in one language
// and not another.
func TestEveryTextInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		w := reflect.ValueOf(catalogues[lang]).Elem()
		for i := range w.NumField() {
			if w.Field(i).IsZero() {
				t.Errorf("%s has no %s", lang, w.Type().Field(i).Name)
			}
		}
	}
	if len(catalogues) != len(Languages) {
		t.Errorf("%d catalogs for %d languages", len(catalogues), len(Languages))
	}
}

// everyAnswer is one result for every answer a person can meet.
func everyAnswer() []result {
	answers := everyResult()
	for i := range answers {
		if answers[i].recordNo == "" {
			answers[i].recordNo = "20190415152645093983751"
		}
	}
	return answers
}

// everyResult is every result a person can meet, as the bot makes them.
func everyResult() []result {
	report := &yibeidiao.TempReport{URL: "https://res.yibeidiao.com/survey-result/x.pdf?Expires=1", ExpiresAt: time.Now().Add(time.Minute), Seq: "S1"}
	refused := func(code, msg string, verified bool) error {
		return &yibeidiao.APIError{Code: code, Message: msg, HTTPStatus: 200, Verified: verified}
	}
	return []result{
		{outcome: OutcomeLink, report: report},
		{outcome: OutcomeHelp},
		{outcome: OutcomeBadInput, input: &InputError{Problem: NotDigits}},
		{outcome: OutcomeBadInput, input: &InputError{Problem: PhoneOrDate}},
		{outcome: OutcomeBadInput, input: &InputError{Problem: WrongLength, Digits: 3}},
		{outcome: OutcomeBadInput, input: &InputError{Problem: NoRecordData}},
		{outcome: OutcomeBadInput, input: &InputError{Problem: NoRecordInMessage}},
		{outcome: OutcomeWrongCommand, err: &WrongCommandError{Got: "/x", Want: "/tempreport"}},
		{outcome: OutcomeDenied},
		{outcome: OutcomeUnconfirmed},
		{outcome: OutcomeLimited, wait: 20 * time.Second},
		{outcome: OutcomeBusy, wait: 1500 * time.Millisecond},
		{outcome: OutcomeOverloaded, wait: time.Second},
		{outcome: OutcomeNoRoute, err: errNoRoute},
		vendorResult(nil, refused("1002", "背调未在进行中", true), nil),
		vendorResult(nil, refused("1001", "背调记录不存在。", true), nil),
		vendorResult(nil, refused("1005", "", true), nil),
		vendorResult(nil, refused("1006", "请登录 www.yibeidiao-report.com/login 查看", false), nil),
		vendorResult(nil, refused("901", "", true), nil),
		vendorResult(nil, refused("906", "", true), nil),
		vendorResult(nil, refused("900", "", true), nil),
		vendorResult(nil, fmt.Errorf("%w: %w", errCommandTimeout, context.DeadlineExceeded), errCommandTimeout),
		vendorResult(nil, yibeidiao.ErrBadResponseSignature, nil),
		vendorResult(nil, yibeidiao.ErrBadResponse, nil),
		vendorResult(nil, &yibeidiao.UntrustedLinkError{Host: "evil.example", Reason: "host not trusted"}, nil),
		{outcome: OutcomeRestarting},
		vendorResult(nil, errShuttingDown, errShuttingDown),
		{outcome: OutcomeUnreadable, err: ErrUnreadable},
		{outcome: OutcomeInternal, err: errors.New("something nobody expected")},
		{outcome: OutcomeChoose, records: []string{"20190415152645093983751", "20190415152645093983752"}},
		{outcome: OutcomeChoose, records: []string{"1111111111", "2222222222", "3333333333", "4444444444", "5555555555", "6666666666"}},
		{outcome: OutcomeChoose, typed: true, records: []string{"20190415152645093983751", "20190415152645093983752"}},
		{outcome: OutcomeChoose, typed: true, records: []string{"1111111111", "2222222222", "3333333333", "4444444444", "5555555555", "6666666666"}},
		{outcome: OutcomeChoose, cut: true, records: []string{"20190415152645093983751", "20190415152645093983752"}},
		{outcome: OutcomeBadInput, cut: true, input: &InputError{Problem: NoRecordInMessage}},
	}
}

// TestEveryOutcomeInBothLanguages renders every answer a person can meet in
// each language: Chinese answers are Chinese (the vendor's own words aside),
// English ones are English, and each outcome has its own words.
func TestEveryOutcomeInBothLanguages(t *testing.T) {
	t.Parallel()
	covered := map[Outcome]bool{OutcomeIgnored: true} // ignored envelopes get no answer
	english := regexp.MustCompile(`\b(the|you|your|please|record|link|vendor|bot)\b`)
	notOurs := regexp.MustCompile("`[^`]*`|https?://\\S+|[0-9]+|U0ASKER|背调未在进行中|背调记录不存在|易背调|Slack|ID|UTC")
	for _, lang := range Languages {
		w := catalogues[lang]
		seen := map[string]Outcome{}
		for _, res := range everyAnswer() {
			msg := rendered(t, w, res, answerFor{user: "U0ASKER", command: "/tempreport"})
			covered[res.outcome] = true
			if msg == nil {
				t.Errorf("%s: %s has no message", lang, res.outcome)
				continue
			}
			// The words a person reads, without what is not ours to translate:
			// the command, record numbers, user IDs, the vendor's own message.
			words := notOurs.ReplaceAllString(msg.Text, "")
			switch lang {
			case "zh":
				if !strings.ContainsFunc(words, func(r rune) bool { return unicode.Is(unicode.Han, r) }) || english.MatchString(strings.ToLower(words)) {
					t.Errorf("zh %s is not Chinese: %q", res.outcome, msg.Text)
				}
				// What a native reader marked as translated, or untrue where it was shown.
				for _, bad := range []string{"背调编号", "「", "」", "一分钟", "0–9", "如果一直这样", "如问题持续", "重试", "原因无法显示",
					"通常是 HR", "官方地址", "可接受", "这个数字", "该背调的", "前面的部分", "不一致"} {
					if strings.Contains(msg.Text, bad) {
						t.Errorf("zh %s says %q: %q", res.outcome, bad, msg.Text)
					}
				}
			case "en":
				if strings.ContainsFunc(words, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					t.Errorf("en %s has Chinese in it: %q", res.outcome, msg.Text)
				}
			}
			if prev, ok := seen[msg.Text]; ok && prev != res.outcome {
				t.Errorf("%s: %s and %s say the same: %q", lang, prev, res.outcome, msg.Text)
			}
			seen[msg.Text] = res.outcome
		}
	}
	for _, o := range Outcomes {
		if !covered[o] && !viewOnly[o] {
			t.Errorf("outcome %s is not tested", o)
		}
	}
}

// viewOnly are the outcomes that show a view (the form, the App Home), never
// a message: TestViews renders them.
var viewOnly = map[Outcome]bool{OutcomeForm: true, OutcomeHome: true, OutcomeUnchanged: true}

// TestPhoneOrDateAnswer: a phone number or a date typed alone is told
// that it is not a record number, never that it is not digits; usage
// follows, as after every typing mistake.
func TestPhoneOrDateAnswer(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{
		"en": "No record number found (phone numbers and dates don't count).",
		"zh": "未找到背调号（电话号码和日期不计在内），请核对后重新输入。",
	} {
		w := catalogues[lang]
		msg := rendered(t, w, result{outcome: OutcomeBadInput, input: &InputError{Problem: PhoneOrDate}}, answerFor{command: "/tempreport"})
		if !strings.HasPrefix(msg.Text, want+"\n") || !strings.Contains(msg.Text, w.fallbackText(parseMarkup(w.usage("/tempreport")))) {
			t.Errorf("%s: %q, want %q and the usage", lang, msg.Text, want)
		}
		if strings.Contains(msg.Text, w.notDigits) {
			t.Errorf("%s: %q says the input is not digits", lang, msg.Text)
		}
	}
}

// TestChooseWords: the offer says how many records there are and, when
// not all are offered, how many are, before how to pick; its plain text
// names the records after a label, not glued to the sentence before.
func TestChooseWords(t *testing.T) {
	t.Parallel()
	six := []string{"1111111111", "2222222222", "3333333333", "4444444444", "5555555555", "6666666666"}
	for _, tt := range []struct {
		lang    string
		records []string
		typed   bool
		want    string
	}{
		{"zh", six[:2], false, "这条消息中有 2 个背调号，点击要查看的背调号即可获取链接。背调号：1111111111、2222222222"},
		{"zh", six, false, "这条消息中有 6 个背调号，以下列出前 5 个，点击即可获取对应链接。背调号：1111111111、"},
		{"zh", six, true, "你输入了 6 个背调号，以下列出前 5 个，点击即可获取对应链接。背调号："},
		{"en", six[:2], false, "This message names 2 record numbers. Pick one: its link is fetched only when you press its button. Record numbers: 1111111111, 2222222222"},
		{"en", six, true, "You gave 6 record numbers; here are the first 5. Pick one: its link is fetched only when you press its button. Record numbers: 1111111111, "},
	} {
		msg := catalogues[tt.lang].chooseMessage(tt.records, tt.typed, false)
		if !strings.HasPrefix(msg.fallback, tt.want) {
			t.Errorf("%s %d records (typed %v): %q, want it to start %q", tt.lang, len(tt.records), tt.typed, msg.fallback, tt.want)
		}
		if strings.Contains(msg.fallback, "6666666666") {
			t.Errorf("%s: the sixth record is listed: %q", tt.lang, msg.fallback)
		}
	}
}

// markerNextToCJK finds a Slack formatting marker (* _ ~ `) touching a Han
// character or full-width punctuation: Slack prints such markers instead
// of formatting.
var markerNextToCJK = regexp.MustCompile("[*_~`][\\p{Han}\\x{3000}-\\x{303F}\\x{FF00}-\\x{FFEF}]|[\\p{Han}\\x{3000}-\\x{303F}\\x{FF00}-\\x{FFEF}][*_~`]")

// TestAnswersRenderWithoutMarkers renders every answer in both languages
// and fails on a formatting marker where Slack would show it: the answers
// carry their styles in rich text, and no text Slack reads as mrkdwn (a
// mrkdwn text object, the fallback) has a marker next to CJK text.
func TestAnswersRenderWithoutMarkers(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		for _, res := range everyAnswer() {
			msg := rendered(t, catalogues[lang], res, answerFor{user: "U0ASKER", command: "/tempreport"})
			data, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var tree any
			_ = json.Unmarshal(data, &tree)
			var visit func(v any, path string)
			visit = func(v any, path string) {
				switch v := v.(type) {
				case map[string]any:
					if v["type"] == "mrkdwn" {
						t.Errorf("%s %s: a mrkdwn text object at %s: %v", lang, res.outcome, path, v["text"])
					}
					for k, e := range v {
						visit(e, path+"."+k)
					}
				case []any:
					for i, e := range v {
						visit(e, fmt.Sprintf("%s[%d]", path, i))
					}
				}
			}
			visit(tree, "")
			if m := markerNextToCJK.FindString(msg.Text); m != "" {
				t.Errorf("%s %s: the fallback text shows %q: %q", lang, res.outcome, m, msg.Text)
			}
			if strings.Contains(msg.Text, "**") {
				t.Errorf("%s %s: the catalog's markup leaked: %q", lang, res.outcome, msg.Text)
			}
		}
	}
}

// TestVendorWordsShownWell: the vendor's message is trimmed, unsigned
// words are not shown, links become a word, markup is literal, and
// unreadable messages are replaced.
func TestVendorWordsShownWell(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang, msg string
		verified  bool
		want      []string
		notWant   []string
	}{
		{"zh", "背调未在进行中。", true, []string{"临时报告：背调未在进行中（错误码 1002）。", "只有"}, []string{"。（", "中。"}},
		{"zh", "", true, []string{"：未返回可显示的原因（错误码 1002）。"}, []string{"：（"}},
		{"zh", `{"reason":"x"}`, true, []string{"未返回可显示的原因"}, []string{"reason"}},
		{"zh", "<html>error</html>", true, []string{"未返回可显示的原因"}, []string{"html"}},
		{"zh", "请登录 www.yibeidiao-report.com/login 查看", true, []string{"请登录【链接已隐藏】查看"}, []string{"yibeidiao-report", "link removed", " 【", "】 "}},
		{"zh", "请登录 www.yibeidiao-report.com/login 查看", false, []string{"未返回可显示的原因"}, []string{"请登录", "yibeidiao-report"}},
		// Spaces stay beside Latin words: Chinese sets them there.
		{"zh", "请用 Chrome 打开 https://x.example/a 即可", true, []string{"请用 Chrome 打开【链接已隐藏】即可"}, []string{"x.example"}},
		{"zh", "see https://x.example/a now", true, []string{"see 【链接已隐藏】 now"}, []string{"x.example"}},
		{"zh", "背调记录不存在", true, []string{"背调记录不存在"}, []string{"进行中"}},
		// Literal in the rich text (which Slack never formats); look-alikes in the
		// fallback, which some clients read as mrkdwn.
		{"en", "record *not* _found_ ~x~ `y`", true, []string{"∗not∗", "＿found＿"}, nil},
		{"en", "see https://evil.example/x", true, []string{"see [link removed] (code 1002)"}, []string{"evil.example"}},
	} {
		w := catalogues[tt.lang]
		res := vendorResult(nil, &yibeidiao.APIError{Code: "1002", Message: tt.msg, Verified: tt.verified}, nil)
		res.recordNo = "20190415152645093983751"
		msg := rendered(t, w, res, answerFor{command: "/tempreport"})
		blocks, _ := json.Marshal(msg.Blocks)
		for _, want := range tt.want {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("%s %q (verified %v): %q lacks %q", tt.lang, tt.msg, tt.verified, msg.Text, want)
			}
		}
		if tt.notWant == nil && (strings.Contains(msg.Text, "*not*") || !strings.Contains(string(blocks), `"text":"record *not* _found_ ~x~ `+"`y`"+`"`)) {
			t.Errorf("vendor markup: fallback %q, blocks %s", msg.Text, blocks)
		}
		for _, bad := range tt.notWant {
			if strings.Contains(msg.Text, bad) || strings.Contains(string(blocks), bad) {
				t.Errorf("%s %q (verified %v): shows %q: %q %s", tt.lang, tt.msg, tt.verified, bad, msg.Text, blocks)
			}
		}
	}
}

// TestCloseUp: no space between a full-width replacement and Chinese,
// whatever the language of the rest; an ASCII one keeps its spaces.
func TestCloseUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, word, want string }{
		{"请登录 【L】 查看", "【L】", "请登录【L】查看"},
		{"请登录\u3000【L】\u3000查看", "【L】", "请登录【L】查看"},
		{"请登录 【L】 【L】 查看", "【L】", "请登录【L】【L】查看"},
		{"请登录 【L】。", "【L】", "请登录【L】。"},
		{"【L】 查看", "【L】", "【L】查看"},
		{" 【L】", "【L】", " 【L】"},
		{"open 【L】 now", "【L】", "open 【L】 now"},
		{"用 Chrome 【L】 2019", "【L】", "用 Chrome 【L】 2019"},
		{"请登录 [L] 查看", "[L]", "请登录 [L] 查看"},
		{"see [L] now", "[L]", "see [L] now"},
		{"no word here", "【L】", "no word here"},
	} {
		if got := closeUp(tt.in, tt.word); got != tt.want {
			t.Errorf("closeUp(%q, %q) = %q, want %q", tt.in, tt.word, got, tt.want)
		}
	}
}

func TestParseMarkup(t *testing.T) {
	t.Parallel()
	got := parseMarkup("**用法：** `/x 背调号`，a*b")
	want := []span{{text: "用法：", bold: true}, {text: " "}, {text: "/x 背调号", code: true}, {text: "，a*b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse = %+v, want %+v", got, want)
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]string{"en": "en", "EN-gb": "en", "zh": "zh", "zh-CN": "zh", "zh_cn": "zh", "zh-Hans": "zh", "zh-Hans-CN": "zh",
		"zh-TW": "", "zh_TW": "", "zh-Hant": "", "zh-HK": "", "fr": "", "": ""} {
		if got, ok := Language(tag); got != want || ok != (want != "") {
			t.Errorf("Language(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
}

// rendered is the answer as Slack reads it: rendered to JSON, then decoded
// with slack-go's own types. nil for no answer.
func rendered(t *testing.T, w *words, res result, a answerFor) *slack.WebhookMessage {
	t.Helper()
	data := w.render(nil, res, a)
	if data == nil {
		return nil
	}
	var msg slack.WebhookMessage
	if err := json.Unmarshal(data, &msg); err != nil {
		t.Fatalf("%s renders as JSON slack-go cannot read: %v\n%s", res.outcome, err, data)
	}
	return &msg
}

// FuzzAppendString: the hand-written JSON string encoder says exactly what
// encoding/json says.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "<a>&", "line\nfeed\ttab\x00\x1f", "中文：背调号", "\u2028\u2029", "\xff\xfe bad", "emoji 🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
