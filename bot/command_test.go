package bot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text       string
		wantRecord string
		wantHelp   bool
		wantErr    InputProblem
	}{
		{"", "", true, 0},
		{"   ", "", true, 0},
		{"help", "", true, 0},
		{"Help", "", true, 0},
		{"帮助", "", true, 0},
		{" 帮助 ", "", true, 0},
		{"?", "", true, 0},
		{"？", "", true, 0},
		{"帮助我", "", false, NotDigits},
		{"\u3000help\u3000", "", true, 0}, // full-width spaces around
		{"20190415152645093983751", "20190415152645093983751", false, 0},
		{"  20190415152645093983751\n", "20190415152645093983751", false, 0},
		{"1234567890", "1234567890", false, 0},
		{strings.Repeat("1", 32), strings.Repeat("1", 32), false, 0},
		{"２０１９０４１５１５２６４５０９３９８３７５１", "20190415152645093983751", false, 0},             // as a Chinese input method types it
		{"\u3000２０１９０４１５１５２６４５０９３９８３７５１\u3000", "20190415152645093983751", false, 0}, // with full-width spaces
		{"2019０４１５１５２６４５０９３９８３７５１", "20190415152645093983751", false, 0},             // mixed widths
		{"123456789", "", false, WrongLength},
		{"１２３４５６７８９", "", false, WrongLength},
		{strings.Repeat("1", 33), "", false, WrongLength},
		{"2019041515264509398375a", "", false, NotDigits},
		{"٢٠١٩٠٤١٥١٥٢٦٤٥٠٩٣٩٨٣٧٥١", "", false, NotDigits}, // other digits still refused
		{"𝟐𝟎𝟏𝟗𝟎𝟒𝟏𝟓𝟏𝟓𝟐𝟔𝟒𝟓𝟎𝟗𝟑𝟗𝟖𝟑𝟕𝟓𝟏", "", false, NotDigits},
		{"20190415152645093983751 20190415152645093983752", "", false, NotOneWord},
		{"2019041515264\u00a05093983751", "", false, NotOneWord},
		{"2019041515264\u30005093983751", "", false, NotOneWord},
		{"<@U012ABC>", "", false, NotDigits},
		{"20190415152645093983751&x=1", "", false, NotDigits},
		{"20190415152645093983751/../balance", "", false, NotDigits},
		{"+20190415152645093983751", "", false, NotDigits},
		{"help me", "", false, NotOneWord},
		{"\xff\xfe", "", false, NotDigits},
	} {
		record, help, err := ParseCommand(tt.text)
		var problem InputProblem
		if inErr, ok := errors.AsType[*InputError](err); ok {
			problem = inErr.Problem
		} else if err != nil {
			t.Errorf("ParseCommand(%q) error %v is not an *InputError", tt.text, err)
		}
		if record != tt.wantRecord || help != tt.wantHelp || problem != tt.wantErr {
			t.Errorf("ParseCommand(%q) = %q, %v, %v; want %q, %v, problem %v", tt.text, record, help, err, tt.wantRecord, tt.wantHelp, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInput) {
			t.Errorf("ParseCommand(%q) error %v is not ErrInput", tt.text, err)
		}
	}
}

// FuzzParseCommand: whatever is typed, the parser either asks for help,
// refuses with a readable reason, or yields 10-32 ASCII digits — nothing
// else can reach the vendor.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "20190415152645093983751", " 1234567890 ", "<@U1>", "１２３", "1 2", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		record, help, err := ParseCommand(text)
		switch {
		case err != nil:
			if record != "" || help || !utf8.ValidString(err.Error()) {
				t.Fatalf("ParseCommand(%q) = %q, %v with error %v", text, record, help, err)
			}
		case help:
			if record != "" {
				t.Fatalf("ParseCommand(%q): help with record %q", text, record)
			}
		default:
			if len(record) < minRecordDigits || len(record) > maxRecordDigits || strings.Trim(record, "0123456789") != "" {
				t.Fatalf("ParseCommand(%q) = %q, not 10-32 ASCII digits", text, record)
			}
		}
	})
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
		env := readEnvelope(socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: &socketmode.Request{EnvelopeID: "e1"}}, "/tempreport", time.Now())
		switch {
		case env.ignored:
			if env.user != "" || env.recordNo != "" {
				t.Fatalf("readEnvelope(%s): an ignored interaction with user %q, record %q", payload, env.user, env.recordNo)
			}
			return
		case env.kind == KindClick:
			if env.user == "" || cb.Type != slack.InteractionTypeBlockActions {
				t.Fatalf("readEnvelope(%s) accepted a click %+v", payload, env)
			}
		case env.kind == KindShortcut:
			if env.user == "" || cb.Type != slack.InteractionTypeMessageAction || cb.CallbackID != ShortcutCallbackID {
				t.Fatalf("readEnvelope(%s) accepted a shortcut %+v", payload, env)
			}
		default:
			t.Fatalf("readEnvelope(%s) = kind %q", payload, env.kind)
		}
		for _, r := range append([]string{env.recordNo}, env.found...) {
			if r != "" && (len(r) < minRecordDigits || len(r) > maxRecordDigits || strings.Trim(r, "0123456789") != "") {
				t.Fatalf("readEnvelope(%s) found record %q", payload, r)
			}
		}
	})
}
