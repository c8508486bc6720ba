package bot

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// freshLinkAction is the action_id of the "Get a fresh link" button. Its
// value is the record number, so any replica can serve a click.
const freshLinkAction = "fresh_link"

// reportMessage is the private answer that carries a report link.
func reportMessage(recordNo string, rep *yibeidiao.TempReport, now time.Time) *slack.WebhookMessage {
	warning := expiryWarning(rep.ExpiresAt, now)
	link := strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C").Replace(rep.URL)
	exact := fmt.Sprintf("<!date^%d^{time_secs}|%s>", rep.ExpiresAt.Unix(), rep.ExpiresAt.UTC().Format("15:04:05 UTC"))
	blocks := []slack.Block{
		slack.NewSectionBlock(markdown(fmt.Sprintf(":page_facing_up: *Temporary report for record %s*\n<%s|Open the report>", recordNo, link)), nil, nil),
		slack.NewContextBlock("", markdown(fmt.Sprintf(":hourglass_flowing_sand: *%s* — at %s. Only you can see this message; don't forward the link.", warning, exact))),
		slack.NewActionBlock(freshLinkAction, slack.NewButtonBlockElement(freshLinkAction, recordNo, plain("Get a fresh link"))),
	}
	fallback := fmt.Sprintf("Temporary report for record %s: %s — %s (at %s).", recordNo, rep.URL, warning, rep.ExpiresAt.UTC().Format("15:04:05 UTC"))
	return private(fallback, blocks...)
}

// expiryWarning says in words when the link dies: "This link expires in 1
// minute" for the vendor's documented lifetime.
func expiryWarning(expiresAt, now time.Time) string {
	minutes := max(1, int(math.Round(expiresAt.Sub(now).Minutes())))
	if minutes == 1 {
		return "This link expires in 1 minute"
	}
	return fmt.Sprintf("This link expires in %d minutes", minutes)
}

// textMessage is a private answer of one paragraph.
func textMessage(text string) *slack.WebhookMessage {
	return private(text, slack.NewSectionBlock(markdown(text), nil, nil))
}

// private makes a message only the asker sees, with link previews off: Slack
// must not fetch a one-minute report link to unfurl it.
func private(fallback string, blocks ...slack.Block) *slack.WebhookMessage {
	no := false
	return &slack.WebhookMessage{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         fallback,
		Blocks:       &slack.Blocks{BlockSet: blocks},
		UnfurlLinks:  &no,
		UnfurlMedia:  &no,
	}
}

// inProgressRule is the vendor's condition for a temporary report.
const inProgressRule = "Only a background check that is *in progress* and has *at least one finished investigation item* has a temporary report."

func usage(command string) string {
	return fmt.Sprintf("*Usage:* `%[1]s <record number>`, for example `%[1]s 20190415152645093983751`.\n"+
		"You get a private link to the background check's temporary report. The link expires 1 minute after it is made; "+
		"press *Get a fresh link* for a new one.\n"+inProgressRule, command)
}

func markdown(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// escape neutralizes Slack markup in text from elsewhere (the vendor), so it
// cannot make links or mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
