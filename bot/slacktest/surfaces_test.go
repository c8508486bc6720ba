package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// app is a bare Socket Mode client standing in for the bot: it opens a
// socket, reads envelopes and acks them.
type app struct {
	t  *testing.T
	ws *websocket.Conn
}

// received is an envelope as the app read it.
type received struct {
	EnvelopeID string         `json:"envelope_id"`
	Type       string         `json:"type"`
	Payload    map[string]any `json:"payload"`
}

func connect(t *testing.T, s *Server) *app {
	t.Helper()
	_, got := post(t, s, "apps.connections.open", s.AppToken, nil)
	u, _ := got["url"].(string)
	if !strings.HasPrefix(u, "ws://127.0.0.1:") {
		t.Fatalf("apps.connections.open = %v, want a loopback URL", got)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	var hello struct{ Type string }
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("first frame %+v, %v, want hello", hello, err)
	}
	return &app{t: t, ws: ws}
}

// next reads the next envelope.
func (a *app) next() received {
	a.t.Helper()
	var r received
	if err := a.ws.ReadJSON(&r); err != nil {
		a.t.Fatal(err)
	}
	return r
}

func (a *app) ack(r received, payload any) {
	a.t.Helper()
	if err := a.ws.WriteJSON(map[string]any{"envelope_id": r.EnvelopeID, "payload": payload}); err != nil {
		a.t.Fatal(err)
	}
}

// obj is m[key] when it is an object.
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// wantNoResponseURL fails if an envelope or its payload has a response URL
// or a channel.
func wantNoResponseURL(t *testing.T, e *Envelope, r received) {
	t.Helper()
	if e.ResponseURL != "" {
		t.Errorf("%s: envelope's ResponseURL %q, want none", r.Payload["type"], e.ResponseURL)
	}
	for _, k := range []string{"response_url", "channel"} {
		if _, ok := r.Payload[k]; ok {
			t.Errorf("%s payload has %s: %v", r.Payload["type"], k, r.Payload[k])
		}
	}
}

func TestGlobalShortcutCarriesATriggerViewsOpenTakesOnce(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	e, err := s.SendGlobalShortcut(t.Context(), GlobalShortcut{UserID: "U1", CallbackID: "new_report"})
	if err != nil {
		t.Fatal(err)
	}
	r := bot.next()
	p := r.Payload
	if r.EnvelopeID != e.ID || r.Type != "interactive" || p["type"] != "shortcut" || p["callback_id"] != "new_report" ||
		obj(p, "user")["id"] != "U1" || obj(p, "team")["id"] != s.TeamID || p["api_app_id"] != "A0FAKEAPP" || p["token"] == nil {
		t.Errorf("shortcut envelope = %+v", r)
	}
	wantNoResponseURL(t, e, r)
	trigger := e.TriggerID()
	if trigger == "" || p["trigger_id"] != trigger {
		t.Fatalf("trigger_id %v, Envelope.TriggerID %q", p["trigger_id"], trigger)
	}
	bot.ack(r, nil)
	if _, err := e.WaitAck(t.Context()); err != nil {
		t.Fatal(err)
	}

	wantOK(t, "views.open", call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": modal(1)}))
	wantError(t, "views.open again", call(t, s, "views.open", map[string]any{"trigger_id": trigger, "view": modal(1)}), "exchanged_trigger_id")

	// Nothing can be posted to a response URL it does not have.
	resp, err := http.Post(strings.TrimSuffix(s.APIURL, "api/")+"response/"+e.ID, "application/json", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(e.Posts()) != 0 {
		t.Errorf("post to the shortcut's would-be response URL: HTTP %d, %d posts", resp.StatusCode, len(e.Posts()))
	}
}

// openModal opens a view for user as the bot would, after a global
// shortcut, and returns its id.
func openModal(t *testing.T, s *Server, bot *app, user string, view map[string]any) string {
	t.Helper()
	e, err := s.SendGlobalShortcut(t.Context(), GlobalShortcut{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	bot.ack(bot.next(), nil)
	wantOK(t, "views.open", call(t, s, "views.open", map[string]any{"trigger_id": e.TriggerID(), "view": view}))
	id, err := s.WaitOpenedView(t.Context(), e.TriggerID())
	if err != nil {
		t.Fatal(err)
	}
	if last, ok := s.LastOpenedViewID(user); !ok || last != id {
		t.Errorf("LastOpenedViewID(%s) = %q, %v, want %q", user, last, ok, id)
	}
	return id
}

func TestViewSubmissionCarriesTheViewAndItsValues(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	form := modal(0)
	form["submit"] = map[string]any{"type": "plain_text", "text": "Get"}
	form["blocks"] = []any{map[string]any{"type": "input", "block_id": "record", "label": map[string]any{"type": "plain_text", "text": "Record"},
		"element": map[string]any{"type": "plain_text_input", "action_id": "number"}}}
	id := openModal(t, s, bot, "U1", form)
	raw, _ := s.View(id)
	var opened map[string]any
	if err := json.Unmarshal(raw, &opened); err != nil {
		t.Fatal(err)
	}

	e, err := s.SendViewSubmission(t.Context(), ViewSubmission{UserID: "U1", ViewID: id,
		Values: map[string]map[string]string{"record": {"number": "20190415152645"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := bot.next()
	p, v := r.Payload, obj(r.Payload, "view")
	if p["type"] != "view_submission" || obj(p, "user")["id"] != "U1" || p["trigger_id"] != e.TriggerID() || e.TriggerID() == "" {
		t.Errorf("view_submission payload = %v", p)
	}
	if v["id"] != id || v["hash"] != opened["hash"] || v["callback_id"] != "report_form" || v["type"] != "modal" || v["private_metadata"] != "C0FAKECHAN" {
		t.Errorf("view_submission view = %v, want the opened view %v", v, opened)
	}
	value := obj(obj(obj(obj(v, "state"), "values"), "record"), "number")
	if value["type"] != "plain_text_input" || value["value"] != "20190415152645" {
		t.Errorf("view.state.values.record.number = %v", value)
	}
	wantNoResponseURL(t, e, r)

	// An ack that updates the view replaces it, with a new hash, by the
	// time the ack is recorded.
	next := modal(2)
	next["private_metadata"] = "done"
	bot.ack(r, map[string]any{"response_action": "update", "view": next})
	ack, err := e.WaitAck(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ack.ViewResponse(); got.ResponseAction != "update" || len(got.View) == 0 {
		t.Errorf("ack.ViewResponse() = %+v", got)
	}
	raw, _ = s.View(id)
	var updated map[string]any
	if err := json.Unmarshal(raw, &updated); err != nil {
		t.Fatal(err)
	}
	if updated["private_metadata"] != "done" || updated["hash"] == opened["hash"] || updated["id"] != id {
		t.Errorf("view after an update ack = %v", updated)
	}

	// An ack with errors leaves the view as it was.
	e, err = s.SendViewSubmission(t.Context(), ViewSubmission{UserID: "U1", ViewID: id, CallbackID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	r = bot.next()
	if cb := obj(r.Payload, "view")["callback_id"]; cb != "other" {
		t.Errorf("callback_id = %v, want the one given", cb)
	}
	bot.ack(r, map[string]any{"response_action": "errors", "errors": map[string]string{"record": "Not a record number"}})
	ack, err = e.WaitAck(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ack.ViewResponse(); got.ResponseAction != "errors" || got.Errors["record"] != "Not a record number" {
		t.Errorf("ack.ViewResponse() = %+v", got)
	}
	if again, _ := s.View(id); string(again) != string(raw) {
		t.Errorf("view after an errors ack = %s, want unchanged %s", again, raw)
	}

	if _, err := s.SendViewSubmission(t.Context(), ViewSubmission{UserID: "U1", ViewID: "V0NOSUCH"}); err == nil {
		t.Error("SendViewSubmission of a view never opened: no error")
	}
}

func TestClickInViewComesFromTheView(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	home := map[string]any{"type": "home", "callback_id": "home", "blocks": []any{map[string]any{"type": "actions", "block_id": "a",
		"elements": []any{map[string]any{"type": "button", "action_id": "new", "text": map[string]any{"type": "plain_text", "text": "New"}}}}}}
	homeID := viewOf(t, call(t, s, "views.publish", map[string]any{"user_id": "U1", "view": home}))["id"].(string)
	modalID := openModal(t, s, bot, "U1", modal(1))

	for _, tt := range []struct{ id, typ string }{{homeID, "home"}, {modalID, "modal"}} {
		e, err := s.SendClickInView(t.Context(), ViewClick{UserID: "U1", ViewID: tt.id, ActionID: "new", BlockID: "a", Value: "v"})
		if err != nil {
			t.Fatal(err)
		}
		r := bot.next()
		p := r.Payload
		action, _ := p["actions"].([]any)
		if p["type"] != "block_actions" || len(action) != 1 || action[0].(map[string]any)["action_id"] != "new" || action[0].(map[string]any)["value"] != "v" {
			t.Errorf("click in %s = %v", tt.typ, p)
		}
		if c := obj(p, "container"); c["type"] != "view" || c["view_id"] != tt.id {
			t.Errorf("click in %s: container %v", tt.typ, c)
		}
		raw, _ := s.View(tt.id)
		var state map[string]any
		_ = json.Unmarshal(raw, &state)
		if v := obj(p, "view"); v["id"] != tt.id || v["type"] != tt.typ || v["hash"] != state["hash"] || v["callback_id"] != state["callback_id"] {
			t.Errorf("click in %s: view %v", tt.typ, v)
		}
		wantNoResponseURL(t, e, r)
		bot.ack(r, nil)
		// Its trigger is fresh: it can open a modal.
		wantOK(t, "views.open from a click in "+tt.typ, call(t, s, "views.open", map[string]any{"trigger_id": e.TriggerID(), "view": modal(1)}))
	}
	if _, err := s.SendClickInView(t.Context(), ViewClick{UserID: "U1", ViewID: "V0NOSUCH"}); err == nil {
		t.Error("SendClickInView of an unknown view: no error")
	}
}

func TestEventsCarryTheirEventID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	event := map[string]any{"type": "app_mention", "user": "U1", "text": "<@U0FAKEBOT> hi", "channel": "C1", "ts": "1.1", "event_ts": "1.1"}
	var envs []received
	for range 2 {
		e, err := s.SendEventOf(t.Context(), event, "Ev0RETRIED")
		if err != nil {
			t.Fatal(err)
		}
		if e.ResponseURL != "" {
			t.Errorf("event envelope's ResponseURL %q, want none", e.ResponseURL)
		}
		envs = append(envs, bot.next())
	}
	if envs[0].EnvelopeID == envs[1].EnvelopeID {
		t.Error("a retried event came in the same envelope")
	}
	for _, r := range envs {
		if r.Type != "events_api" || r.Payload["type"] != "event_callback" || r.Payload["event_id"] != "Ev0RETRIED" || obj(r.Payload, "event")["text"] != "<@U0FAKEBOT> hi" {
			t.Errorf("event envelope = %+v", r)
		}
	}
	if _, err := s.SendEvent(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := bot.next(); obj(r.Payload, "event")["type"] != "app_mention" {
		t.Errorf("SendEvent = %+v, want an app_mention", r)
	}
}

func TestMentionDirectMessageAndHomeOpened(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	event := func(send func() (*Envelope, error)) map[string]any {
		t.Helper()
		e, err := send()
		if err != nil {
			t.Fatal(err)
		}
		r := bot.next()
		if r.Type != "events_api" || e.ResponseURL != "" || r.Payload["event_id"] == "" {
			t.Errorf("envelope %+v", r)
		}
		return obj(r.Payload, "event")
	}

	ev := event(func() (*Envelope, error) {
		return s.SendMention(t.Context(), Mention{UserID: "U1", Text: "<@U0FAKEBOT> 123", ThreadTS: "1700000000.000001"})
	})
	if ev["type"] != "app_mention" || ev["user"] != "U1" || ev["text"] != "<@U0FAKEBOT> 123" || ev["channel"] != "C0FAKECHAN" ||
		ev["thread_ts"] != "1700000000.000001" || ev["ts"] == nil || ev["event_ts"] != ev["ts"] {
		t.Errorf("mention = %v", ev)
	}
	if ev := event(func() (*Envelope, error) { return s.SendMention(t.Context(), Mention{UserID: "U1"}) }); ev["thread_ts"] != nil {
		t.Errorf("mention outside a thread has thread_ts %v", ev["thread_ts"])
	}

	ev = event(func() (*Envelope, error) {
		return s.SendDirectMessage(t.Context(), DirectMessage{UserID: "U1", Text: "123"})
	})
	if ev["type"] != "message" || ev["channel_type"] != "im" || ev["channel"] != "D0FAKEDM" || ev["user"] != "U1" || ev["text"] != "123" {
		t.Errorf("direct message = %v", ev)
	}
	for _, k := range []string{"bot_id", "subtype"} {
		if _, ok := ev[k]; ok {
			t.Errorf("a person's direct message has %s", k)
		}
	}
	ev = event(func() (*Envelope, error) {
		return s.SendDirectMessage(t.Context(), DirectMessage{ChannelID: "D2", BotID: "B0FAKEBOT", Subtype: "bot_message", Text: "x"})
	})
	if ev["bot_id"] != "B0FAKEBOT" || ev["subtype"] != "bot_message" || ev["channel"] != "D2" {
		t.Errorf("bot's direct message = %v", ev)
	}

	ev = event(func() (*Envelope, error) { return s.SendHomeOpened(t.Context(), HomeOpened{UserID: "U1"}) })
	if _, ok := ev["view"]; ev["type"] != "app_home_opened" || ev["user"] != "U1" || ev["tab"] != "home" || ok {
		t.Errorf("first home opened = %v", ev)
	}
	ev = event(func() (*Envelope, error) {
		return s.SendHomeOpened(t.Context(), HomeOpened{UserID: "U2", Tab: "messages", ViewPrivateMetadata: "v1"})
	})
	if v := obj(ev, "view"); ev["tab"] != "messages" || v["type"] != "home" || v["private_metadata"] != "v1" || v["id"] == nil {
		t.Errorf("home opened with metadata = %v", ev)
	}
	published := viewOf(t, call(t, s, "views.publish", map[string]any{"user_id": "U1",
		"view": map[string]any{"type": "home", "private_metadata": "p", "blocks": []any{}}}))
	ev = event(func() (*Envelope, error) {
		return s.SendHomeOpened(t.Context(), HomeOpened{UserID: "U1", EventID: "Ev1"})
	})
	if v := obj(ev, "view"); v["id"] != published["id"] || v["hash"] != published["hash"] || v["private_metadata"] != "p" {
		t.Errorf("home opened after a publish: view %v, want the published one %v", v, published)
	}
}

// A message shortcut or a button in a message can open a modal too.
func TestMessageShortcutAndClickCarryFreshTriggers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := connect(t, s)
	sc, err := s.SendShortcut(t.Context(), Shortcut{UserID: "U1", Text: "123"})
	if err != nil {
		t.Fatal(err)
	}
	bot.ack(bot.next(), nil)
	click, err := s.SendClick(t.Context(), Click{UserID: "U2", ActionID: "again"})
	if err != nil {
		t.Fatal(err)
	}
	bot.ack(bot.next(), nil)
	if sc.TriggerID() == click.TriggerID() {
		t.Errorf("shortcut and click share trigger %q", sc.TriggerID())
	}
	for _, e := range []*Envelope{sc, click} {
		wantOK(t, "views.open", call(t, s, "views.open", map[string]any{"trigger_id": e.TriggerID(), "view": modal(1)}))
		wantError(t, "views.open again", call(t, s, "views.open", map[string]any{"trigger_id": e.TriggerID(), "view": modal(1)}), "exchanged_trigger_id")
	}
	if id, ok := s.LastOpenedViewID("U2"); !ok || id != s.Calls("views.open")[2].ViewID() {
		t.Errorf("LastOpenedViewID(U2) = %q, %v, want the view the click's trigger opened", id, ok)
	}
}
