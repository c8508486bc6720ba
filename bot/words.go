package bot

import (
	"fmt"
	"strings"
	"time"
)

// words is everything the bot says to a person, in one language: the
// catalogue, and nothing else (render.go turns it into Block Kit). Texts may
// use **bold** and `code` (see [parseMarkup]); the values put into them are the
// bot's own. Every field is set in every language; a test checks it.
type words struct {
	progress           func(record string) string
	usage              func(command string) string
	rule               string // the vendor's condition for a temporary report
	denied             func(user string) string
	unconfirmed        string
	restarting         string
	interrupted        func(command, record string) string // cancelled by a shutdown
	limited            func(wait string) string            // the person's own limit
	busy               func(wait string) string            // the vendor budget everyone shares
	seconds            func(n int) string
	timeout            string
	badSignature       string
	badResponse        string
	untrusted          string
	misconfigured      string
	accountUnavailable func(code string) string // 906: the company's vendor account
	transient          string
	refused            func(record string) string // before the vendor's own words
	vendorCode         func(code string) string   // after them
	noReason           string                     // instead of vendor words that are empty, unreadable or unverified
	linkRemoved        string                     // instead of a link in the vendor's words
	checkRecord        string
	internal           string
	unreadable         string
	noRoute            string // a request without a response URL of Slack's: the answer can only go in the ack
	wrongCommand       func(command string) string
	notDigits          string
	phoneOrDate        string // typed: a phone number or a date (recordno.Found.PhoneOrDate), and no record
	wrongLength        func(lo, hi, n int) string
	noRecord           string                    // a button without a record number
	noRecordInMessage  string                    // a message shortcut on a message that names none
	choose             func(n, shown int) string // a message names n records; the first shown are offered
	listLabel          string                    // before the records listed in chooseMessage's fallback

	reportTitle func(record string) string
	openReport  string
	expiresIn   func(minutes int) string
	expiresAt   func(when time.Time) string // the fallback of the date Slack shows in the reader's own time
	onlyYou     string                      // after the expiry: who sees the message
	freshLink   string

	// Added for issue 24; where each is meant to be used is in the comment.
	checkNumber    string                    // after a refusal that says the record does not exist (saysNotFound): instead of checkRecord
	chooseTyped    func(n, shown int) string // a command that names several records: instead of choose, which speaks of a message
	cut            string                    // after the answer to a message longer than the finder reads (recordno.Found.Cut)
	expiresAtLabel string                    // in reportMessage, before the expiry time in the note and its fallback
	labelSep       string                    // between a link's label and its URL in fallbackText
	listSep        string                    // between the records listed in chooseMessage's fallback (joined to the text with sentences)
	partSep        string                    // between the parts of reportMessage's note and fallback, instead of " · "
	sentences      func(s ...string) string  // joins sentences: chooseMessage's choice, cut and list
}

var english = &words{
	progress: func(record string) string {
		return fmt.Sprintf("Getting the temporary report for record %s…", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("**Usage:** `%[1]s <record number>`, for example `%[1]s 20190415152645093983751`.\n"+
			"You get a private link to the background check's temporary report. The link expires 1 minute after it is made; "+
			"press **Get a fresh link** for a new one.", command)
	},
	rule: "Only a background check that is **in progress** and has **at least one finished investigation item** has a temporary report.",
	denied: func(user string) string {
		return fmt.Sprintf("Sorry, you are not allowed to fetch temporary reports. Ask {contact} to add your Slack user ID `%s`.", user)
	},
	unconfirmed: "The bot cannot confirm your access right now. Please try again in a few minutes; if this keeps happening, tell the bot's admin.",
	restarting:  "The bot is restarting. Please try again in a few seconds.",
	interrupted: func(command, record string) string {
		return fmt.Sprintf("The bot is restarting and could not finish your request. Please run `%s %s` again in a minute.", command, record)
	},
	limited: func(wait string) string {
		return fmt.Sprintf("You have asked for several reports in quick succession. Your own limit gives you your next one in %s.", wait)
	},
	busy: func(wait string) string {
		return fmt.Sprintf("Too many report requests from everyone right now. Please try again in %s.", wait)
	},
	seconds: func(n int) string {
		if n == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	},
	timeout:       "The vendor took too long to answer. Please try again in a minute.",
	badSignature:  "The vendor's answer could not be verified, so no link is shown. Please try again in a minute; if this keeps happening, tell the bot's admin.",
	badResponse:   "The vendor sent an answer the bot could not read, so no link is shown. Please try again in a minute; if this keeps happening, tell the bot's admin.",
	untrusted:     "The vendor's answer carried a link that is not on the vendor's own secure address, so it is not shown. Please tell the bot's admin.",
	misconfigured: "Sorry, the bot is misconfigured and cannot get reports right now. Please ask the bot's admin to check its logs.",
	accountUnavailable: func(code string) string {
		return fmt.Sprintf("The vendor says your company's 易背调 account is unavailable (code %s), so no reports can be fetched. Please tell the bot's admin.", code)
	},
	transient:   "The vendor is having trouble right now. Please try again in a minute.",
	refused:     func(record string) string { return fmt.Sprintf("The vendor refused record %s: ", record) },
	vendorCode:  func(code string) string { return fmt.Sprintf(" (code %s).", code) },
	noReason:    "it gave no readable reason",
	linkRemoved: "[link removed]",
	checkRecord: "Check the record in 易背调, then try again.",
	internal:    "Sorry, something went wrong on our side. Please try again; if this keeps happening, tell the bot's admin.",
	noRoute:     "The bot cannot answer this here: the request came without a reply address from Slack. Please tell the bot's admin.",
	unreadable:  "Sorry, the bot could not read that command. Please try again.",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("This bot answers `%s` only. Please tell the bot's admin which command you typed.", command)
	},
	notDigits:   "A record number has only the digits 0 to 9.",
	phoneOrDate: "No record number found (phone numbers and dates don't count).",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("A record number usually has 23 digits (%d to %d are accepted); that one has %d. Please check it and try again.", lo, hi, n)
	},
	noRecord:          "This button carries no record number.",
	noRecordInMessage: "This message names no record number (10 to 32 digits).",
	choose: func(n, shown int) string {
		return fmt.Sprintf("This message names %d record numbers%s. Pick one: its link is fetched only when you press its button.", n, firstOf(n, shown))
	},
	listLabel: "Record numbers: ",

	reportTitle: func(record string) string { return "Temporary report for record " + record },
	openReport:  "Open the report",
	expiresIn: func(minutes int) string {
		if minutes == 1 {
			return "This link expires in 1 minute"
		}
		return fmt.Sprintf("This link expires in %d minutes", minutes)
	},
	expiresAt: func(when time.Time) string { return when.UTC().Format("15:04:05 UTC") },
	onlyYou:   "Only you can see this message; don't forward the link.",
	freshLink: "Get a fresh link",

	checkNumber: "Check the record number: it usually has 23 digits.",
	chooseTyped: func(n, shown int) string {
		return fmt.Sprintf("You gave %d record numbers%s. Pick one: its link is fetched only when you press its button.", n, firstOf(n, shown))
	},
	cut:            "The message is very long: only its beginning was read.",
	expiresAtLabel: "valid until ",
	labelSep:       ": ",
	listSep:        ", ",
	partSep:        " · ",
	sentences:      func(s ...string) string { return strings.Join(s, " ") },
}

// firstOf says, after a count of records, which of them are offered: ""
// when all are.
func firstOf(n, shown int) string {
	if shown >= n {
		return ""
	}
	return fmt.Sprintf("; here are the first %d", shown)
}
