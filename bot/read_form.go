package bot

import "github.com/slack-go/slack"

// readFormShortcut reads the global shortcut, or the App Home's button:
// either opens the form with the trigger it carries. Neither has a
// channel or a response URL: the form is the only way back.
func readFormShortcut(cb slack.InteractionCallback, _ *slack.BlockAction) request {
	return request{entry: EntryForm, user: cb.User.ID, team: cb.Team.ID, shown: OutcomeForm,
		route: route{kind: routeViewOpen, trigger: cb.TriggerID}}
}

// readFormSubmission reads the form's submission: the record number as it
// was typed or pasted. The ack can carry errors under the input or the
// form's next view; later answers update the form.
func readFormSubmission(cb slack.InteractionCallback, _ *slack.BlockAction) request {
	req := request{entry: EntrySubmission, ackForm: ackView, user: cb.User.ID, team: cb.Team.ID,
		route: route{kind: routeViewUpdate, viewID: cb.View.ID}}
	if cb.View.State != nil {
		req.text = cb.View.State.Values[formBlock][formInput].Value
	}
	return req
}
