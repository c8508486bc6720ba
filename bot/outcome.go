package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// Outcome names how a request ended: the one vocabulary of failure. The
// person's words (render.go), the audit line, the metrics' outcome label
// and the operator's hints all read it; [outcomes] says what else each one
// means.
type Outcome string

// The outcomes.
const (
	OutcomeLink          Outcome = "link"
	OutcomeChoose        Outcome = "choose" // several records named: offered, none fetched
	OutcomeHelp          Outcome = "help"
	OutcomeBadInput      Outcome = "bad_input"     // what the person gave names no record
	OutcomeWrongCommand  Outcome = "wrong_command" // Slack sent a command this bot is not configured for
	OutcomeDenied        Outcome = "denied"
	OutcomeUnconfirmed   Outcome = "unconfirmed" // access comes from a group that cannot be read now
	OutcomeLimited       Outcome = "limited"     // the person's own limit
	OutcomeBusy          Outcome = "busy"        // the vendor budget everyone shares had no turn in time
	OutcomeOverloaded    Outcome = "overloaded"  // too many requests waiting on the vendor in this process
	OutcomeRefused       Outcome = "refused"     // the vendor said no, for a business reason
	OutcomeMisconfigured Outcome = "misconfigured"
	OutcomeTransient     Outcome = "transient"     // the vendor failed in a way trying later may fix
	OutcomeTimeout       Outcome = "timeout"       // the vendor did not answer in time: one attempt's timeout, or the request's whole budget
	OutcomeBadSignature  Outcome = "bad_signature" // the vendor's answer did not carry our signature
	OutcomeBadResponse   Outcome = "bad_response"
	OutcomeUntrusted     Outcome = "untrusted_link"
	OutcomeRestarting    Outcome = "restarting"
	OutcomeUnreadable    Outcome = "unreadable" // the transport could not decode it
	OutcomeNoRoute       Outcome = "no_route"   // nowhere to answer: no response URL the bot posts to
	OutcomeIgnored       Outcome = "ignored"    // events and clicks no entry answers: acked, not answered
	OutcomeForm          Outcome = "form"       // the form was opened for someone the allowlist admits
	OutcomeHome          Outcome = "home"       // the App Home was published
	OutcomeUnchanged     Outcome = "unchanged"  // the App Home shows what it would show again: not published
	OutcomeInternal      Outcome = "internal_error"
)

// outcomeRule is what an outcome means besides its words.
type outcomeRule struct {
	// level is how loud its audit line is: info for what people do, warn
	// for what the bot or vendor could not help, error for what someone
	// must fix.
	level slog.Level
	// refund gives the person's turn back: when the vendor was never
	// reached (the shared budget had no turn, too much in flight), the bot
	// cut the call short (restarting), or the bot itself failed. A vendor
	// that fails or hangs after being asked keeps the turn, so a person's
	// limit holds whatever the vendor does.
	refund bool
}

// outcomes is the one table of outcomes; Outcomes lists it in order.
var outcomes = map[Outcome]outcomeRule{
	OutcomeLink:          {level: slog.LevelInfo},
	OutcomeChoose:        {level: slog.LevelInfo},
	OutcomeHelp:          {level: slog.LevelInfo},
	OutcomeBadInput:      {level: slog.LevelInfo},
	OutcomeWrongCommand:  {level: slog.LevelWarn},
	OutcomeDenied:        {level: slog.LevelInfo},
	OutcomeUnconfirmed:   {level: slog.LevelWarn},
	OutcomeLimited:       {level: slog.LevelInfo},
	OutcomeBusy:          {level: slog.LevelWarn, refund: true},
	OutcomeOverloaded:    {level: slog.LevelWarn, refund: true},
	OutcomeRefused:       {level: slog.LevelInfo},
	OutcomeMisconfigured: {level: slog.LevelError},
	OutcomeTransient:     {level: slog.LevelWarn},
	OutcomeTimeout:       {level: slog.LevelWarn},
	OutcomeBadSignature:  {level: slog.LevelError},
	OutcomeBadResponse:   {level: slog.LevelError},
	OutcomeUntrusted:     {level: slog.LevelError},
	OutcomeRestarting:    {level: slog.LevelWarn, refund: true},
	OutcomeUnreadable:    {level: slog.LevelWarn},
	OutcomeNoRoute:       {level: slog.LevelWarn},
	OutcomeIgnored:       {level: slog.LevelDebug},
	OutcomeForm:          {level: slog.LevelInfo},
	OutcomeHome:          {level: slog.LevelInfo},
	OutcomeUnchanged:     {level: slog.LevelDebug},
	OutcomeInternal:      {level: slog.LevelError, refund: true},
}

// Outcomes lists every outcome, for metrics that start each at zero.
var Outcomes = []Outcome{OutcomeLink, OutcomeChoose, OutcomeHelp, OutcomeBadInput, OutcomeWrongCommand, OutcomeDenied,
	OutcomeUnconfirmed, OutcomeLimited, OutcomeBusy, OutcomeOverloaded, OutcomeRefused, OutcomeMisconfigured,
	OutcomeTransient, OutcomeTimeout, OutcomeBadSignature, OutcomeBadResponse, OutcomeUntrusted, OutcomeRestarting,
	OutcomeUnreadable, OutcomeNoRoute, OutcomeIgnored, OutcomeForm, OutcomeHome, OutcomeUnchanged, OutcomeInternal}

// vendorOutcomes translates the vendor client's kinds of failure: the one
// place the bot reads them.
var vendorOutcomes = map[yibeidiao.Kind]Outcome{
	yibeidiao.KindBusy:          OutcomeBusy,
	yibeidiao.KindMisconfigured: OutcomeMisconfigured,
	yibeidiao.KindTransient:     OutcomeTransient,
	yibeidiao.KindTimeout:       OutcomeTimeout,
	yibeidiao.KindRefused:       OutcomeRefused,
	yibeidiao.KindBadResponse:   OutcomeBadResponse,
	yibeidiao.KindBadSignature:  OutcomeBadSignature,
	yibeidiao.KindUntrustedLink: OutcomeUntrusted,
}

// Observer is told what the bot did, for metrics. Its methods must be safe
// for concurrent use and return quickly.
type Observer interface {
	// Answered reports how a request ended, once per request.
	Answered(entry Entry, outcome Outcome)
	// Acked reports how long an ack took from the delivery being received
	// to the ack being handed to the transport, just before it is.
	Acked(sinceReceived time.Duration)
}

type noObserver struct{}

func (noObserver) Answered(Entry, Outcome) {}
func (noObserver) Acked(time.Duration)     {}

// result is how a request ended: the outcome, and everything its answer
// and its audit line need. Decisions the bot makes itself are results built
// where they are made; failures from outside (the vendor, the network, a
// panic) are read once, by [vendorResult]. Nothing after that looks at err
// except to log it.
type result struct {
	outcome     Outcome
	report      *yibeidiao.TempReport // OutcomeLink
	wait        time.Duration         // OutcomeLimited, OutcomeBusy, OutcomeOverloaded: until the next turn
	input       *InputError           // OutcomeBadInput: what is wrong with what was given
	recordNo    string                // the record asked for, fetched or not
	records     []string              // the records found: OutcomeChoose offers them
	typed       bool                  // OutcomeChoose: the records were typed, not in a message
	cut         bool                  // the text was longer than the finder reads
	interrupted bool                  // OutcomeRestarting: it was being served when the drain time ran out
	allowed     bool                  // OutcomeHome: the allowlist admits the person
	fingerprint string                // OutcomeHome: what the Home shows, in short: published again only when it changes
	vendor      vendorFacts
	err         error // the failure from outside, for the log; nil for decisions
}

// vendorFacts is what a vendor failure said, read out of its error once.
type vendorFacts struct {
	code     string // the vendor's code, "" if none
	seq      string // the request's seq, for the vendor's support
	linkHost string // an untrusted link's host
	// said is the vendor's own message, cleaned of control characters,
	// only when the vendor signed it; links are still in it.
	said               string
	accountUnavailable bool // 906: the company's vendor account
}

func decided(o Outcome) result { return result{outcome: o} }

// with is what was asked, ending in o after a wait (a limit's).
func (r result) with(o Outcome, wait time.Duration) result {
	return result{outcome: o, wait: wait, recordNo: r.recordNo, records: r.records, cut: r.cut}
}

// vendorResult reads what the vendor call returned; cause is why its
// context ended, if it did.
func vendorResult(rep *yibeidiao.TempReport, err, cause error) result {
	if err == nil {
		if rep == nil {
			return result{outcome: OutcomeInternal, err: errors.New("bot: vendor returned neither a report nor an error")}
		}
		return result{outcome: OutcomeLink, report: rep, vendor: vendorFacts{seq: rep.Seq}}
	}
	res := result{err: err, vendor: vendorFactsOf(err)}
	switch {
	case errors.Is(cause, errShuttingDown):
		res.outcome, res.interrupted = OutcomeRestarting, true
	case errors.Is(cause, errCommandTimeout) && yibeidiao.KindOf(err) != yibeidiao.KindBusy:
		res.outcome = OutcomeTimeout // the request's budget ran out during the call
	default:
		o, ok := vendorOutcomes[yibeidiao.KindOf(err)]
		if !ok {
			o = OutcomeInternal
		}
		res.outcome = o
	}
	if busy, ok := errors.AsType[*yibeidiao.RateLimitError](err); ok {
		res.wait = busy.RetryAfter
	}
	return res
}

func vendorFactsOf(err error) vendorFacts {
	var f vendorFacts
	if apiErr, ok := errors.AsType[*yibeidiao.APIError](err); ok {
		f.code, f.seq = apiErr.Code, apiErr.Seq
		if apiErr.Verified {
			f.said = apiErr.Message
		}
		f.accountUnavailable = errors.Is(err, yibeidiao.ErrEnterpriseDisabled)
	}
	if untrusted, ok := errors.AsType[*yibeidiao.UntrustedLinkError](err); ok {
		f.linkHost, f.seq = untrusted.Host, untrusted.Seq
	}
	return f
}

var (
	// ErrUnreadable means a transport could not decode what Slack sent.
	ErrUnreadable = errors.New("bot: unreadable payload")
	// errShuttingDown cancels work still running when the drain time is up.
	errShuttingDown = errors.New("bot: shutting down")
	// errCommandTimeout ends a request that took longer than its budget.
	errCommandTimeout = errors.New("bot: request took too long")
	// errNoRoute: the request has no response URL the bot posts to.
	errNoRoute = errors.New("bot: no response URL the bot posts to")
)

// contextCause is why ctx ended, nil while it has not.
func contextCause(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}
