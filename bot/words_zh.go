package bot

import (
	"fmt"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// chinese is what the bot says in Simplified Chinese, in the words HR teams
// in mainland China use with 易背调: 背调号 (the record number), 临时报告,
// 调查项; mainland punctuation; 1 分钟 with a space, as the vendor writes it.
var chinese = &words{
	progress: func(record string) string {
		return fmt.Sprintf("正在获取背调号 %s 的临时报告…", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("**用法：** `%[1]s 背调号`，例如 `%[1]s 20190415152645093983751`。\n"+
			"你将收到该背调的临时报告链接，仅你本人可见。链接生成 1 分钟后失效，如需再次查看，请点击“获取新链接”。", command)
	},
	rule: "只有**进行中**且**至少一项调查项已完成**的背调才能生成临时报告。",
	denied: func(user string) string {
		return fmt.Sprintf("抱歉，你暂无获取临时报告的权限。请联系机器人管理员开通，并提供你的 Slack 用户 ID：`%s`。", user)
	},
	unconfirmed: "暂时无法确认你的权限，请几分钟后再试。如问题持续，请联系机器人管理员。",
	restarting:  "机器人正在重启，请几秒后再试。",
	interrupted: func(command, record string) string {
		return fmt.Sprintf("机器人正在重启，你的请求未能完成。请 1 分钟后重新输入 `%s %s`。", command, record)
	},
	limited: func(wait string) string {
		return fmt.Sprintf("你的查询过于频繁，已达到个人查询上限，请 %s后再试。", wait)
	},
	busy: func(wait string) string {
		return fmt.Sprintf("当前查询量较大，已达到机器人的总查询上限，请 %s后再试。", wait)
	},
	seconds:            func(n int) string { return fmt.Sprintf("%d 秒", n) },
	timeout:            "易背调响应超时，请 1 分钟后再试。",
	unverifiable:       "易背调返回结果的签名校验未通过，为安全起见，不显示链接。请 1 分钟后再试；如问题持续，请联系机器人管理员。",
	badResponse:        "易背调返回的内容无法识别，因此不显示链接。请 1 分钟后再试；如问题持续，请联系机器人管理员。",
	untrusted:          "易背调返回的链接不是其官方安全地址，为安全起见，不显示链接。请联系机器人管理员。",
	misconfigured:      "抱歉，机器人配置有误，暂时无法获取临时报告。请联系机器人管理员查看日志。",
	accountUnavailable: "易背调提示贵公司的企业账号当前不可用，暂时无法获取临时报告。请告知机器人管理员。",
	transient:          "易背调服务暂时异常，请 1 分钟后再试。",
	refused: func(record string) string {
		return fmt.Sprintf("易背调未能生成背调号 %s 的临时报告：", record)
	},
	vendorCode:  func(code string) string { return fmt.Sprintf("（错误码 %s）。", code) },
	noReason:    "易背调未说明原因",
	linkRemoved: "[链接已隐藏]",
	checkRecord: "请在易背调中核对该背调的状态后再试。",
	internal:    "抱歉，机器人内部出错。请重试；如问题持续，请联系机器人管理员。",
	unreadable:  "抱歉，机器人无法识别这条命令，请重试。",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("本机器人只响应 `%s` 命令。请告知机器人管理员你输入的命令。", command)
	},
	notOneWord: "请只输入一个背调号，前后不要加其他内容。",
	notDigits:  "背调号只能包含数字。",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("背调号通常为 23 位数字（可接受 %d 至 %d 位），你输入了 %d 位，请核对后重新输入。", lo, hi, n)
	},
	noRecord:          "此按钮未附带背调号。",
	noRecordInMessage: "这条消息中没有背调号（10 至 32 位数字）。",
	choose: func(n int) string {
		return fmt.Sprintf("这条消息中有 %d 个背调号，请选择要查看的一个。点击按钮后才会获取链接。", n)
	},
	firstOnly: func(n, shown int) string { return fmt.Sprintf("共 %d 个，以下列出前 %d 个。", n, shown) },

	reportTitle: func(record string) string { return fmt.Sprintf("背调号 %s 的临时报告", record) },
	openReport:  "打开报告",
	expiresIn:   func(minutes int) string { return fmt.Sprintf("链接 %d 分钟后失效", minutes) },
	// Slack shows the date in each reader's own time zone; this fallback is
	// for clients that cannot (and the demo's terminal).
	expiresAt: func(when time.Time) string { return "北京时间 " + when.In(yibeidiao.Beijing).Format("15:04:05") },
	onlyYou:   "此消息仅你本人可见，请勿转发链接。",
	freshLink: "获取新链接",
}
