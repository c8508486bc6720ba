package bot

import "github.com/slack-go/slack"

// readFreshLink reads a press of a button that fetches a record: "Get a
// fresh link", or one of the records offered to choose from.
func readFreshLink(cb slack.InteractionCallback, action *slack.BlockAction) request {
	if cb.Container.Type == "view" {
		// A button in the form: the answer replaces what the form shows.
		return request{entry: EntryClick, user: cb.User.ID, team: cb.Team.ID,
			route: route{kind: routeViewUpdate, viewID: cb.View.ID}, text: action.Value}
	}
	return request{entry: EntryClick,
		user: cb.User.ID, team: cb.Team.ID, channel: cb.Channel.ID,
		route: route{kind: routeResponseURL, responseURL: cb.ResponseURL},
		// A fresh link replaces the message it was asked from; a pick from
		// a list leaves the list for the other records.
		replace: action.BlockID == freshLinkAction,
		text:    action.Value}
}
