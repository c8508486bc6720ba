package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// Outcome names how an envelope ended, for the audit log and metrics.
type Outcome string

// The outcomes in the audit log.
const (
	OutcomeLink          Outcome = "link"
	OutcomeChoose        Outcome = "choose" // a shortcut on a message naming several records: offered, none fetched
	OutcomeHelp          Outcome = "help"
	OutcomeBadInput      Outcome = "bad_input"
	OutcomeDenied        Outcome = "denied"
	OutcomeUnconfirmed   Outcome = "unconfirmed" // access comes from a group that cannot be read now
	OutcomeLimited       Outcome = "limited"     // the person's own limit
	OutcomeBusy          Outcome = "busy"        // the vendor budget everyone shares, or too much in flight
	OutcomeRefused       Outcome = "refused"
	OutcomeMisconfigured Outcome = "misconfigured"
	OutcomeTransient     Outcome = "transient"
	OutcomeTimeout       Outcome = "timeout"
	OutcomeUnverifiable  Outcome = "unverifiable"
	OutcomeBadResponse   Outcome = "bad_response"
	OutcomeUntrusted     Outcome = "untrusted_link"
	OutcomeRestarting    Outcome = "restarting"
	OutcomeUnreadable    Outcome = "unreadable"
	OutcomeIgnored       Outcome = "ignored" // events and clicks on other buttons: acked, not answered
	OutcomeInternal      Outcome = "internal_error"
)

// Outcomes lists every outcome, for metrics that start each at zero.
var Outcomes = []Outcome{OutcomeLink, OutcomeHelp, OutcomeBadInput, OutcomeDenied, OutcomeUnconfirmed, OutcomeLimited,
	OutcomeBusy, OutcomeRefused, OutcomeMisconfigured, OutcomeTransient, OutcomeTimeout, OutcomeUnverifiable,
	OutcomeBadResponse, OutcomeUntrusted, OutcomeRestarting, OutcomeUnreadable, OutcomeIgnored, OutcomeInternal, OutcomeChoose}

// Observer is told what the bot did, for metrics. Its methods must be safe
// for concurrent use and return quickly.
type Observer interface {
	// Answered reports how an envelope ended, once per envelope: kind is
	// one of the Kind constants.
	Answered(kind string, outcome Outcome)
	// Acked reports how long an ack took from the envelope being read to
	// the ack being handed to slack-go. It is called just before the ack is
	// handed over.
	Acked(sinceRead time.Duration)
}

type noObserver struct{}

func (noObserver) Answered(string, Outcome) {}
func (noObserver) Acked(time.Duration)      {}

// level is how loud an outcome's audit line is: info for what people do,
// warn for what the bot or vendor could not help, error for what someone
// must fix.
func (o Outcome) level() slog.Level {
	switch o {
	case OutcomeIgnored:
		return slog.LevelDebug
	case OutcomeLink, OutcomeHelp, OutcomeBadInput, OutcomeDenied, OutcomeLimited, OutcomeRefused, OutcomeChoose:
		return slog.LevelInfo
	case OutcomeMisconfigured, OutcomeUnverifiable, OutcomeBadResponse, OutcomeUntrusted, OutcomeInternal:
		return slog.LevelError
	}
	return slog.LevelWarn
}

// refundable reports whether the person gets their turn back: only when the
// vendor was never reached (the shared budget had no turn, the bot was
// restarting) or the bot itself failed. A vendor that fails or hangs
// after being asked does not give turns back, so a person's limit holds
// whatever the vendor does.
func (o Outcome) refundable() bool {
	switch o {
	case OutcomeBusy, OutcomeRestarting, OutcomeInternal:
		return true
	}
	return false
}

// result is how an envelope ended: the outcome, and everything its answer
// and its audit line need. Decisions the bot makes itself are results built
// where they are made; failures from outside (the vendor, the network, a
// panic) are read, once, by [classify]. Nothing after that looks at err
// except to log it.
type result struct {
	outcome      Outcome
	report       *yibeidiao.TempReport // OutcomeLink
	wait         time.Duration         // OutcomeLimited, OutcomeBusy: until the next turn
	input        *InputError           // OutcomeBadInput: what is wrong with what was typed
	wrongCommand bool                  // OutcomeBadInput: a command this bot does not answer
	recordNo     string                // the record asked for, fetched or not
	records      []string              // the records found: OutcomeChoose offers them
	typed        bool                  // OutcomeChoose: the records were typed, not in a message
	cut          bool                  // the text was longer than the finder reads
	interrupted  bool                  // OutcomeRestarting: it was being served when the drain time ran out
	vendor       vendorFacts
	err          error // the failure from outside, for the log; nil for decisions
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

// level is how loud the audit line is: the outcome's level, but a command
// the bot is not configured for is the operator's to fix.
func (r result) level() slog.Level {
	if r.wrongCommand {
		return slog.LevelWarn
	}
	return r.outcome.level()
}

// classify turns what the vendor call returned into a result: one switch
// over the vendor's kinds of failure, and the one place that reads the
// vendor's error.
func classify(rep *yibeidiao.TempReport, err error) result {
	if err == nil {
		if rep == nil {
			return result{outcome: OutcomeInternal, err: errors.New("bot: vendor returned neither a report nor an error")}
		}
		return result{outcome: OutcomeLink, report: rep, vendor: vendorFacts{seq: rep.Seq}}
	}
	res := result{err: err, vendor: vendorFactsOf(err)}
	switch kind := yibeidiao.KindOf(err); {
	case errors.Is(err, errShuttingDown):
		res.outcome, res.interrupted = OutcomeRestarting, true
	case kind == yibeidiao.KindBusy:
		res.outcome = OutcomeBusy
		if busy, ok := errors.AsType[*yibeidiao.RateLimitError](err); ok {
			res.wait = busy.RetryAfter
		}
	case errors.Is(err, errCommandTimeout), errors.Is(err, context.DeadlineExceeded):
		res.outcome = OutcomeTimeout
	case kind == yibeidiao.KindBadSignature:
		res.outcome = OutcomeUnverifiable
	case kind == yibeidiao.KindUntrustedLink:
		res.outcome = OutcomeUntrusted
	case kind == yibeidiao.KindBadResponse:
		res.outcome = OutcomeBadResponse
	case kind == yibeidiao.KindMisconfigured, kind == yibeidiao.KindRedirect:
		res.outcome = OutcomeMisconfigured
	case kind == yibeidiao.KindTransient:
		res.outcome = OutcomeTransient
	case kind == yibeidiao.KindRefused:
		res.outcome = OutcomeRefused
	default:
		res.outcome = OutcomeInternal
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
	// errShuttingDown cancels work still running when the drain time is up.
	errShuttingDown = errors.New("bot: shutting down")
	// errCommandTimeout ends a command that took longer than its budget.
	errCommandTimeout = errors.New("bot: command took too long")
)
