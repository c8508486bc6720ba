package bot

import "github.com/slack-go/slack/slackevents"

// readHomeOpened reads the opening of the App Home's Home tab (not its
// Messages tab): the Home is published for the person, from what the bot
// knows, with no vendor call.
func readHomeOpened(ev slackevents.EventsAPIInnerEvent) request {
	e, ok := ev.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || e.Tab != "home" || e.User == "" {
		return ignoredEvent()
	}
	req := request{entry: EntryHome, user: e.User, shown: OutcomeHome, route: route{kind: routeHome, user: e.User}}
	if e.View != nil {
		req.published = e.View.PrivateMetadata
	}
	return req
}

func ignoredEvent() request {
	return request{entry: EntryEvent, refusal: &result{outcome: OutcomeIgnored}}
}
