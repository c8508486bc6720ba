package bot

import (
	"strings"

	"github.com/slack-go/slack/slackevents"
)

// readMention reads an @mention of the bot in a channel or a thread: the
// answer is shown to the person who mentioned, in that thread. Other bots'
// mentions are ignored.
func readMention(ev slackevents.EventsAPIInnerEvent) request {
	e, ok := ev.Data.(*slackevents.AppMentionEvent)
	if !ok || e.User == "" || e.BotID != "" {
		return ignoredEvent()
	}
	return request{entry: EntryMention, user: e.User, channel: e.Channel, text: withoutMentions(e.Text),
		route: route{kind: routeEphemeral, channel: e.Channel, user: e.User, thread: e.ThreadTimeStamp}}
}

// withoutMentions is text without Slack's <@…> mentions: a user ID is no
// record number.
func withoutMentions(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "<@")
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		b.WriteByte(' ')
		text = text[i+j+1:]
	}
	b.WriteString(text)
	return b.String()
}
