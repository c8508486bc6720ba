package bot

import "github.com/hr-tools/tempreport/internal/recordno"

// decide says how an envelope ends without the vendor, or fetch to ask the
// vendor for res.recordNo if the person has a turn left. It runs in
// arrival order and never waits. Only for people the allowlist admits does
// it look for record numbers, the one part whose cost grows with what
// arrived (linear, and bounded by [recordno.MaxBytes]).
func (b *Bot) decide(env *envelope) (res result, fetch bool) {
	switch {
	case env.bad != nil:
		return result{outcome: OutcomeUnreadable, err: env.bad}, false
	case env.ignored:
		return decided(OutcomeIgnored), false
	case env.wrong != nil:
		return result{outcome: OutcomeBadInput, wrongCommand: true, err: env.wrong}, false
	}
	verdict := b.access.check(env.user, env.read)
	switch {
	case b.draining.Load():
		return decided(OutcomeRestarting), false
	case verdict == denied:
		return decided(OutcomeDenied), false
	case verdict == unconfirmed:
		return decided(OutcomeUnconfirmed), false
	}
	text := env.text
	if env.message != nil {
		text = messageTexts(*env.message)
	}
	found := recordno.Find(text)
	res = result{records: found.Records, cut: found.Cut}
	switch {
	case found.Help && env.kind == KindCommand:
		res.outcome = OutcomeHelp
		return res, false
	case len(found.Records) == 0:
		res.outcome, res.input = OutcomeBadInput, missing(env.kind, found)
		return res, false
	case !usableResponseURL(env.responseURL):
		// The answer would go to the response URL, and there is none to go
		// to: no vendor turn is spent on an answer nobody can get. A
		// command is told in its ack; anything else cannot be answered.
		b.log.Warn("an envelope without a usable response URL: not served", "kind", env.kind, "envelope_id", env.key, "user", env.user)
		if env.inAck {
			return result{outcome: OutcomeUnreadable, err: errNoResponseURL}, false
		}
		return decided(OutcomeIgnored), false
	case len(found.Records) > 1:
		res.outcome, res.typed = OutcomeChoose, env.kind == KindCommand
		return res, false
	}
	res.recordNo = found.Records[0]
	return res, true
}

// missing says why what a person sent names no record number.
func missing(kind string, found recordno.Found) *InputError {
	switch {
	case kind == KindClick:
		return &InputError{Problem: NoRecordData}
	case kind == KindShortcut:
		return &InputError{Problem: NoRecordInMessage}
	case found.WrongLength > 0:
		return &InputError{Problem: WrongLength, Digits: found.WrongLength}
	}
	return &InputError{Problem: NotDigits}
}
