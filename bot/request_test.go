package bot

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/internal/recordno"
	"github.com/hr-tools/tempreport/yibeidiao"
	"github.com/slack-go/slack"
)

// TestTypedTextDecides: what a person types after the command, as the one
// finder reads it, decides the answer: a record with a label, in backticks,
// in Slack's link syntax or full-width is fetched; two are offered, none
// fetched; the wrong length says how many digits it had.
func TestTypedTextDecides(t *testing.T) {
	t.Parallel()
	b, err := New(instant{}, Config{BotToken: "xoxb-1", AllowedUsers: []string{"U0ALLOWED"}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	const rec = "20190415152645093983751"
	for _, tt := range []struct {
		text    string
		outcome Outcome // "" for a fetch
		records []string
		problem InputProblem
		digits  int
	}{
		{"背调号：" + rec, "", []string{rec}, 0, 0},
		{"背调号: " + rec, "", []string{rec}, 0, 0},
		{"Record No. " + rec, "", []string{rec}, 0, 0},
		{"`" + rec + "`", "", []string{rec}, 0, 0},
		{"```" + rec + "```", "", []string{rec}, 0, 0},
		{"&lt;" + rec + "&gt;", "", []string{rec}, 0, 0},
		{"２０１９０４１５１５２６４５０９３９８３７５１", "", []string{rec}, 0, 0},
		{rec + " 20190415152645093983752", OutcomeChoose, []string{rec, "20190415152645093983752"}, 0, 0},
		{"", OutcomeHelp, nil, 0, 0},
		{"帮助", OutcomeHelp, nil, 0, 0},
		{"123456789", OutcomeBadInput, nil, WrongLength, 9},
		{"背调号：1234567", OutcomeBadInput, nil, WrongLength, 7},
		{"hello", OutcomeBadInput, nil, NotDigits, 0},
		{"13812345678", OutcomeBadInput, nil, PhoneOrDate, 0},
		{"+86 138 1234 5678", OutcomeBadInput, nil, PhoneOrDate, 0},
		{"2024-01-01", OutcomeBadInput, nil, PhoneOrDate, 0},
		{"2024年1月1日", OutcomeBadInput, nil, PhoneOrDate, 0},
		{"20241202", OutcomeBadInput, nil, PhoneOrDate, 0},
		{"13812345678 123456789", OutcomeBadInput, nil, WrongLength, 9}, // the mistyped record is the likelier mistake
	} {
		req := &request{entry: EntryCommand, ackForm: ackMessage, user: "U0ALLOWED", text: tt.text, received: time.Now(),
			route: route{kind: routeResponseURL, responseURL: "https://hooks.slack.com/commands/T1/1/x"}}
		v := b.decide(req)
		res, fetch := v.res, v.fetch
		switch {
		case tt.outcome == "" && (!fetch || res.recordNo != tt.records[0]):
			t.Errorf("%q: %s (fetch %v, record %q), want a fetch of %s", tt.text, res.outcome, fetch, res.recordNo, tt.records[0])
		case tt.outcome != "" && (fetch || res.outcome != tt.outcome):
			t.Errorf("%q: %s (fetch %v), want %s", tt.text, res.outcome, fetch, tt.outcome)
		case tt.outcome == OutcomeChoose && !slices.Equal(res.records, tt.records):
			t.Errorf("%q: offers %q, want %q", tt.text, res.records, tt.records)
		case tt.problem != 0 && (res.input == nil || res.input.Problem != tt.problem || res.input.Digits != tt.digits):
			t.Errorf("%q: input problem %+v, want %v with %d digits", tt.text, res.input, tt.problem, tt.digits)
		}
	}
}

type instant struct{}

func (instant) GenerateTempReport(context.Context, string) (*yibeidiao.TempReport, error) {
	return &yibeidiao.TempReport{URL: "https://res.yibeidiao.com/x", ExpiresAt: time.Now().Add(time.Minute)}, nil
}

// FuzzParseClick: any interaction payload Slack might send is either our
// button, from a known user, or ignored; it never panics.
func FuzzParseClick(f *testing.F) {
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"response_url":"https://hooks.slack.com/x","actions":[{"action_id":"fresh_link","block_id":"fresh_link","value":"20190415152645093983751","type":"button"}]}`))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"other","block_id":"b","type":"button"}]}`))
	f.Add([]byte(`{"type":"view_submission","user":{"id":"U1"}}`))
	f.Add([]byte(`{"type":"block_actions","actions":[null]}`))
	f.Add([]byte(`{"type":"message_action","callback_id":"tempreport_from_message","user":{"id":"U1"},"response_url":"https://hooks.slack.com/x","message":{"text":"背调号 20190415152645093983751"}}`))
	f.Add([]byte(`{"type":"message_action","callback_id":"other","user":{"id":"U1"},"message":{"text":"x"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(payload, &cb) != nil {
			return
		}
		req := readAnyInteraction(cb)
		switch {
		case req.refusal != nil:
			if req.refusal.outcome != OutcomeIgnored || req.user != "" || req.text != "" || req.message != nil {
				t.Fatalf("readAnyInteraction(%s): an ignored interaction with user %q, text %q", payload, req.user, req.text)
			}
			return
		case req.entry == EntryClick:
			if req.user == "" || cb.Type != slack.InteractionTypeBlockActions {
				t.Fatalf("readAnyInteraction(%s) accepted a click %+v", payload, req)
			}
		case req.entry == EntryShortcut:
			if req.user == "" || cb.Type != slack.InteractionTypeMessageAction || cb.CallbackID != ShortcutCallbackID {
				t.Fatalf("readAnyInteraction(%s) accepted a shortcut %+v", payload, req)
			}
		default:
			t.Fatalf("readAnyInteraction(%s) = entry %q", payload, req.entry)
		}
		text := req.text
		if req.message != nil {
			text = messageTexts(*req.message)
		}
		for _, r := range recordno.Find(text).Records {
			if len(r) < recordno.MinDigits || len(r) > recordno.MaxDigits || strings.Trim(r, "0123456789") != "" {
				t.Fatalf("readAnyInteraction(%s) found record %q", payload, r)
			}
		}
	})
}
