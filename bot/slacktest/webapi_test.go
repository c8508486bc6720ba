package slacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// post calls a method over HTTP with a JSON body and the token as a
// bearer ("" for none), and returns the HTTP status and the decoded answer.
func post(t *testing.T, s *Server, method, token string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.APIURL+method, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: answer %q: %v", req.URL.Path, raw, err)
	}
	return resp.StatusCode, got
}

// call is post with the bot token, wanting HTTP 200.
func call(t *testing.T, s *Server, method string, body any) map[string]any {
	t.Helper()
	status, got := post(t, s, method, s.BotToken, body)
	if status != http.StatusOK {
		t.Fatalf("%s: HTTP %d, want 200", method, status)
	}
	return got
}

// wantOK fails unless the answer is ok:true.
func wantOK(t *testing.T, method string, got map[string]any) {
	t.Helper()
	if got["ok"] != true {
		t.Fatalf("%s = %v, want ok", method, got)
	}
}

// wantError fails unless the answer is ok:false with the error code.
func wantError(t *testing.T, method string, got map[string]any, code string) {
	t.Helper()
	if got["ok"] != false || got["error"] != code {
		t.Errorf("%s = %v, want ok:false, error %q", method, got, code)
	}
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

func modal(blocks int) map[string]any {
	bs := make([]any, blocks)
	for i := range bs {
		bs[i] = map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": fmt.Sprint(i)}}
	}
	return map[string]any{"type": "modal", "title": map[string]any{"type": "plain_text", "text": "Report"},
		"callback_id": "report_form", "private_metadata": "C0FAKECHAN", "blocks": bs}
}

func viewOf(t *testing.T, got map[string]any) map[string]any {
	t.Helper()
	v, ok := got["view"].(map[string]any)
	if !ok {
		t.Fatalf("answer %v has no view", got)
	}
	return v
}

var methods = []string{"chat.postEphemeral", "chat.postMessage", "views.open", "views.update", "views.publish"}

func TestWebAPIRefusesWrongOrMissingToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, m := range methods {
		for _, token := range []string{"", "xoxb-wrong", s.AppToken} {
			status, got := post(t, s, m, token, map[string]any{"channel": "C1", "user": "U1", "text": "hi"})
			if status != http.StatusOK {
				t.Errorf("%s with token %q: HTTP %d, want 200", m, token, status)
			}
			wantError(t, m, got, "invalid_auth")
		}
	}
	if n := len(s.Calls("")); n != 3*len(methods) {
		t.Errorf("recorded %d calls, want %d, refused ones too", n, 3*len(methods))
	}
}

func TestChatMethodsAnswerLikeSlack(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	blocks := []any{map[string]any{"type": "section", "block_id": "b1", "text": map[string]any{"type": "mrkdwn", "text": "*hi*"}}}

	got := call(t, s, "chat.postEphemeral", map[string]any{"channel": "C1", "user": "U1", "thread_ts": "1.2", "text": "hi", "blocks": blocks})
	wantOK(t, "chat.postEphemeral", got)
	if ts, _ := got["message_ts"].(string); ts == "" {
		t.Errorf("chat.postEphemeral = %v, want a message_ts", got)
	}
	got = call(t, s, "chat.postMessage", map[string]any{"channel": "D1", "text": "hi"})
	wantOK(t, "chat.postMessage", got)
	if ts, _ := got["ts"].(string); got["channel"] != "D1" || ts == "" {
		t.Errorf("chat.postMessage = %v, want channel D1 and a ts", got)
	}

	wantError(t, "no text", call(t, s, "chat.postMessage", map[string]any{"channel": "D1"}), "no_text")
	wantError(t, "no channel", call(t, s, "chat.postEphemeral", map[string]any{"user": "U1", "text": "x"}), "channel_not_found")
	wantError(t, "no user", call(t, s, "chat.postEphemeral", map[string]any{"channel": "C1", "text": "x"}), "user_not_found")
	dup := append(slices.Clone(blocks), blocks[0])
	wantError(t, "duplicate block_id", call(t, s, "chat.postMessage", map[string]any{"channel": "C1", "blocks": dup}), "invalid_blocks")

	calls := s.Calls("chat.postEphemeral")
	if len(calls) != 3 {
		t.Fatalf("Calls(chat.postEphemeral) = %d calls, want 3", len(calls))
	}
	first := calls[0]
	if first.Body["user"] != "U1" || first.Body["thread_ts"] != "1.2" || first.Error != "" || !bytes.Contains(first.Raw, []byte(`"thread_ts":"1.2"`)) {
		t.Errorf("first call = %+v, want its body, raw body and no error", first)
	}
	if m := first.Message(); m.Text != "hi" || len(m.Blocks) != 1 || m.Blocks[0].Text.Text != "*hi*" {
		t.Errorf("first call's message = %+v", m)
	}
	if calls[2].Error != "user_not_found" {
		t.Errorf("third call's error = %q, want user_not_found", calls[2].Error)
	}
}

// slack-go sends chat.* as a form with the token in it, and views.* as
// JSON with a bearer token; the fake takes both.
func TestSlackGoClientIsUnderstood(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	api := slack.New(s.BotToken, slack.OptionAPIURL(s.APIURL))
	ts, err := api.PostEphemeralContext(t.Context(), "C1", "U1", slack.MsgOptionText("hi", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi*", false, false), nil, nil, slack.SectionBlockOptionBlockID("b1"))))
	if err != nil || ts == "" {
		t.Fatalf("PostEphemeral = %q, %v", ts, err)
	}
	c := s.Calls("chat.postEphemeral")[0]
	if m := c.Message(); m.Text != "hi" || len(m.Blocks) != 1 || m.Blocks[0].BlockID != "b1" {
		t.Errorf("form call's message = %+v, want text and decoded blocks", m)
	}

	trigger := s.mintTrigger("U1")
	resp, err := api.OpenViewContext(t.Context(), trigger, slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Report", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}, CallbackID: "report_form",
	})
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	if resp.ID == "" || resp.Hash == "" || resp.CallbackID != "report_form" || resp.TeamID != s.TeamID {
		t.Errorf("OpenView = %+v", resp.View)
	}
	_, err = api.OpenViewContext(t.Context(), trigger, slack.ModalViewRequest{Type: slack.VTModal,
		Title:  slack.NewTextBlockObject("plain_text", "Report", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}})
	if err == nil || !strings.Contains(err.Error(), "exchanged_trigger_id") {
		t.Errorf("second OpenView with one trigger: %v, want exchanged_trigger_id", err)
	}

	s.FailMethod("views.publish", "ratelimited")
	_, err = api.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab}})
	var limited *slack.RateLimitedError
	if !errors.As(err, &limited) {
		t.Errorf("PublishView while rate limited: %v, want a RateLimitedError", err)
	}
}

func TestViewsOpenTakesATriggerOnce(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	trigger := s.mintTrigger("U1")

	got := call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": modal(2)})
	wantOK(t, "views.open", got)
	v := viewOf(t, got)
	id, _ := v["id"].(string)
	if !strings.HasPrefix(id, "V") || v["hash"] == "" || v["callback_id"] != "report_form" || v["private_metadata"] != "C0FAKECHAN" || v["type"] != "modal" {
		t.Errorf("views.open view = %v", v)
	}
	for _, b := range v["blocks"].([]any) {
		if b.(map[string]any)["block_id"] == nil {
			t.Errorf("block %v has no block_id; Slack gives every block one", b)
		}
	}
	if got, ok := s.OpenedViewID(trigger); !ok || got != id {
		t.Errorf("OpenedViewID = %q, %v, want %q", got, ok, id)
	}
	if got, ok := s.LastOpenedViewID("U1"); !ok || got != id {
		t.Errorf("LastOpenedViewID(U1) = %q, %v, want %q", got, ok, id)
	}
	if got, err := s.WaitOpenedView(t.Context(), trigger); err != nil || got != id {
		t.Errorf("WaitOpenedView = %q, %v, want %q", got, err, id)
	}
	if calls := s.Calls("views.open"); len(calls) != 1 || calls[0].ViewID() != id {
		t.Errorf("Calls(views.open) = %v, want one answered with %s", calls, id)
	}

	wantError(t, "views.open again", call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": modal(2)}), "exchanged_trigger_id")
	wantError(t, "views.open unknown", call(t, s, "views.open", map[string]any{"trigger_id": "12345.98765.abcd", "view": modal(2)}), "invalid_trigger_id")
	old := s.mintTrigger("U1")
	s.ExpireTrigger(old)
	wantError(t, "views.open expired", call(t, s, "views.open", map[string]any{"trigger_id": old, "view": modal(2)}), "expired_trigger_id")
	if _, ok := s.OpenedViewID("12345.98765.abcd"); ok {
		t.Error("OpenedViewID of an unknown trigger: found")
	}
}

func TestViewsOpenRefusesViewsSlackRefuses(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	long := modal(1)
	long["title"] = map[string]any{"type": "plain_text", "text": strings.Repeat("x", 25)}
	input := modal(0)
	input["blocks"] = []any{map[string]any{"type": "input", "block_id": "no", "label": map[string]any{"type": "plain_text", "text": "No"},
		"element": map[string]any{"type": "plain_text_input", "action_id": "value"}}}
	metadata := modal(1)
	metadata["private_metadata"] = strings.Repeat("m", 3001)
	home := modal(1)
	home["type"] = "home"
	dup := modal(0)
	dup["blocks"] = []any{map[string]any{"type": "divider", "block_id": "a"}, map[string]any{"type": "divider", "block_id": "a"}}
	for _, tt := range []struct {
		name string
		view any
	}{
		{"101 blocks", modal(101)},
		{"a 25-character title", long},
		{"input without submit", input},
		{"3,001 characters of metadata", metadata},
		{"a home view", home},
		{"a duplicate block_id", dup},
		{"no view", nil},
	} {
		trigger := s.mintTrigger("U1")
		got := call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": tt.view})
		wantError(t, "views.open with "+tt.name, got, "invalid_arguments")
		if md, _ := got["response_metadata"].(map[string]any); md == nil || len(md["messages"].([]any)) == 0 {
			t.Errorf("views.open with %s: %v, want response_metadata.messages", tt.name, got)
		}
		// A refused view leaves the trigger unused.
		wantOK(t, "views.open after "+tt.name, call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": modal(maxViewBlocks)}))
	}
}

func TestViewsUpdateChecksIDAndHash(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	opened := viewOf(t, call(t, s, "views.open", map[string]any{"trigger_id": s.mintTrigger("U1"), "view": modal(1)}))
	id, hash := opened["id"].(string), opened["hash"].(string)

	wantError(t, "views.update unknown id", call(t, s, "views.update", map[string]any{"view_id": "V0NOSUCH", "view": modal(1)}), "not_found")
	wantError(t, "views.update stale hash", call(t, s, "views.update", map[string]any{"view_id": id, "hash": "1.stale", "view": modal(1)}), "hash_conflict")
	wantError(t, "views.update 101 blocks", call(t, s, "views.update", map[string]any{"view_id": id, "hash": hash, "view": modal(101)}), "invalid_arguments")

	next := modal(3)
	next["private_metadata"] = "second"
	got := call(t, s, "views.update", map[string]any{"view_id": id, "hash": hash, "view": next})
	wantOK(t, "views.update", got)
	v := viewOf(t, got)
	if v["id"] != id || v["hash"] == hash || v["private_metadata"] != "second" {
		t.Errorf("views.update view = %v, want id %s, a new hash, the new metadata", v, id)
	}
	wantError(t, "views.update with the first hash", call(t, s, "views.update", map[string]any{"view_id": id, "hash": hash, "view": modal(1)}), "hash_conflict")

	third := viewOf(t, call(t, s, "views.update", map[string]any{"view_id": id, "view": modal(2)}))
	if third["hash"] == v["hash"] || third["hash"] == hash {
		t.Errorf("views.update without a hash: hash %v, want a new one", third["hash"])
	}
	raw, ok := s.View(id)
	var state map[string]any
	if !ok || json.Unmarshal(raw, &state) != nil || state["hash"] != third["hash"] || len(state["blocks"].([]any)) != 2 {
		t.Errorf("View(%s) = %s, %v, want the last update", id, raw, ok)
	}
	if _, ok := s.View("V0NOSUCH"); ok {
		t.Error("View of an unknown id: found")
	}
}

func TestViewsPublishKeepsOneHomePerUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	home := map[string]any{"type": "home", "private_metadata": "p1", "blocks": []any{map[string]any{"type": "divider"}}}
	first := viewOf(t, call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": home}))
	if first["type"] != "home" || first["id"] == "" {
		t.Fatalf("views.publish view = %v", first)
	}
	home["private_metadata"] = "p2"
	second := viewOf(t, call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": home}))
	if second["id"] != first["id"] || second["hash"] == first["hash"] {
		t.Errorf("second publish = %v, want the same id %v and a new hash", second, first["id"])
	}
	raw, ok := s.HomeView("U1")
	if !ok || !bytes.Contains(raw, []byte(`"private_metadata":"p2"`)) {
		t.Errorf("HomeView(U1) = %s, %v, want the second publish", raw, ok)
	}
	if _, ok := s.HomeView("U2"); ok {
		t.Error("HomeView(U2) found, want none published")
	}
	wantError(t, "views.publish stale hash", call(t, s, "views.publish", map[string]any{"user_id": "U1", "hash": first["hash"], "view": home}), "hash_conflict")
	wantError(t, "views.publish a modal", call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": modal(1)}), "invalid_arguments")
	big := map[string]any{"type": "home", "blocks": modal(101)["blocks"]}
	wantError(t, "views.publish 101 blocks", call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": big}), "invalid_arguments")
	wantError(t, "views.publish no user", call(t, s, "views.publish", map[string]any{"view": home}), "invalid_arguments")
}

func TestFailMethod(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	home := map[string]any{"type": "home", "blocks": []any{}}
	s.FailMethod("views.publish", "not_enabled")
	s.FailMethod("chat.postEphemeral", "missing_scope")
	for range 2 {
		wantError(t, "views.publish", call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": home}), "not_enabled")
	}
	wantError(t, "chat.postEphemeral", call(t, s, "chat.postEphemeral", map[string]any{"channel": "C1", "user": "U1", "text": "x"}), "missing_scope")
	wantOK(t, "chat.postMessage", call(t, s, "chat.postMessage", map[string]any{"channel": "C1", "text": "x"}))
	if _, ok := s.HomeView("U1"); ok {
		t.Error("a failed publish published")
	}

	s.ClearFailure("views.publish")
	wantOK(t, "views.publish after ClearFailure", call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": home}))
	wantError(t, "chat.postEphemeral still", call(t, s, "chat.postEphemeral", map[string]any{"channel": "C1", "user": "U1", "text": "x"}), "missing_scope")

	s.FailMethodTimes("chat.postMessage", "internal_error", 1)
	wantError(t, "chat.postMessage once", call(t, s, "chat.postMessage", map[string]any{"channel": "C1", "text": "x"}), "internal_error")
	wantOK(t, "chat.postMessage twice", call(t, s, "chat.postMessage", map[string]any{"channel": "C1", "text": "x"}))

	s.FailMethod("views.open", "ratelimited")
	status, got := post(t, s, "views.open", s.BotToken, map[string]any{"trigger_id": s.mintTrigger("U1"), "view": modal(1)})
	if status != http.StatusTooManyRequests {
		t.Errorf("rate limited views.open: HTTP %d, want 429", status)
	}
	wantError(t, "views.open", got, "ratelimited")
	// A wrong token is refused as such, failure switch or not.
	_, got = post(t, s, "views.publish", "xoxb-wrong", map[string]any{"user_id": "U1", "view": home})
	wantError(t, "views.publish with a wrong token", got, "invalid_auth")
}

func TestCallsAreRecordedBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	done := make(chan []APICall, 1)
	go func() {
		calls, err := s.WaitCalls(t.Context(), "chat.postMessage", 2)
		if err != nil {
			t.Error(err)
		}
		done <- calls
	}()
	for i := range 2 {
		call(t, s, "chat.postMessage", map[string]any{"channel": "C1", "text": fmt.Sprint(i)})
		// The answer has come: the call is already recorded.
		if n := len(s.Calls("chat.postMessage")); n != i+1 {
			t.Errorf("after answer %d, %d calls recorded", i+1, n)
		}
	}
	calls := <-done
	if len(calls) != 2 || calls[0].Body["text"] != "0" || calls[1].Body["text"] != "1" || calls[1].At.Before(calls[0].At) {
		t.Errorf("WaitCalls = %+v, want both calls in order", calls)
	}
	if all := s.Calls(""); len(all) != 2 {
		t.Errorf("Calls(\"\") = %d calls, want 2", len(all))
	}

	// A waiter gives up with its context, saying how far it got.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got, err := s.WaitCalls(ctx, "chat.postMessage", 3); err == nil || len(got) != 2 {
		t.Errorf("WaitCalls(3) with a cancelled context = %d calls, %v", len(got), err)
	}
}

// A form-encoded call with the token in the form, as slack-go sends chat.*.
func TestFormBodyWithToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	form := url.Values{"token": {s.BotToken}, "channel": {"C1"}, "user": {"U1"}, "text": {"hi"},
		"blocks": {`[{"type":"divider","block_id":"d"}]`}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.APIURL+"chat.postEphemeral", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, got := do(t, req)
	wantOK(t, "chat.postEphemeral", got)
	c := s.Calls("chat.postEphemeral")[0]
	if blocks, _ := c.Body["blocks"].([]any); len(blocks) != 1 {
		t.Errorf("form body = %v, want blocks decoded", c.Body)
	}
	form.Set("token", "xoxb-wrong")
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.APIURL+"chat.postEphemeral", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, got = do(t, req)
	wantError(t, "chat.postEphemeral with a wrong form token", got, "invalid_auth")
}
