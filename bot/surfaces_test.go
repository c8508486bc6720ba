package bot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
)

// viewMessage reads a view's blocks the way a message's are read.
func viewMessage(t *testing.T, view json.RawMessage) slacktest.Message {
	t.Helper()
	var m slacktest.Message
	if err := json.Unmarshal(view, &m); err != nil {
		t.Fatalf("view %s: %v", view, err)
	}
	return m
}

// viewOf reads the view a views.* call carried.
func viewOf(t *testing.T, c slacktest.APICall) slacktest.Message {
	t.Helper()
	raw, err := json.Marshal(c.Body["view"])
	if err != nil {
		t.Fatal(err)
	}
	return viewMessage(t, raw)
}

// TestTheForm: the global shortcut opens a form with one input; a record
// pasted as people paste it is fetched and its link shown in the form,
// only to the person, with the expiry and a fresh-link button that brings
// a new link; what names no record shows under the input with no vendor
// call; a stranger is told in the form who to ask, and never reaches the
// vendor. In both languages.
func TestTheForm(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ lang, getting, link, notListed, noRecord string }{
		{"en", "Getting the temporary report", "expires in 1 minute", "Ask", "only the digits"},
		{"zh", "正在获取", "1 分钟后失效", "请联系", "背调号"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) {
				s.cfg.Language = tt.lang
				s.cfg.Contact = bot.Contact{User: "U0HRADMIN"}
			})
			ctx := h.ctx()
			open := func(user string) (string, slacktest.Message) {
				t.Helper()
				env, err := h.slack.SendGlobalShortcut(ctx, slacktest.GlobalShortcut{UserID: user, CallbackID: bot.FormCallbackID})
				if err != nil {
					t.Fatal(err)
				}
				id, err := h.slack.WaitOpenedView(ctx, env.TriggerID())
				if err != nil {
					t.Fatalf("no views.open: %v\n%s", err, h.logs)
				}
				view, _ := h.slack.View(id)
				return id, viewMessage(t, view)
			}
			id, _ := open(allowedUser)
			if view, _ := h.slack.View(id); !strings.Contains(string(view), `"plain_text_input"`) {
				t.Fatalf("the form = %s, want an input", view)
			}
			sub, err := h.slack.SendViewSubmission(ctx, slacktest.ViewSubmission{UserID: allowedUser, ViewID: id, CallbackID: bot.FormCallbackID,
				Values: map[string]map[string]string{"record": {"record": "背调号：" + readyRecord}}})
			if err != nil {
				t.Fatal(err)
			}
			ack, err := sub.WaitAck(ctx)
			if r := ack.ViewResponse(); err != nil || r.ResponseAction != "update" || !strings.Contains(string(r.View), tt.getting) {
				t.Fatalf("the submission's ack = %s, %v; want the form to say it is getting the report", ack.Payload, err)
			}
			updates, err := h.slack.WaitCalls(ctx, "views.update", 1)
			if err != nil {
				t.Fatalf("no views.update: %v\n%s", err, h.logs)
			}
			answer := viewOf(t, updates[0])
			if !strings.Contains(answer.Raw(), "/survey-result/") || !strings.Contains(answer.Raw(), tt.link) || len(answer.Buttons()) != 1 {
				t.Fatalf("the form's answer = %s, want the link, its expiry and a fresh-link button", answer.Raw())
			}
			if updates[0].Body["view_id"] != id || updates[0].Body["hash"] != nil || updates[0].Error != "" {
				t.Errorf("views.update = %v (error %q), want view %s and no hash", updates[0].Body, updates[0].Error, id)
			}
			btn := answer.Buttons()[0]
			if _, err := h.slack.SendClickInView(ctx, slacktest.ViewClick{UserID: allowedUser, ViewID: id, ActionID: btn.ActionID, BlockID: "fresh_link", Value: btn.Value}); err != nil {
				t.Fatal(err)
			}
			if updates, err := h.slack.WaitCalls(ctx, "views.update", 2); err != nil || !strings.Contains(viewOf(t, updates[1]).Raw(), "/survey-result/") {
				t.Fatalf("a fresh link in the form: %v", err)
			}
			if n := len(h.vendor.Calls()); n != 2 {
				t.Errorf("%d vendor calls, want 2", n)
			}
			for _, c := range h.slack.Calls("") {
				if c.Method != "views.update" && strings.Contains(string(c.Raw), "/survey-result/") {
					t.Errorf("the link left the form: %s", c.Method)
				}
			}

			// No record: under the input, no vendor call.
			id2, _ := open(allowedUser)
			sub, err = h.slack.SendViewSubmission(ctx, slacktest.ViewSubmission{UserID: allowedUser, ViewID: id2, CallbackID: bot.FormCallbackID,
				Values: map[string]map[string]string{"record": {"record": "hello"}}})
			if err != nil {
				t.Fatal(err)
			}
			ack, err = sub.WaitAck(ctx)
			if r := ack.ViewResponse(); err != nil || r.ResponseAction != "errors" || !strings.Contains(r.Errors["record"], tt.noRecord) {
				t.Errorf("\"hello\" submitted: %s, %v; want an error under the input", ack.Payload, err)
			}

			// Several records: the form offers them, and a pick brings its link.
			id3, _ := open(allowedUser)
			sub, err = h.slack.SendViewSubmission(ctx, slacktest.ViewSubmission{UserID: allowedUser, ViewID: id3, CallbackID: bot.FormCallbackID,
				Values: map[string]map[string]string{"record": {"record": readyRecord + " " + notInProgress}}})
			if err != nil {
				t.Fatal(err)
			}
			ack, err = sub.WaitAck(ctx)
			offer := viewMessage(t, ack.ViewResponse().View)
			if err != nil || ack.ViewResponse().ResponseAction != "update" || len(offer.Buttons()) != 2 {
				t.Fatalf("two records submitted: %s, %v; want the form to offer both", ack.Payload, err)
			}
			updates = h.slack.Calls("views.update")
			pick := offer.Buttons()[0]
			if _, err := h.slack.SendClickInView(ctx, slacktest.ViewClick{UserID: allowedUser, ViewID: id3, ActionID: pick.ActionID, BlockID: "records", Value: pick.Value}); err != nil {
				t.Fatal(err)
			}
			if got, err := h.slack.WaitCalls(ctx, "views.update", len(updates)+1); err != nil || !strings.Contains(viewOf(t, got[len(updates)]).Raw(), "/survey-result/") {
				t.Fatalf("a record picked in the form: %v", err)
			}

			// A stranger is told who to ask, in the form.
			_, denied := open(stranger)
			if raw := denied.Raw(); !strings.Contains(raw, tt.notListed) || !strings.Contains(raw, stranger) {
				t.Errorf("a stranger's form = %s, want who to ask", raw)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if n := len(h.vendor.Calls()); n != 3 {
				t.Errorf("%d vendor calls after the refusals, want 3 (two links and the pick)", n)
			}
		})
	}
}

// TestTheAppHome: opening Home publishes, with no vendor call, a view that
// names the command and has a button opening the form; a stranger's says
// who to ask instead; twenty opens with nothing changed publish once.
func TestTheAppHome(t *testing.T) {
	t.Parallel()
	h := start(t)
	ctx := h.ctx()
	for range 20 {
		if _, err := h.slack.SendHomeOpened(ctx, slacktest.HomeOpened{UserID: allowedUser}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.slack.SendHomeOpened(ctx, slacktest.HomeOpened{UserID: stranger}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.slack.WaitCalls(ctx, "views.publish", 2); err != nil {
		t.Fatalf("views.publish: %v\n%s", err, h.logs)
	}
	mine, _ := h.slack.HomeView(allowedUser)
	theirs, _ := h.slack.HomeView(stranger)
	home := viewMessage(t, mine)
	if len(home.Blocks) > 100 || !strings.Contains(home.Raw(), "/tempreport") || !strings.Contains(string(mine), `"open_form"`) {
		t.Errorf("the Home = %s, want the command and a button", mine)
	}
	if strings.Contains(string(theirs), `"open_form"`) || !strings.Contains(viewMessage(t, theirs).Raw(), stranger) {
		t.Errorf("a stranger's Home = %s, want who to ask and no button", theirs)
	}
	id, ok := h.slack.HomeViewID(allowedUser)
	if !ok {
		t.Fatal("no Home view id")
	}
	env, err := h.slack.SendClickInView(ctx, slacktest.ViewClick{UserID: allowedUser, ViewID: id, ActionID: "open_form", BlockID: "home"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.slack.WaitOpenedView(ctx, env.TriggerID()); err != nil {
		t.Errorf("the Home's button opened no form: %v", err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.slack.Calls("views.publish")); n != 2 {
		t.Errorf("%d publishes for 20 opens by one person and one by another, want 2", n)
	}
	if n := len(h.vendor.Calls()); n != 0 {
		t.Errorf("the Home made %d vendor calls", n)
	}
}

// TestMentionsAndDirectMessages: a mention in a thread is answered, only
// to the person, in that thread, and says the channel saw the number; a
// stranger's mention and one without a record never reach the vendor; an
// event Slack sends again is served once; a DM is answered in the DM; bots'
// messages and edits are ignored.
func TestMentionsAndDirectMessages(t *testing.T) {
	t.Parallel()
	h := start(t)
	ctx := h.ctx()
	mention := slacktest.Mention{UserID: allowedUser, ChannelID: "C0HR", Text: "<@U0FAKEBOT> " + readyRecord, ThreadTS: "1700000000.000100", EventID: "Ev0MENTION"}
	for range 2 { // the second is Slack's retry: the same event_id, a new envelope
		if _, err := h.slack.SendMention(ctx, mention); err != nil {
			t.Fatal(err)
		}
	}
	posts, err := h.slack.WaitCalls(ctx, "chat.postEphemeral", 1)
	if err != nil {
		t.Fatalf("no ephemeral answer: %v\n%s", err, h.logs)
	}
	p := posts[0]
	if p.Body["channel"] != "C0HR" || p.Body["user"] != allowedUser || p.Body["thread_ts"] != mention.ThreadTS {
		t.Errorf("chat.postEphemeral %v, want the channel, the person and the thread", p.Body)
	}
	if raw := p.Message().Raw(); !strings.Contains(raw, "/survey-result/") || !strings.Contains(raw, "expires in 1 minute") || !strings.Contains(raw, "Get report by number") {
		t.Errorf("the mention's answer = %s, want the link, the expiry and the form named as the private way", raw)
	}
	for _, m := range []slacktest.Mention{
		{UserID: stranger, ChannelID: "C0HR", Text: "<@U0FAKEBOT> " + readyRecord, EventID: "Ev0STRANGER"},
		{UserID: allowedUser, ChannelID: "C0HR", Text: "<@U0FAKEBOT> hello", EventID: "Ev0NORECORD"},
	} {
		if _, err := h.slack.SendMention(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	dm := slacktest.DirectMessage{UserID: allowedUser, Text: readyRecord, EventID: "Ev0DM"}
	for _, ignored := range []slacktest.DirectMessage{
		{UserID: allowedUser, Text: readyRecord, BotID: "B0OTHER", EventID: "Ev0BOT"},
		{UserID: allowedUser, Text: readyRecord, Subtype: "message_changed", EventID: "Ev0EDIT"},
		dm,
	} {
		if _, err := h.slack.SendDirectMessage(ctx, ignored); err != nil {
			t.Fatal(err)
		}
	}
	direct, err := h.slack.WaitCalls(ctx, "chat.postMessage", 1)
	if err != nil || !strings.HasPrefix(fmt.Sprint(direct[0].Body["channel"]), "D") || !strings.Contains(direct[0].Message().Raw(), "/survey-result/") {
		t.Fatalf("the DM's answer: %v, %v", direct, err)
	}
	if _, err := h.slack.WaitCalls(ctx, "chat.postEphemeral", 3); err != nil {
		t.Fatalf("the refusals: %v", err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.vendor.Calls()); n != 2 {
		t.Errorf("%d vendor calls, want 2 (the mention, served once, and the DM)", n)
	}
	if n := len(h.slack.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want 1: bots' messages and edits are ignored", n)
	}
	if n := len(h.slack.Calls("chat.postEphemeral")); n != 3 {
		t.Errorf("%d ephemeral answers, want 3: the retried mention is served once", n)
	}
}

// TestAMissingScopeIsSaidOnce: when Slack refuses chat.postEphemeral for
// want of chat:write, the log says which scope, once.
func TestAMissingScopeIsSaidOnce(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.slack.FailMethod("chat.postEphemeral", "missing_scope")
	for i := range 3 {
		if _, err := h.slack.SendMention(h.ctx(), slacktest.Mention{UserID: allowedUser, ChannelID: "C0HR", Text: "help", EventID: fmt.Sprint("Ev", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.slack.WaitCalls(h.ctx(), "chat.postEphemeral", 3); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(h.logs.String(), "Slack refused a method the bot needs"); n != 1 || !strings.Contains(h.logs.String(), "chat:write") {
		t.Errorf("the missing scope was said %d times:\n%s", n, h.logs)
	}
}
