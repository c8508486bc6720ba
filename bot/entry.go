package bot

// Entry names the way a request came in: the audit line's message and the
// metrics' kind label.
type Entry string

// The entries.
const (
	EntryCommand    Entry = "command"    // the slash command
	EntryClick      Entry = "click"      // a button, the bot's or not
	EntryShortcut   Entry = "shortcut"   // the message shortcut
	EntryForm       Entry = "form"       // the global shortcut, or the App Home's button: the form opens
	EntrySubmission Entry = "submission" // the form, submitted
	EntryHome       Entry = "home"       // the App Home's Home tab, opened
	EntryMention    Entry = "mention"    // an @mention of the bot in a channel or thread
	EntryDM         Entry = "dm"         // a direct message to the app
	EntryEvent      Entry = "event"      // an Events API event no entry answers: acked, not answered
	EntryUnreadable Entry = "unreadable" // the transport could not decode it
)

// Entries lists every entry, for metrics that start each at zero.
var Entries = []Entry{EntryCommand, EntryClick, EntryShortcut, EntryForm, EntrySubmission, EntryHome, EntryMention, EntryDM,
	EntryEvent, EntryUnreadable}

// The IDs that tie Slack's payloads to the bot: the manifest's shortcut,
// and the blocks and buttons of the bot's own messages.
const (
	// ShortcutCallbackID is the callback_id of the message shortcut ("Get
	// temporary report") in the app's manifest.
	ShortcutCallbackID = "tempreport_from_message"
	// freshLinkAction is the action_id of a button that fetches a record's
	// report ("Get a fresh link", and each record offered to choose from),
	// and the block_id of the fresh-link button. Its value is the record
	// number, so any replica can serve it. A block's n-th button is
	// fresh_link_n: Slack wants action IDs unique within a block.
	freshLinkAction = "fresh_link"
	// chooseBlock is the block_id of the buttons offering several records.
	chooseBlock = "records"
)

// The IDs of the form: its callback (the view's and the global
// shortcut's), its input, and the App Home's button that opens it.
const (
	// FormCallbackID is the callback_id of the global shortcut ("Get
	// temporary report by number") in the app's manifest, and of the form
	// it opens.
	FormCallbackID = "tempreport_form"
	// formBlock and formInput are the block_id and action_id of the form's
	// one input: the record number, as people paste it.
	formBlock = "record"
	formInput = "record"
	// openFormAction is the action_id of the App Home's button that opens
	// the form.
	openFormAction = "open_form"
)
