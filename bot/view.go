package bot

import (
	"slices"
	"strings"
)

// renderView appends the view showing res, as the JSON Slack takes, to
// dst: the form, the App Home, or a form showing an answer.
func (w *words) renderView(dst []byte, res result, a answerFor) []byte {
	switch res.outcome {
	case OutcomeIgnored, OutcomeUnchanged:
		return nil
	case OutcomeForm:
		return w.appendForm(dst)
	case OutcomeHome:
		return w.appendHome(dst, res, a)
	}
	msg := w.compose(res, a)
	if msg == nil {
		return nil
	}
	return w.appendModal(dst, msg, false)
}

// appendForm appends the form: one input, for the record number.
func (w *words) appendForm(b []byte) []byte {
	sw := w.surface()
	b = w.appendModalHead(b, true)
	b = append(b, `"blocks":[{"type":"input","block_id":"`+formBlock+`","label":`...)
	b = appendPlainText(b, sw.formLabel)
	b = append(b, `,"element":{"type":"plain_text_input","action_id":"`+formInput+`","placeholder":`...)
	b = appendPlainText(b, sw.formPlaceholder)
	b = append(b, `},"hint":`...)
	b = appendPlainText(b, sw.formHint)
	return append(b, `}]}`...)
}

// appendModal appends a modal showing msg's blocks: an answer, in the form
// it was asked from.
func (w *words) appendModal(b []byte, msg *blockMessage, submit bool) []byte {
	b = w.appendModalHead(b, submit)
	b = append(b, `"blocks":`...)
	b = msg.appendBlocks(b)
	return append(b, '}')
}

func (w *words) appendModalHead(b []byte, submit bool) []byte {
	sw := w.surface()
	b = append(b, `{"type":"modal","callback_id":"`+FormCallbackID+`","title":`...)
	b = appendPlainText(b, sw.formTitle)
	b = append(b, `,"close":`...)
	b = appendPlainText(b, sw.formClose)
	if submit {
		b = append(b, `,"submit":`...)
		b = appendPlainText(b, sw.formSubmit)
	}
	return append(b, ',')
}

func appendPlainText(b []byte, text string) []byte {
	b = append(b, `{"type":"plain_text","text":`...)
	return append(appendString(b, text), `,"emoji":true}`...)
}

// formAck is the ack of a form's submission whose answer is known without
// the vendor: the records to choose from replace the form; anything else
// (no record, not on the list, a limit) shows under the input, so the
// person can change it and submit again.
func (w *words) formAck(b []byte, res result, a answerFor) []byte {
	if res.outcome == OutcomeChoose {
		return w.formUpdate(b, res, a)
	}
	// Plain text under the input: the explanation's first line (what
	// follows it, the command's usage, is not the form's).
	var text strings.Builder
	for _, sp := range w.explain(res, a) {
		switch {
		case sp.user != "": // plain text shows no mention: the ID is what to ask for
			text.WriteString("@" + sp.user)
		case sp.channel != "":
			text.WriteString("#" + sp.channel)
		default:
			text.WriteString(sp.text)
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(text.String()), "\n")
	b = append(b, `{"response_action":"errors","errors":{"`+formBlock+`":`...)
	return append(appendString(b, first), `}}`...)
}

// formUpdate is an ack that replaces the form with the view of res; for a
// fetch under way (no outcome yet), the progress note.
func (w *words) formUpdate(b []byte, res result, a answerFor) []byte {
	b = append(b, `{"response_action":"update","view":`...)
	msg := w.compose(res, a)
	if res.outcome == "" {
		msg = w.textMessage([]span{literal(ProgressPrefix + w.progress(res.recordNo))})
	}
	b = w.appendModal(b, msg, false)
	return append(b, '}')
}

// appendHome appends the App Home: what the bot does, the ways in the app
// is set up for, whether the person is on the list, and a button that
// opens the form. Its private_metadata is the fingerprint of what it
// shows, so that it is published again only when that changes.
func (w *words) appendHome(b []byte, res result, a answerFor) []byte {
	sw := w.surface()
	b = append(b, `{"type":"home","private_metadata":`...)
	b = appendString(b, res.fingerprint)
	b = append(b, `,"blocks":[{"type":"header","text":`...)
	b = appendPlainText(b, sw.homeHeader)
	b = append(b, `},`...)
	b = appendRichText(b, parseMarkup(sw.homeWhat))
	how := []string{sw.homeHow}
	for _, s := range a.surfaces {
		switch s {
		case SurfaceCommand:
			how = append(how, sw.homeCommand(a.command))
		case SurfaceForm:
			if res.allowed {
				how = append(how, sw.homeForm+sw.homeButton)
			} else {
				how = append(how, sw.homeForm)
			}
		case SurfaceMessageShortcut:
			how = append(how, sw.homeShortcut)
		case SurfaceMention:
			how = append(how, sw.homeMention)
		case SurfaceDM:
			how = append(how, sw.homeDM)
		}
	}
	b = append(b, ',')
	b = appendRichText(b, parseMarkup(strings.Join(how, "\n")))
	b = append(b, ',')
	if res.allowed {
		b = appendRichText(b, append([]span{{emoji: "white_check_mark"}, literal(" ")}, parseMarkup(sw.homeAllowed)...))
	} else {
		b = appendRichText(b, append([]span{{emoji: "no_entry"}, literal(" ")}, w.withContact(sw.homeDenied(a.user), a.contact)...))
	}
	if res.allowed && slices.Contains(a.surfaces, SurfaceForm) {
		b = append(b, `,{"type":"actions","block_id":"home","elements":[{"type":"button","action_id":"`+openFormAction+`","text":`...)
		b = appendPlainText(b, sw.formButton)
		b = append(b, `}]}`...)
	}
	if a.version != "" {
		b = append(b, `,{"type":"context","elements":[`...)
		b = appendPlainText(b, sw.homeVersion(a.version))
		b = append(b, `]}`...)
	}
	return append(b, `]}`...)
}
