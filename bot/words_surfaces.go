package bot

import "fmt"

// surfaceWords is what the bot says on the surfaces beyond a message: the
// form, the App Home, and the note a mention's answer carries. Texts may
// use **bold** and `code`; "{contact}" stands for [Config.Contact]. Every
// field is set in every language; a test checks it.
type surfaceWords struct {
	admin string // the contact when none is set

	formTitle       string // a modal's title: at most 24 characters
	formLabel       string
	formPlaceholder string
	formHint        string
	formSubmit      string
	formClose       string
	formButton      string // the App Home's button that opens the form

	homeHeader   string
	homeWhat     string
	homeHow      string
	homeCommand  func(command string) string
	homeForm     string
	homeButton   string // after homeForm, for people the allowlist admits: they have the button
	homeShortcut string
	homeMention  string
	homeDM       string
	homeAllowed  string
	homeDenied   func(user string) string
	homeVersion  func(version string) string

	// mentionNote follows a mention's answer: the channel saw the number;
	// mentionPrivate then points to the form, when the app has it.
	mentionNote    string
	mentionPrivate string
}

var englishSurfaces = &surfaceWords{
	admin: "the bot's admin",

	formTitle:       "Temporary report",
	formLabel:       "Record number",
	formPlaceholder: "Paste it as you have it, e.g. 背调号：20190415152645093983751",
	formHint:        "The link shows here, only to you, and expires 1 minute after it is made.",
	formSubmit:      "Get link",
	formClose:       "Close",
	formButton:      "Get a temporary report",

	homeHeader: "易背调 temporary reports",
	homeWhat: "This bot gets the **temporary report** of a background check from 易背调 and shows you a link to it. " +
		"Only you see the link, and it expires 1 minute after it is made.",
	homeHow: "**How to ask**",
	homeCommand: func(command string) string {
		return fmt.Sprintf("• Type `%s <record number>` in any channel or DM.", command)
	},
	homeForm:     "• Anywhere, in threads too: open the shortcuts menu and choose **Get report by number**.",
	homeButton:   " Or press the button below.",
	homeShortcut: "• On a message that names a record: the message's ⋮ menu > **Get temporary report**.",
	homeMention:  "• Mention the bot with a record number. Only you see the answer, but everyone in the channel sees your message and its number: the form is the private way.",
	homeDM:       "• Send the record number to the bot in a direct message.",
	homeAllowed:  "You are on the bot's list: you may get temporary reports.",
	homeDenied: func(user string) string {
		return fmt.Sprintf("You are not on the bot's list yet. Ask {contact} to add your Slack user ID `%s`.", user)
	},
	homeVersion: func(version string) string { return "tempreport " + version },

	mentionNote:    "Everyone in the channel saw the record number in your mention.",
	mentionPrivate: " For privacy, use the shortcut **Get report by number** next time.",
}

var chineseSurfaces = &surfaceWords{
	admin: "机器人管理员",

	formTitle:       "临时报告",
	formLabel:       "背调号",
	formPlaceholder: "直接粘贴即可，例如 背调号：20190415152645093983751",
	formHint:        "链接只在这里显示，仅你本人可见，生成 1 分钟后失效。",
	formSubmit:      "获取链接",
	formClose:       "关闭",
	formButton:      "获取临时报告",

	homeHeader: "易背调临时报告",
	homeWhat:   "本机器人从易背调获取背调的**临时报告**，并把链接发给你。链接仅你本人可见，生成 1 分钟后失效。",
	homeHow:    "**使用方法**",
	homeCommand: func(command string) string {
		return fmt.Sprintf("• 在任意频道或私信中输入 `%s 背调号`。", command)
	},
	homeForm:     "• 在任何地方（包括消息列）：打开快捷方式菜单，选择**按背调号获取临时报告**。",
	homeButton:   "也可以点击下方按钮。",
	homeShortcut: "• 在提到背调号的消息上：点击消息的 ⋮ 菜单，选择**获取背调临时报告**。",
	homeMention:  "• 提及机器人并附上背调号。回复仅你本人可见，但频道里的所有人都能看到你的消息和其中的背调号；如需保密，请使用表单。",
	homeDM:       "• 在与机器人的私信中发送背调号。",
	homeAllowed:  "你已在允许名单中，可以获取临时报告。",
	homeDenied: func(user string) string {
		return fmt.Sprintf("你还不在允许名单中。请联系{contact}，并提供你的成员 ID：`%s`。", user)
	},
	homeVersion: func(version string) string { return "tempreport " + version },

	mentionNote:    "你 @ 机器人时写的背调号，频道里的所有人都能看到。",
	mentionPrivate: "如需保密，下次请使用快捷方式“按背调号获取临时报告”。",
}
