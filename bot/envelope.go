package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Kinds of envelope: the audit line's message and the metrics' kind label.
const (
	KindCommand    = "command"
	KindClick      = "click"
	KindShortcut   = "shortcut"
	KindEvent      = "event"      // Events API: the app subscribes to none; acked, not answered
	KindUnreadable = "unreadable" // slack-go could not parse it
)

// The IDs that tie Slack's payloads to the bot: the manifest's shortcut,
// and the blocks and buttons of the bot's own messages.
const (
	// ShortcutCallbackID is the callback_id of the message shortcut ("Get
	// temporary report") in the app's manifest.
	ShortcutCallbackID = "tempreport_from_message"
	// freshLinkAction is the action_id of a button that fetches a record's
	// report ("Get a fresh link", and each record a shortcut offers), and
	// the block_id of the fresh-link button. Its value is the record
	// number, so any replica can serve it.
	freshLinkAction = "fresh_link"
	// chooseBlock is the block_id of the buttons offering a message's
	// records.
	chooseBlock = "records"
)

// envelope is what the bot read from one Socket Mode envelope: the facts
// every later stage needs, built once by [readEnvelope]. The settle
// goroutine drops text and message once it has decided; nothing else
// changes.
type envelope struct {
	id   string    // Slack's envelope ID: what the ack names
	key  string    // id, or a fixed-size digest of one longer than Slack sends: what memory, Redis and logs hold
	kind string    // one of the Kind constants
	read time.Time // when the loop read it

	user, team, channel string
	responseURL         string
	inAck               bool // a slash command: its ack can carry the answer
	replace             bool // a fresh-link click: the new link replaces the message with the button

	// text is where to look for record numbers: a command's text, a
	// button's value; message, the message a shortcut was used on. The
	// settle goroutine reads them (a message only for people the allowlist
	// admits), then drops them: the bot never keeps a message's text.
	text    string
	message *slack.Message
	wrong   *WrongCommandError // a slash command this bot does not answer
	bad     error              // KindUnreadable: why slack-go could not parse it
	ignored bool               // an event, or an interaction that is not the bot's
}

// maxKeyBytes is the longest envelope ID kept as it is: Slack's are UUIDs
// (36 bytes). A longer one is kept as its digest, so that memory and Redis
// hold a bounded amount per envelope whatever arrives.
const maxKeyBytes = 64

func keyOf(id string) string {
	if len(id) <= maxKeyBytes {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readEnvelope reads what the bot needs out of one event from slack-go.
// command is the slash command the bot answers. The envelope's id is empty
// when there is nothing to ack.
func readEnvelope(ev socketmode.Event, command string, now time.Time) envelope {
	env := envelope{read: now}
	if ev.Request != nil {
		env.id = ev.Request.EnvelopeID
	}
	switch data := ev.Data.(type) {
	case slack.SlashCommand:
		env.kind, env.inAck = KindCommand, true
		env.user, env.team, env.channel, env.responseURL = data.UserID, data.TeamID, data.ChannelID, data.ResponseURL
		if data.Command != command {
			env.wrong = &WrongCommandError{Got: data.Command, Want: command}
			break
		}
		env.text = data.Text
	case slack.InteractionCallback:
		readInteraction(&env, data)
	case *socketmode.ErrorBadMessage:
		var head struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		_ = json.Unmarshal(data.Message, &head) // both stay empty if even this fails
		env.id, env.kind = head.EnvelopeID, KindUnreadable
		env.inAck = head.Type == socketmode.RequestTypeSlashCommands // a command gets an apology instead of dispatch_failed
		env.bad = fmt.Errorf("%w (%s): %w", ErrUnreadable, head.Type, data.Cause)
	default: // events: the app subscribes to none, but an unacked one is retried
		env.kind, env.ignored = KindEvent, true
	}
	env.key = keyOf(env.id)
	return env
}

// readInteraction reads the fresh-link press or the message shortcut out of
// an interaction; anything else (other interactions, link buttons, a
// missing user) is an ignored click.
func readInteraction(env *envelope, cb slack.InteractionCallback) {
	env.kind, env.ignored = KindClick, true
	if cb.User.ID == "" {
		return
	}
	switch {
	case cb.Type == slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if a != nil && (a.ActionID == freshLinkAction || strings.HasPrefix(a.ActionID, freshLinkAction+"_")) {
				env.ignored = false
				// A fresh link replaces the message it was asked from; a pick
				// from a shortcut's list leaves the list for the other records.
				env.replace = a.BlockID == freshLinkAction
				env.text = a.Value
				break
			}
		}
	case cb.Type == slack.InteractionTypeMessageAction && cb.CallbackID == ShortcutCallbackID:
		env.kind, env.ignored = KindShortcut, false
		env.message = &cb.Message
	}
	if !env.ignored {
		env.user, env.team, env.channel, env.responseURL = cb.User.ID, cb.Team.ID, cb.Channel.ID, cb.ResponseURL
	}
}

// usableResponseURL reports whether an answer can be posted to u.
func usableResponseURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// Errors about what was read.
var (
	// ErrUnreadable means slack-go could not parse an envelope.
	ErrUnreadable    = errors.New("bot: unreadable envelope")
	errNoResponseURL = errors.New("bot: the envelope has no usable response URL")
)

// WrongCommandError means Slack delivered a slash command the bot was not
// configured to answer.
type WrongCommandError struct{ Got, Want string }

func (e *WrongCommandError) Error() string {
	return fmt.Sprintf("bot: got command %q, configured for %q", e.Got, e.Want)
}
