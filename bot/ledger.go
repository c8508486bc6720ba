package bot

import (
	"context"
	"encoding/json"
	"time"

	"golang.org/x/time/rate"
)

// Ledger is what replicas of the bot must agree on: which envelopes have
// been served, and how many turns each person has left. [NewLocalLedger]
// keeps it in this process's memory, enough for one replica; package
// replicas keeps it in Redis for several. Its methods are safe for
// concurrent use, and they never fail: a ledger that cannot reach shared
// state answers from its own memory instead.
type Ledger interface {
	// Settle claims envelopes and, for those that ask, takes one of a
	// person's turns, in the order given: the loop's arrival order. It
	// returns one Settlement per claim, in the same order.
	Settle(ctx context.Context, claims []Claim) []Settlement
	// Acked records the answer that the first ack of an envelope this
	// replica claimed carried, for a redelivery that reaches another
	// replica. (An envelope whose turn was taken is acked with a progress
	// note, which is not recorded: see Settlement.Fetching.) It must not
	// block.
	Acked(envelopeID string, payload json.RawMessage)
	// GiveBack returns a turn taken from user.
	GiveBack(ctx context.Context, user string)
	// Immediate reports whether Settle answers at once, from this
	// process's memory: then the goroutine that settles writes the acks
	// itself. Otherwise the acks go to a goroutine of their own, so that
	// the next Settle's round trip overlaps them.
	Immediate() bool
}

// Claim asks the ledger for an envelope and maybe a turn.
type Claim struct {
	EnvelopeID string
	User       string
	Turn       bool // take one of User's turns if the envelope is new
}

// Settlement is the ledger's answer to one [Claim].
type Settlement struct {
	// Taken means another replica claimed the envelope first: ack it with
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

// NewLocalLedger is a [Ledger] in this process's memory: every envelope
// the loop passes on is new (the loop itself recognises redeliveries it
// has seen), and each person gets a token bucket of burst turns refilled
// at r.
func NewLocalLedger(r rate.Limit, burst int) Ledger { return newPersonalLimits(r, burst) }

// Settle, Acked and GiveBack make personalLimits a [Ledger].
func (p *personalLimits) Settle(_ context.Context, claims []Claim) []Settlement {
	now := time.Now()
	out := make([]Settlement, len(claims))
	for i, c := range claims {
		out[i] = p.settle(c, now)
	}
	return out
}

func (p *personalLimits) settle(c Claim, now time.Time) Settlement {
	if !c.Turn {
		return Settlement{}
	}
	return Settlement{Wait: p.take(c.User, now)}
}

func (p *personalLimits) Acked(string, json.RawMessage) {}

func (p *personalLimits) Immediate() bool { return true }

func (p *personalLimits) GiveBack(_ context.Context, user string) { p.giveBack(user) }
