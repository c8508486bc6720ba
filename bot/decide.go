package bot

import "github.com/hr-tools/tempreport/internal/recordno"

// verdict is what [Bot.decide] makes of a request before the ledger is
// asked: how it ends without the vendor, or fetch to ask the vendor for
// res.recordNo if the person has a turn left.
type verdict struct {
	res   result
	fetch bool
	// admitted: the allowlist admits the person. Only then is their own
	// language looked up, or anything they sent read.
	admitted bool
	// readLater: the request carries a message, to be read after the ack,
	// off the decision goroutine (see [Bot.readMessage]).
	readLater bool
}

// decide reads a request in arrival order and never waits. Access is
// decided first: only for people the allowlist admits does it look for
// record numbers, the one part whose cost grows with what arrived (linear,
// and bounded by [recordno.MaxBytes]).
func (b *Bot) decide(req *request) verdict {
	if req.refusal != nil {
		return verdict{res: *req.refusal}
	}
	access := b.access.check(req.user, req.received)
	if req.shown == OutcomeHome {
		// Everyone's Home says whether they are on the list.
		home := result{outcome: OutcomeHome, allowed: access == allowed}
		return verdict{res: home, admitted: home.allowed}
	}
	switch access {
	case denied:
		return verdict{res: decided(OutcomeDenied)}
	case unconfirmed:
		return verdict{res: decided(OutcomeUnconfirmed)}
	}
	if req.shown != "" {
		return verdict{res: decided(req.shown), admitted: true}
	}
	if b.draining.Load() {
		return verdict{res: decided(OutcomeRestarting), admitted: true}
	}
	if req.message != nil {
		// A message's size is its sender's choice: it is read after the
		// ack, off this goroutine, so no one's ack waits for it.
		if req.route.kind == routeNone {
			return verdict{res: result{outcome: OutcomeNoRoute, err: errNoRoute}, admitted: true}
		}
		return verdict{admitted: true, readLater: true}
	}
	text := req.text
	req.text = "" // read: from here on no text is kept
	return b.find(req, text)
}

// find decides what the records found in text ask for.
func (b *Bot) find(req *request, text string) verdict {
	found := recordno.Find(text)
	v := verdict{res: result{records: found.Records, cut: found.Cut}, admitted: true}
	switch {
	case found.Help && (req.entry == EntryCommand || req.entry == EntryMention || req.entry == EntryDM):
		v.res.outcome = OutcomeHelp
	case len(found.Records) == 0:
		v.res.outcome, v.res.input = OutcomeBadInput, missing(req.entry, found)
	case req.route.kind == routeNone:
		// The link would go to the route, and there is none: no vendor turn
		// is spent on an answer nobody can get.
		v.res = result{outcome: OutcomeNoRoute, err: errNoRoute}
	case len(found.Records) > 1:
		v.res.outcome, v.res.typed = OutcomeChoose, req.entry == EntryCommand
	default:
		v.res.recordNo, v.fetch = found.Records[0], true
	}
	return v
}

// missing says why what a person sent names no record number.
func missing(entry Entry, found recordno.Found) *InputError {
	switch {
	case entry == EntryClick:
		return &InputError{Problem: NoRecordData}
	case entry == EntryShortcut:
		return &InputError{Problem: NoRecordInMessage}
	case found.WrongLength > 0:
		return &InputError{Problem: WrongLength, Digits: found.WrongLength}
	case found.PhoneOrDate:
		return &InputError{Problem: PhoneOrDate}
	}
	return &InputError{Problem: NotDigits}
}
