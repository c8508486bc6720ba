package bot

import (
	"encoding/json"
	"strings"
)

// slackLog receives slack-go's Socket Mode debug output. slack-go handles a
// disconnect message itself and never reports its reason; its debug line for
// each received message is the only place the reason shows. slackLog logs
// those reasons and drops every other line that carries message content
// (user text, response URLs); the rest goes to the debug log.
type slackLog struct{ b *Bot }

const receivedPrefix = "Received WebSocket message: "

func (l slackLog) Output(_ int, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, receivedPrefix):
		l.received(strings.TrimPrefix(s, receivedPrefix))
	case strings.HasPrefix(s, "Scheduling Socket Mode response"),
		strings.HasPrefix(s, "Sending Socket Mode response"),
		strings.HasPrefix(s, "Finished sending Socket Mode response"),
		strings.HasPrefix(s, "Starting to receive message"),
		strings.HasPrefix(s, "Finished to receive message"),
		strings.HasPrefix(s, "WebSocket ping message received"):
	default:
		l.b.log.Debug("slack-go: " + s)
	}
	return nil
}

func (l slackLog) received(js string) {
	var msg struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal([]byte(js), &msg) != nil || msg.Type != "disconnect" {
		return
	}
	l.b.setHealth(false, "disconnected by Slack: "+msg.Reason)
	if msg.Reason == "link_disabled" {
		l.b.log.Error("Slack disabled this app's socket (link_disabled): turn Socket Mode back on in the app's settings (Settings > Socket Mode)")
		return
	}
	l.b.log.Info("Slack is recycling the socket; reconnecting", "reason", msg.Reason)
}
