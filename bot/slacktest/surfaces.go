package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The surfaces beyond the slash command: a global shortcut and the modal
// it opens, buttons in views, the App Home, mentions and direct messages.
// None of these payloads has a response URL: their envelopes'
// ResponseURL is empty, and the bot answers through the Web API.

// GlobalShortcut is a global shortcut chosen from the composer's shortcut
// menu or from search: no channel, no message.
type GlobalShortcut struct {
	UserID     string
	CallbackID string // default tempreport_global
}

// SendGlobalShortcut delivers a shortcut interaction to the bot. Its
// trigger_id ([Envelope.TriggerID]) is fresh: views.open takes it once.
func (s *Server) SendGlobalShortcut(ctx context.Context, sc GlobalShortcut) (*Envelope, error) {
	if sc.CallbackID == "" {
		sc.CallbackID = "tempreport_global"
	}
	e := s.newEnvelope("interactive")
	e.ResponseURL = ""
	payload := map[string]any{
		"type":                  "shortcut",
		"callback_id":           sc.CallbackID,
		"trigger_id":            s.mintTrigger(sc.UserID),
		"action_ts":             s.actionTS(),
		"team":                  s.team(),
		"user":                  s.user(sc.UserID),
		"api_app_id":            "A0FAKEAPP",
		"token":                 "deprecated-verification-token",
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	return e, s.send(ctx, e, payload)
}

// ViewSubmission is a press of a modal's submit button.
type ViewSubmission struct {
	UserID     string
	ViewID     string // a view the bot opened: see [Server.LastOpenedViewID]
	CallbackID string // default: the view's own
	// Values are what the person typed: by block_id, then action_id. Each
	// arrives as a plain_text_input's value.
	Values map[string]map[string]string
}

// SendViewSubmission delivers a view_submission interaction to the bot:
// the view as the bot last set it (id, hash, callback_id,
// private_metadata, blocks…) with the values in view.state.values. If the
// bot's first ack says {"response_action":"update","view":…}, the fake
// makes that the view's new state, with a new hash, before it records the
// ack.
func (s *Server) SendViewSubmission(ctx context.Context, sub ViewSubmission) (*Envelope, error) {
	v, err := s.viewState(sub.ViewID)
	if err != nil {
		return nil, err
	}
	if sub.CallbackID != "" {
		v["callback_id"] = sub.CallbackID
	}
	values := map[string]any{}
	for block, actions := range sub.Values {
		m := map[string]any{}
		for action, value := range actions {
			m[action] = map[string]any{"type": "plain_text_input", "value": value}
		}
		values[block] = m
	}
	v["state"] = map[string]any{"values": values}
	e := s.newEnvelope("interactive")
	e.ResponseURL = ""
	payload := map[string]any{
		"type":                  "view_submission",
		"team":                  s.team(),
		"user":                  s.user(sub.UserID),
		"api_app_id":            "A0FAKEAPP",
		"token":                 "deprecated-verification-token",
		"trigger_id":            s.mintTrigger(sub.UserID),
		"view":                  v,
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	s.api.mu.Lock()
	s.api.submissions[e.ID] = sub.ViewID
	s.api.mu.Unlock()
	return e, s.send(ctx, e, payload)
}

// ViewClick is a press of a button in a modal or in the App Home.
type ViewClick struct {
	UserID   string
	ViewID   string // a view the bot opened or published
	ActionID string
	BlockID  string
	Value    string
}

// SendClickInView delivers a block_actions interaction from a view: its
// container is the view, it carries the view and a fresh trigger_id, and
// it has no channel.
func (s *Server) SendClickInView(ctx context.Context, c ViewClick) (*Envelope, error) {
	v, err := s.viewState(c.ViewID)
	if err != nil {
		return nil, err
	}
	e := s.newEnvelope("interactive")
	e.ResponseURL = ""
	payload := map[string]any{
		"type":       "block_actions",
		"team":       s.team(),
		"user":       s.user(c.UserID),
		"api_app_id": "A0FAKEAPP",
		"token":      "deprecated-verification-token",
		"container":  map[string]any{"type": "view", "view_id": c.ViewID},
		"trigger_id": s.mintTrigger(c.UserID),
		"view":       v,
		"actions": []map[string]any{{
			"action_id": c.ActionID, "block_id": c.BlockID, "value": c.Value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "Button"}, "action_ts": s.actionTS(),
		}},
		"state":                 v["state"],
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	return e, s.send(ctx, e, payload)
}

// viewState is a fresh copy of a view's state, for a payload.
func (s *Server) viewState(id string) (map[string]any, error) {
	raw, ok := s.View(id)
	if !ok {
		return nil, fmt.Errorf("slacktest: no view %q: the bot opened or published none with that id", id)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// applyViewAck makes the first ack of a view submission take effect on
// the view: response_action "update" replaces it. It runs before the ack
// is recorded, so a test that has the ack sees the view it made.
func (s *Server) applyViewAck(e *Envelope, payload json.RawMessage) {
	a := s.api
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.submissions[e.ID]
	if !ok {
		return
	}
	delete(a.submissions, e.ID)
	r := ViewResponseOf(payload)
	vw := a.views[id]
	if r.ResponseAction != "update" || vw == nil {
		return
	}
	var body map[string]any
	if json.Unmarshal(payload, &body) != nil {
		return
	}
	if v, problems := viewArg(body, vw.typ); problems == nil {
		s.setView(vw, v)
		a.wake()
	}
}

// ViewResponse is what the bot's ack of a view_submission asks of Slack.
type ViewResponse struct {
	ResponseAction string            `json:"response_action"` // "errors", "update", "push", "clear" or "" (close)
	Errors         map[string]string `json:"errors"`          // by block_id, for "errors"
	View           json.RawMessage   `json:"view"`            // for "update" and "push"
}

// ViewResponseOf reads an ack's payload as a view_submission's answer.
func ViewResponseOf(payload json.RawMessage) ViewResponse {
	var r ViewResponse
	_ = json.Unmarshal(payload, &r)
	return r
}

// ViewResponse reads the ack as a view_submission's answer.
func (a Ack) ViewResponse() ViewResponse { return ViewResponseOf(a.Payload) }

// TriggerID is the trigger_id the envelope carried, "" if none.
func (e *Envelope) TriggerID() string {
	p, _ := e.payload.(map[string]any)
	return str(p, "trigger_id")
}

// SendEventOf delivers an Events API event to the bot: event in an
// event_callback with the given event_id (a fresh one if empty). Slack
// retries an event in a new envelope with the same event_id: call it
// twice with the same eventID.
func (s *Server) SendEventOf(ctx context.Context, event map[string]any, eventID string) (*Envelope, error) {
	if eventID == "" {
		s.api.mu.Lock()
		eventID = fmt.Sprintf("Ev0FAKE%06d", s.api.next())
		s.api.mu.Unlock()
	}
	e := s.newEnvelope("events_api")
	e.ResponseURL = ""
	payload := map[string]any{
		"token": "deprecated-verification-token", "team_id": s.TeamID, "api_app_id": "A0FAKEAPP",
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"event": event, "event_context": "4-fake-" + eventID,
		"authorizations": []map[string]any{{
			"enterprise_id": nil, "team_id": s.TeamID, "user_id": "U0FAKEBOT", "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
	}
	return e, s.send(ctx, e, payload)
}

// Mention is a message that @mentions the bot in a channel it is in.
type Mention struct {
	UserID    string
	ChannelID string // default C0FAKECHAN
	Text      string // with the mention, e.g. "<@U0FAKEBOT> 2019…"; default "<@U0FAKEBOT>"
	ThreadTS  string // the thread it is in, if any
	EventID   string // default a fresh one
}

// SendMention delivers an app_mention event.
func (s *Server) SendMention(ctx context.Context, m Mention) (*Envelope, error) {
	if m.ChannelID == "" {
		m.ChannelID = "C0FAKECHAN"
	}
	if m.Text == "" {
		m.Text = "<@U0FAKEBOT>"
	}
	ts := s.messageTS()
	event := map[string]any{
		"type": "app_mention", "user": m.UserID, "text": m.Text, "channel": m.ChannelID,
		"ts": ts, "event_ts": ts, "team": s.TeamID,
	}
	if m.ThreadTS != "" {
		event["thread_ts"] = m.ThreadTS
	}
	return s.SendEventOf(ctx, event, m.EventID)
}

// DirectMessage is a message in the app's Messages tab.
type DirectMessage struct {
	UserID    string
	ChannelID string // default D0FAKEDM
	Text      string
	BotID     string // set for a bot's message, the bot's own included
	Subtype   string // e.g. "message_changed", "bot_message"
	EventID   string // default a fresh one
}

// SendDirectMessage delivers a message event with channel_type im.
func (s *Server) SendDirectMessage(ctx context.Context, dm DirectMessage) (*Envelope, error) {
	if dm.ChannelID == "" {
		dm.ChannelID = "D0FAKEDM"
	}
	ts := s.messageTS()
	event := map[string]any{
		"type": "message", "text": dm.Text, "channel": dm.ChannelID, "channel_type": "im",
		"ts": ts, "event_ts": ts, "team": s.TeamID,
	}
	if dm.UserID != "" {
		event["user"] = dm.UserID
	}
	if dm.BotID != "" {
		event["bot_id"] = dm.BotID
	}
	if dm.Subtype != "" {
		event["subtype"] = dm.Subtype
	}
	return s.SendEventOf(ctx, event, dm.EventID)
}

// HomeOpened is a person opening the app's Home (or Messages) tab.
type HomeOpened struct {
	UserID string
	Tab    string // "home" (default) or "messages"
	// ViewPrivateMetadata, if set, is the private_metadata of the view
	// the event carries. Without it the event carries the Home view the
	// bot last published for the person, if any, as Slack does.
	ViewPrivateMetadata string
	EventID             string // default a fresh one
}

// SendHomeOpened delivers an app_home_opened event.
func (s *Server) SendHomeOpened(ctx context.Context, h HomeOpened) (*Envelope, error) {
	if h.Tab == "" {
		h.Tab = "home"
	}
	event := map[string]any{
		"type": "app_home_opened", "user": h.UserID, "channel": "D0FAKEDM", "tab": h.Tab,
		"event_ts": s.messageTS(),
	}
	if v, err := s.homeState(h.UserID); err == nil {
		event["view"] = v
	}
	if h.ViewPrivateMetadata != "" {
		v, _ := event["view"].(map[string]any)
		if v == nil {
			s.api.mu.Lock()
			v = map[string]any{"id": fmt.Sprintf("V0HOME%05d", s.api.next()), "type": "home"}
			s.api.mu.Unlock()
		}
		v["private_metadata"] = h.ViewPrivateMetadata
		event["view"] = v
	}
	return s.SendEventOf(ctx, event, h.EventID)
}

// homeState is a copy of the Home view published for a user.
func (s *Server) homeState(user string) (map[string]any, error) {
	s.api.mu.Lock()
	id, ok := s.api.homes[user]
	s.api.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("slacktest: no Home view for %s", user)
	}
	return s.viewState(id)
}

func (s *Server) team() map[string]any { return map[string]any{"id": s.TeamID, "domain": "fake"} }

func (s *Server) user(id string) map[string]any {
	return map[string]any{"id": id, "username": "someone", "name": "someone", "team_id": s.TeamID}
}

// messageTS is a fresh message timestamp.
func (s *Server) messageTS() string {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	return s.api.ts()
}

// actionTS is a fresh action timestamp.
func (s *Server) actionTS() string { return s.messageTS() }
