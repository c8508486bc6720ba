package bot

import (
	"context"
	"encoding/json"
	"time"

	"golang.org/x/time/rate"
)

// Ledger is what replicas of the bot must agree on: which deliveries have
// been served, and how many turns each person has left. [NewLocalLedger]
// keeps it in this process's memory, enough for one replica; package
// replicas keeps it in Redis for several. Its methods are safe for
// concurrent use, and they never fail: a ledger that cannot reach shared
// state answers from its own memory instead.
type Ledger interface {
	// Settle claims deliveries and, for those that ask, takes one of a
	// person's turns, in the order given: the order they arrived in. It
	// answers each claim by its Key; every key in claims is distinct.
	Settle(ctx context.Context, claims []Claim) map[string]Settlement
	// ShareAck records the answer that the first ack of a delivery this
	// replica claimed carried, for a redelivery that reaches another
	// replica. (A delivery whose turn was taken is acked with a progress
	// note, which is not recorded: see Settlement.Fetching.) It must not
	// block.
	ShareAck(key string, body json.RawMessage)
	// GiveBack returns a turn taken from user.
	GiveBack(ctx context.Context, user string)
}

// Claim asks the ledger for a delivery and maybe a turn. Key and User are
// at most 76 and 32 bytes: the bot bounds what arrives from outside.
type Claim struct {
	Key  string // what identifies the delivery (see [Delivery.ID])
	User string
	Turn bool // take one of User's turns if the delivery is new
	// Hold claims a delivery that takes no turn but whose answer is posted
	// after the ack (a mention, a form, the Home): another replica that
	// gets it again must not post it again. A delivery answered in its ack
	// need not be held: any replica decides it the same.
	Hold bool
}

// Settlement is the ledger's answer to one [Claim].
type Settlement struct {
	// Taken means another replica claimed the delivery first: ack it with
	// FirstAck (what its first ack carried; nil if not known yet), or with a
	// progress note if Fetching (the other replica took a turn and is
	// asking the vendor), and serve it no further.
	Taken    bool
	FirstAck json.RawMessage
	Fetching bool
	// Wait, for a claim that asked for a turn, is how long until the
	// person's next one: 0 means a turn was taken.
	Wait time.Duration
}

// NewLocalLedger is a [Ledger] in this process's memory: every delivery is
// new to it (the bot itself recognises redeliveries it has seen), and each
// person gets a token bucket of burst turns refilled at r.
func NewLocalLedger(r rate.Limit, burst int) Ledger { return newPersonalLimits(r, burst) }

// Settle, ShareAck and GiveBack make personalLimits a [Ledger].
func (p *personalLimits) Settle(_ context.Context, claims []Claim) map[string]Settlement {
	now := time.Now()
	out := make(map[string]Settlement, len(claims))
	for _, c := range claims {
		var s Settlement
		if c.Turn {
			s.Wait = p.take(c.User, now)
		}
		out[c.Key] = s
	}
	return out
}

func (p *personalLimits) ShareAck(string, json.RawMessage) {}

func (p *personalLimits) GiveBack(_ context.Context, user string) { p.giveBack(user) }
