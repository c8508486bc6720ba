package bot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// TestEveryTextInEveryLanguage fails when a text exists in one language
// and not another.
func TestEveryTextInEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		w := reflect.ValueOf(languages[lang]).Elem()
		for i := range w.NumField() {
			if w.Field(i).IsZero() {
				t.Errorf("%s has no %s", lang, w.Type().Field(i).Name)
			}
		}
	}
	if len(languages) != len(Languages) {
		t.Errorf("%d catalogs for %d languages", len(languages), len(Languages))
	}
}

// TestEveryOutcomeInBothLanguages renders every outcome a person can meet in
// each language: Chinese answers are Chinese (the vendor's own words aside),
// English ones are English, and each outcome has its own words.
func TestEveryOutcomeInBothLanguages(t *testing.T) {
	t.Parallel()
	report := &yibeidiao.TempReport{URL: "https://res.yibeidiao.com/survey-result/x.pdf?Expires=1", ExpiresAt: time.Now().Add(time.Minute), Seq: "S1"}
	cases := []struct {
		outcome Outcome
		res     result
	}{
		{OutcomeLink, result{report: report}},
		{OutcomeHelp, result{help: true}},
		{OutcomeBadInput, result{err: &InputError{Problem: NotOneWord}}},
		{OutcomeBadInput, result{err: &InputError{Problem: NotDigits}}},
		{OutcomeBadInput, result{err: &InputError{Problem: WrongLength, Digits: 3}}},
		{OutcomeBadInput, result{err: &InputError{Problem: NoRecordData}}},
		{OutcomeBadInput, result{err: &WrongCommandError{Got: "/x", Want: "/tempreport"}}},
		{OutcomeDenied, result{err: errDenied}},
		{OutcomeUnconfirmed, result{err: errUnconfirmed}},
		{OutcomeLimited, result{err: &limitError{retryAfter: 20 * time.Second}}},
		{OutcomeBusy, result{err: &yibeidiao.RateLimitError{RetryAfter: 1500 * time.Millisecond}}},
		{OutcomeRefused, result{err: &yibeidiao.APIError{Code: "1002", Message: "背调未在进行中", HTTPStatus: 200}}},
		{OutcomeMisconfigured, result{err: &yibeidiao.APIError{Code: "901", HTTPStatus: 200}}},
		{OutcomeTransient, result{err: &yibeidiao.APIError{Code: "900", HTTPStatus: 200}}},
		{OutcomeTimeout, result{err: fmt.Errorf("%w: %w", errCommandTimeout, context.DeadlineExceeded)}},
		{OutcomeUnverifiable, result{err: yibeidiao.ErrBadResponseSignature}},
		{OutcomeBadResponse, result{err: yibeidiao.ErrBadResponse}},
		{OutcomeUntrusted, result{err: &yibeidiao.UntrustedLinkError{Host: "evil.example", Reason: "host not trusted"}}},
		{OutcomeRestarting, result{err: errRestarting}},
		{OutcomeRestarting, result{err: errShuttingDown}},
		{OutcomeUnreadable, result{err: ErrUnreadable}},
		{OutcomeInternal, result{err: errPanic}},
		{OutcomeInternal, result{err: errors.New("something nobody expected")}},
	}
	covered := map[Outcome]bool{OutcomeIgnored: true} // ignored envelopes get no answer
	english := regexp.MustCompile(`\b(the|you|your|please|record|link|vendor|bot)\b`)
	notOurs := regexp.MustCompile("`[^`]*`|https?://\\S+|[0-9]+|U0ASKER|背调未在进行中|易背调|Slack|ID")
	for _, lang := range Languages {
		b, err := New(nothing{}, Config{AppToken: "xapp-1", BotToken: "xoxb-1", Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]Outcome{}
		for _, tt := range cases {
			j := &job{kind: "command", user: "U0ASKER", recordNo: "20190415152645093983751"}
			msg, outcome, _ := b.render(j, tt.res)
			covered[outcome] = true
			if outcome != tt.outcome || msg == nil {
				t.Errorf("%s: %v renders as %s (message %v), want %s", lang, tt.res.err, outcome, msg != nil, tt.outcome)
				continue
			}
			// The words a person reads, without what is not ours to translate:
			// the command, record numbers, user IDs, the vendor's own message.
			words := notOurs.ReplaceAllString(msg.Text, "")
			switch lang {
			case "zh":
				if !strings.ContainsFunc(words, func(r rune) bool { return unicode.Is(unicode.Han, r) }) || english.MatchString(strings.ToLower(words)) {
					t.Errorf("zh %s is not Chinese: %q", outcome, msg.Text)
				}
			case "en":
				if strings.ContainsFunc(words, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					t.Errorf("en %s has Chinese in it: %q", outcome, msg.Text)
				}
			}
			if prev, ok := seen[msg.Text]; ok && prev != outcome {
				t.Errorf("%s: %s and %s say the same: %q", lang, prev, outcome, msg.Text)
			}
			seen[msg.Text] = outcome
		}
	}
	for _, o := range Outcomes {
		if !covered[o] {
			t.Errorf("outcome %s is not tested", o)
		}
	}
}

type nothing struct{}

func (nothing) GenerateTempReport(context.Context, string) (*yibeidiao.TempReport, error) {
	return nil, errors.New("not called")
}
