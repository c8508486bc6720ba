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
}

// decide reads a request in arrival order and never waits. Access is
// decided first: only for people the allowlist admits does it look for
// record numbers, the one part whose cost grows with what arrived (linear,
// and bounded by [recordno.MaxBytes]).
func (b *Bot) decide(req *request) verdict {
	if req.refusal != nil {
		return verdict{res: *req.refusal}
	}
	switch b.access.check(req.user, req.received) {
	case denied:
		return verdict{res: decided(OutcomeDenied)}
	case unconfirmed:
		return verdict{res: decided(OutcomeUnconfirmed)}
	}
	if b.draining.Load() {
		return verdict{res: decided(OutcomeRestarting), admitted: true}
	}
	text := req.text
	if req.message != nil {
		text = messageTexts(*req.message)
	}
	req.text, req.message = "", nil // read: from here on no text is kept
	found := recordno.Find(text)
	v := verdict{res: result{records: found.Records, cut: found.Cut}, admitted: true}
	switch {
	case found.Help && req.entry == EntryCommand:
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
