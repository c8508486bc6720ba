package bot

// decide says how an envelope ends without the vendor, or fetch to ask the
// vendor for env.recordNo if the person has a turn left. It runs in
// arrival order and never waits.
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
	case env.help:
		return decided(OutcomeHelp), false
	case env.input != nil:
		return result{outcome: OutcomeBadInput, input: env.input}, false
	case !usableResponseURL(env.responseURL):
		// The answer would go to the response URL, and there is none to go
		// to: no vendor turn is spent on an answer nobody can get. A
		// command is told in its ack; anything else cannot be answered.
		b.log.Warn("an envelope without a usable response URL: not served", "kind", env.kind, "envelope_id", env.key, "user", env.user)
		if env.inAck {
			return result{outcome: OutcomeUnreadable, err: errNoResponseURL}, false
		}
		return decided(OutcomeIgnored), false
	case len(env.found) > 1:
		return result{outcome: OutcomeChoose, records: env.found}, false
	}
	return result{}, true
}
