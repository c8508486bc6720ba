package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/slack-go/slack"
)

// request is one thing a person asked of the bot, whatever carried it: who
// asked, where, what they gave, by which entry, and the way back to them.
// An entry's reader (read_*.go) builds it once; after [Bot.decide] has
// read the text and the message, nothing keeps them.
type request struct {
	entry    Entry
	key      string // what the redelivery memory, the ledger and the logs hold: see keyOf
	received time.Time
	ack      Acker // the transport's: written once, by [acks]
	ackRef   string
	// ackWritten, for a form's submission, is closed once its ack is
	// written: the form's answer must not reach Slack before the view the
	// ack puts in its place, or that view would replace the answer.
	ackWritten chan struct{}

	user, team, channel string
	// route is where an answer goes after the ack. A request whose ack
	// can carry the answer (a slash command) still has one: the answer
	// goes there when it is not known in time for the ack.
	route route
	// ackForm is what the ack can carry for the person: a slash command's
	// a message, a form's submission errors or the form's next view; the
	// rest nothing.
	ackForm ackForm
	replace bool // a fresh-link click: the new link replaces the message with the button

	// text is where to look for record numbers: a command's text, a
	// button's value, a form's input, a mention's or a DM's text; message,
	// the message a shortcut was used on. Only for people the allowlist
	// admits are they read.
	text    string
	message *slack.Message
	// refusal is set by a reader that already knows the request cannot be
	// served (a command this bot does not answer, an unreadable payload, an
	// interaction that is not the bot's): decide goes no further.
	refusal *result
	// shown is what an entry that only shows something asks for (the form,
	// the Home tab): decide reads no records for it.
	shown Outcome
	// published is the fingerprint of the App Home Slack shows the person
	// now (its private_metadata), "" if none.
	published string

	// decided is what was decided, for what follows the ack: set by
	// [Bot.conclude] before it starts the answer or the vendor call.
	decided decision
}

// ackForm is what a request's ack can carry for the person.
type ackForm int

const (
	ackBare    ackForm = iota // nothing: clicks, shortcuts, events
	ackMessage                // a message: a slash command
	ackView                   // a form's submission: errors under its input, or its next view
)

// maxKeyBytes is the longest delivery ID kept as it is: Slack's envelope
// IDs are UUIDs (36 bytes), event IDs shorter. A longer one is kept as its
// digest, so memory and Redis hold a bounded amount per delivery whatever
// arrives, and package replicas uses keys as they are.
const maxKeyBytes = 64

// keyOf is id, or a fixed-size digest of an id longer than Slack sends.
func keyOf(id string) string {
	if len(id) <= maxKeyBytes {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// clipID keeps a Slack ID from outside to the length Slack's IDs have.
func clipID(id string) string { return id[:min(len(id), 32)] }
