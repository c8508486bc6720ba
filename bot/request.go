package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
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

	user, team, channel, thread string
	// route is where an answer goes after the ack. A request whose entry
	// answers in the ack (a slash command) still has one: the answer goes
	// there when it is not known in time for the ack.
	route route
	// answersInAck: the ack can carry a message for the person (a slash
	// command's can; a click's, a shortcut's and an event's cannot).
	answersInAck bool
	replace      bool // a fresh-link click: the new link replaces the message with the button

	// text is where to look for record numbers: a command's text, a
	// button's value; message, the message a shortcut was used on. Only for
	// people the allowlist admits are they read.
	text    string
	message *slack.Message
	// refusal is set by a reader that already knows the request cannot be
	// served (a command this bot does not answer, an unreadable payload, an
	// interaction that is not the bot's): decide goes no further.
	refusal *result

	// decided is what was decided, for what follows the ack: set by
	// [Bot.conclude] before it starts the answer or the vendor call.
	decided decision
}

// route is where an answer goes after the ack.
type route struct {
	kind        routeKind
	responseURL string // routeResponseURL
}

type routeKind int

const (
	routeNone        routeKind = iota // nowhere: the ack is the only way back
	routeResponseURL                  // the interaction's or command's response URL
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

// responseRoute is the route to a response URL, if u is one the bot posts
// to: https on Slack's hooks host, or on the Web API's own host (a test
// server's, when the API URL is one). Anything else (a forged payload's
// URL) is no route: the report link is the most sensitive thing the bot
// holds, and goes only to Slack.
func responseRoute(u string, api *url.URL) route {
	p, err := url.Parse(u)
	if err != nil || p.User != nil {
		return route{}
	}
	slacks := p.Scheme == "https" && p.Host == "hooks.slack.com"
	apis := p.Scheme == api.Scheme && p.Host == api.Host
	if !slacks && !apis {
		return route{}
	}
	return route{kind: routeResponseURL, responseURL: u}
}
