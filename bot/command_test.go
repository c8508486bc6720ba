package bot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text       string
		wantRecord string
		wantHelp   bool
		wantErr    string
	}{
		{"", "", true, ""},
		{"   ", "", true, ""},
		{"help", "", true, ""},
		{"Help", "", true, ""},
		{"\u3000help\u3000", "", true, ""}, // full-width spaces around
		{"20190415152645093983751", "20190415152645093983751", false, ""},
		{"  20190415152645093983751\n", "20190415152645093983751", false, ""},
		{"1234567890", "1234567890", false, ""},
		{strings.Repeat("1", 32), strings.Repeat("1", 32), false, ""},
		{"123456789", "", false, "10 to 32 digits"},
		{strings.Repeat("1", 33), "", false, "10 to 32 digits"},
		{"2019041515264509398375a", "", false, "only the digits"},
		{"２０１９０４１５１５２６４５０９３９８３７５１", "", false, "only the digits"},
		{"20190415152645093983751 20190415152645093983752", "", false, "one record number only"},
		{"2019041515264\u00a05093983751", "", false, "one record number only"},
		{"<@U012ABC>", "", false, "only the digits"},
		{"20190415152645093983751&x=1", "", false, "only the digits"},
		{"20190415152645093983751/../balance", "", false, "only the digits"},
		{"+20190415152645093983751", "", false, "only the digits"},
		{"help me", "", false, "one record number only"},
		{"\xff\xfe", "", false, "only the digits"},
	} {
		record, help, err := ParseCommand(tt.text)
		if record != tt.wantRecord || help != tt.wantHelp || (err == nil) != (tt.wantErr == "") ||
			(err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("ParseCommand(%q) = %q, %v, %v; want %q, %v, error containing %q", tt.text, record, help, err, tt.wantRecord, tt.wantHelp, tt.wantErr)
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
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(payload, &cb) != nil {
			return
		}
		c, ok := parseClick(cb)
		if !ok {
			return
		}
		if c.user == "" || cb.Type != slack.InteractionTypeBlockActions {
			t.Fatalf("parseClick(%s) accepted %+v", payload, c)
		}
		if record, help, err := ParseCommand(c.value); err == nil && !help && strings.Trim(record, "0123456789") != "" {
			t.Fatalf("click value %q parsed to %q", c.value, record)
		}
	})
}
