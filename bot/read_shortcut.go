package bot

import "github.com/slack-go/slack"

// readMessageShortcut reads the message shortcut: the records are looked
// for in the message it was used on (see [messageTexts]).
func readMessageShortcut(cb slack.InteractionCallback, _ *slack.BlockAction) request {
	return request{entry: EntryShortcut,
		user: cb.User.ID, team: cb.Team.ID, channel: cb.Channel.ID,
		route:   route{kind: routeResponseURL, responseURL: cb.ResponseURL},
		message: &cb.Message}
}
