package bot

import (
	"fmt"

	"github.com/slack-go/slack"
)

// readCommand reads a slash command; want is the command the bot answers.
func readCommand(cmd slack.SlashCommand, want string) request {
	req := request{entry: EntryCommand, ackForm: ackMessage,
		user: cmd.UserID, team: cmd.TeamID, channel: cmd.ChannelID,
		route: route{kind: routeResponseURL, responseURL: cmd.ResponseURL}}
	if cmd.Command == "" {
		req.refusal = &result{outcome: OutcomeUnreadable, err: fmt.Errorf("%w: a slash command without its command", ErrUnreadable)}
		return req
	}
	if cmd.Command != want {
		req.refusal = &result{outcome: OutcomeWrongCommand, err: &WrongCommandError{Got: cmd.Command, Want: want}}
		return req
	}
	req.text = cmd.Text
	return req
}

// WrongCommandError means Slack delivered a slash command the bot was not
// configured to answer.
type WrongCommandError struct{ Got, Want string }

func (e *WrongCommandError) Error() string {
	return fmt.Sprintf("bot: got command %q, configured for %q", e.Got, e.Want)
}
