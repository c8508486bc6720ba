package bot

import (
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The surface: every entry the bot answers, each with its reader (one
// read_*.go file each). What no line here names is acked and not answered.
var (
	// interactions, by type and by the action_id (buttons) or callback_id
	// (shortcuts, views) they carry.
	interactions = map[interactionKey]readInteraction{
		{slack.InteractionTypeBlockActions, freshLinkAction}:     readFreshLink,       // read_click.go
		{slack.InteractionTypeMessageAction, ShortcutCallbackID}: readMessageShortcut, // read_shortcut.go
		{slack.InteractionTypeShortcut, FormCallbackID}:          readFormShortcut,    // read_form.go
		{slack.InteractionTypeBlockActions, openFormAction}:      readFormShortcut,    // the App Home's button
		{slack.InteractionTypeViewSubmission, FormCallbackID}:    readFormSubmission,  // read_form.go
	}
	// events, by the inner event's type.
	events = map[string]readEvent{
		"app_mention":     readMention,       // read_mention.go
		"message":         readDirectMessage, // read_dm.go: direct messages only
		"app_home_opened": readHomeOpened,    // read_home.go
	}
)

// The slash command is an entry too, read by [readCommand]; its name is
// configured ([Config.Command]).

type interactionKey struct {
	typ slack.InteractionType
	id  string
}

// readInteraction reads an interaction the surface names; action is the
// button pressed, for block actions.
type readInteraction func(cb slack.InteractionCallback, action *slack.BlockAction) request

// readEvent reads an event the surface names.
type readEvent func(ev slackevents.EventsAPIInnerEvent) request

// interactionEntry finds what the surface says of cb: its reader and, for
// block actions, the button of the bot's that was pressed.
func interactionEntry(cb slack.InteractionCallback) (readInteraction, *slack.BlockAction) {
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		return interactions[interactionKey{cb.Type, cb.View.CallbackID}], nil // a view's callback is the view's
	case slack.InteractionTypeBlockActions:
	default:
		return interactions[interactionKey{cb.Type, cb.CallbackID}], nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		if read := interactions[interactionKey{cb.Type, actionName(a.ActionID)}]; read != nil {
			return read, a
		}
	}
	return nil, nil
}

// actionName is an action ID without the _n a block's n-th button adds.
func actionName(id string) string {
	if i := strings.LastIndexByte(id, '_'); i > 0 && strings.Trim(id[i+1:], "0123456789") == "" && i+1 < len(id) {
		return id[:i]
	}
	return id
}
