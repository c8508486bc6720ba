package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// chinese is what the bot says in Simplified Chinese, in the words HR teams
// in mainland China use with 易背调: 背调号 (the record number), 临时报告,
// 调查项, 成员 ID (as Slack's Chinese interface says). It speaks to one
// person as 你, as Slack's own Chinese does, and never as 您. Mainland
// punctuation: full-width and unspaced, "……" for an ellipsis, 【】 around
// a note; 1 分钟 with a space, as the vendor writes it.
//
// Each refusal says what most likely happened and the next step that can
// help. Where the bot cannot know who is at fault (a signature that does
// not check, a link off the vendor's address, a failure that may be the
// network or a proxy), it says what it saw, not that the vendor erred.
var chinese = &words{
	progress: func(record string) string {
		return fmt.Sprintf("正在获取背调号 %s 的临时报告……", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("**用法：**`%[1]s 背调号`，例如 `%[1]s 20190415152645093983751`。\n"+
			"机器人会把对应背调的临时报告链接发给你，仅你本人可见。链接生成 1 分钟后失效，过期后可点击“获取新链接”。", command)
	},
	rule: "只有**进行中**且**至少一项调查项已完成**的背调才能生成临时报告。",
	denied: func(user string) string {
		return fmt.Sprintf("抱歉，你暂无获取临时报告的权限。请联系{contact}开通，并提供你的成员 ID：`%s`。", user)
	},
	unconfirmed: "暂时无法确认你的权限，请几分钟后再试。如问题仍然存在，请联系机器人管理员。",
	restarting:  "机器人正在重启，请几秒后再试。",
	interrupted: func(command, record string) string {
		return fmt.Sprintf("机器人正在重启，你的请求未能完成。请 1 分钟后重新输入 `%s %s`。", command, record)
	},
	limited: func(wait string) string {
		return fmt.Sprintf("你的查询过于频繁，请 %s后再试。", wait)
	},
	busy: func(wait string) string {
		return fmt.Sprintf("当前查询的人较多，请 %s后再试。", wait)
	},
	seconds:       func(n int) string { return fmt.Sprintf("%d 秒", n) },
	timeout:       "获取临时报告超时，请 1 分钟后再试。",
	badSignature:  "收到的结果未通过签名校验，无法确认来自易背调，为安全起见不显示链接。请 1 分钟后再试；如问题仍然存在，请联系机器人管理员。",
	badResponse:   "收到的结果无法识别，因此不显示链接。请 1 分钟后再试；如问题仍然存在，请联系机器人管理员。",
	untrusted:     "收到的报告链接不在允许的安全地址范围内（须为易背调的 https 地址），为安全起见不显示。请联系机器人管理员。",
	misconfigured: "抱歉，机器人配置有误，暂时无法获取临时报告。请联系机器人管理员查看日志。",
	accountUnavailable: func(code string) string {
		return fmt.Sprintf("易背调企业账号当前不可用（错误码 %s），暂时无法获取临时报告。请联系公司负责易背调账号的同事或机器人管理员。", code)
	},
	transient: "暂时无法获取临时报告，可能是网络或易背调服务异常，请 1 分钟后再试。",
	refused: func(record string) string {
		return fmt.Sprintf("未能获取背调号 %s 的临时报告：", record)
	},
	vendorCode:  func(code string) string { return fmt.Sprintf("（错误码 %s）。", code) },
	noReason:    "未返回可显示的原因",
	linkRemoved: "【链接已隐藏】",
	checkRecord: "请核对背调号，并在易背调中查看该背调记录的状态，符合条件后再试。",
	internal:    "抱歉，机器人内部出错，请稍后再试。如问题仍然存在，请联系机器人管理员。",
	noRoute:     "机器人无法在此回复：该请求没有来自 Slack 的回复地址。请联系机器人管理员。",
	unreadable:  "抱歉，机器人无法识别这条命令，请重新输入。",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("本机器人只处理 `%s` 命令，无法处理你输入的命令。请把你输入的命令告诉机器人管理员。", command)
	},
	notDigits:   "背调号只包含数字 0 至 9，请核对后重新输入。",
	phoneOrDate: "未找到背调号（电话号码和日期不计在内），请核对后重新输入。",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("背调号通常为 23 位数字（%d 至 %d 位均可识别），你输入的数字有 %d 位，请核对后重新输入。", lo, hi, n)
	},
	noRecord:          "这个按钮没有附带背调号，请直接输入命令和背调号查询。",
	noRecordInMessage: "这条消息中似乎没有背调号（10 至 32 位数字；电话号码、日期和链接中的数字不计在内）。",
	choose: func(n, shown int) string {
		return fmt.Sprintf("这条消息中有 %d 个背调号，%s", n, pick(n, shown))
	},
	listLabel: "背调号：",

	reportTitle: func(record string) string { return fmt.Sprintf("背调号 %s 的临时报告", record) },
	openReport:  "打开报告",
	expiresIn:   func(minutes int) string { return fmt.Sprintf("链接 %d 分钟后失效", minutes) },
	// Slack shows the date in each reader's own time zone; this fallback is
	// for clients that cannot (and the demo's terminal).
	expiresAt: func(when time.Time) string {
		return when.In(yibeidiao.Beijing).Format("15:04:05") + "（北京时间）"
	},
	onlyYou:   "此消息仅你本人可见，请勿转发链接。",
	freshLink: "获取新链接",

	checkNumber: "请核对背调号是否正确，背调号通常为 23 位数字。",
	chooseTyped: func(n, shown int) string {
		return fmt.Sprintf("你输入了 %d 个背调号，%s", n, pick(n, shown))
	},
	cut:            "这条消息太长，只读取了开头部分，之后的背调号未被识别。",
	expiresAtLabel: "有效期至 ",
	labelSep:       "：",
	listSep:        "、",
	partSep:        "，",
	sentences:      func(s ...string) string { return strings.Join(s, "") },
}

// pick says how to choose among n records of which the first shown are
// offered.
func pick(n, shown int) string {
	if shown >= n {
		return "点击要查看的背调号即可获取链接。"
	}
	return fmt.Sprintf("以下列出前 %d 个，点击即可获取对应链接。", shown)
}
