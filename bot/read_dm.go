package bot

import "github.com/slack-go/slack/slackevents"

// readDirectMessage reads a message a person sent the app directly: it is
// answered there, where only that person and the app can read. Messages
// from bots (the app's own answers among them) and messages with a subtype
// (edits, joins) are ignored.
func readDirectMessage(ev slackevents.EventsAPIInnerEvent) request {
	e, ok := ev.Data.(*slackevents.MessageEvent)
	if !ok || e.ChannelType != "im" || e.User == "" || e.BotID != "" || e.SubType != "" {
		return ignoredEvent()
	}
	return request{entry: EntryDM, user: e.User, channel: e.Channel, text: e.Text,
		route: route{kind: routeDirect, channel: e.Channel}}
}
