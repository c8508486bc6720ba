package bot_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
)

// otherReplica is a shared ledger as another replica leaves it: envelopes
// from takenBy were claimed there first, with firstAck (or fetching), and
// every other claim is new, with turns from a local ledger. It records
// the claims in the order it was asked.
type otherReplica struct {
	takenBy  string
	firstAck json.RawMessage
	fetching bool
	turns    bot.Ledger

	mu     sync.Mutex
	claims []string
	acked  map[string]string
}

func (o *otherReplica) Settle(ctx context.Context, claims []bot.Claim) map[string]bot.Settlement {
	o.mu.Lock()
	for _, c := range claims {
		o.claims = append(o.claims, c.Key)
	}
	o.mu.Unlock()
	out := o.turns.Settle(ctx, claims)
	for _, c := range claims {
		if c.User == o.takenBy {
			out[c.Key] = bot.Settlement{Taken: true, FirstAck: o.firstAck, Fetching: o.fetching}
		}
	}
	return out
}

func (o *otherReplica) ShareAck(envelopeID string, payload json.RawMessage) {
	data, _ := json.Marshal(payload)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.acked == nil {
		o.acked = map[string]string{}
	}
	o.acked[envelopeID] = string(data)
}

func (o *otherReplica) GiveBack(ctx context.Context, user string) { o.turns.GiveBack(ctx, user) }

func TestSharedLedgerSettlesInArrivalOrder(t *testing.T) {
	t.Parallel()
	ledger := &otherReplica{turns: bot.NewLocalLedger(rate.Limit(1), 100)}
	users, cmds := slacktest.Crowd(40, readyRecord)
	h := start(t, func(s *setup) {
		s.deps.Ledger = ledger
		s.cfg.AllowedUsers = append(users, allowedUser)
		s.rps, s.burst = 1000, 100
	})
	envs, err := h.slack.SendCommands(h.ctx(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, env := range envs {
		sent = append(sent, env.ID)
		if msg := h.answer(env); !strings.Contains(msg.Raw(), "/survey-result/") {
			t.Errorf("%s: %s, want a link", env.ID, msg.Raw())
		}
	}
	_, refusal := h.command(stranger, readyRecord)
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	if !slices.Equal(ledger.claims[:len(sent)], sent) {
		t.Errorf("claims reached the ledger as %v, want the order Slack sent them: %v", ledger.claims, sent)
	}
	// An answer carried in the ack is shared; a progress note is not.
	if len(ledger.acked) != 1 || !strings.Contains(ledger.acked[ledger.claims[len(sent)]], refusal.Message().Text[:20]) {
		t.Errorf("shared first acks: %v, want only the refusal", ledger.acked)
	}
}

func TestEnvelopeAnotherReplicaServedIsAckedNotServed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		firstAck json.RawMessage
		fetching bool
		want     string // in the ack's text
	}{
		{"answered in its first ack", json.RawMessage(`{"text":"the other replica's answer"}`), false, "the other replica's answer"},
		{"being fetched by the other replica", nil, true, bot.ProgressPrefix},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, func(s *setup) {
				s.deps.Ledger = &otherReplica{takenBy: allowedUser, firstAck: tt.firstAck, fetching: tt.fetching, turns: bot.NewLocalLedger(1, 10)}
			})
			env, ack := h.command(allowedUser, readyRecord)
			if !strings.Contains(ack.Message().Text, tt.want) {
				t.Errorf("ack %s, want %q", ack.Payload, tt.want)
			}
			// Slack redelivers it here again: acked again, the same way.
			if err := h.slack.Redeliver(h.ctx(), env); err != nil {
				t.Fatal(err)
			}
			if acks, err := env.WaitAcks(h.ctx(), 2); err != nil || string(acks[1].Payload) != string(ack.Payload) {
				t.Errorf("a second redelivery: %v, %v; want it acked like the first", acks, err)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if calls, posts := len(h.vendor.Calls()), len(env.Posts()); calls != 0 || posts != 0 {
				t.Errorf("an envelope another replica served: %d vendor calls and %d posts, want none", calls, posts)
			}
			if lines := h.auditLines("command"); len(lines) != 0 {
				t.Errorf("an envelope another replica served has audit lines here: %v", lines)
			}
		})
	}
}
