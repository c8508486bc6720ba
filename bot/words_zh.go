package bot

import (
	"fmt"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// chinese is what the bot says in Simplified Chinese, as an HR team in
// China expects to read it. 背调编号 is what 易背调 calls a record number.
var chinese = &words{
	progress: func(record string) string {
		return fmt.Sprintf("正在获取背调编号 %s 的临时报告…", record)
	},
	usage: func(command string) string {
		return fmt.Sprintf("*用法：*`%[1]s <背调编号>`，例如 `%[1]s 20190415152645093983751`。\n"+
			"你会收到一条仅自己可见的临时报告链接。链接生成 1 分钟后失效，点击「*获取新链接*」可重新生成。", command)
	},
	rule: "只有*进行中*且*至少有一项调查已完成*的背调，才能生成临时报告。",
	denied: func(user string) string {
		return fmt.Sprintf("抱歉，你还没有查看背调报告的权限。请联系机器人管理员开通，并把你的 Slack 用户 ID `%s` 发给对方。", user)
	},
	unconfirmed: "你的权限来自一个 Slack 用户组，但机器人暂时读取不到该用户组，无法确认你的权限。请过几分钟再试；如果一直这样，请联系机器人管理员。",
	restarting:  "机器人正在重启，请几秒钟后再试。",
	interrupted: func(command, record string) string {
		return fmt.Sprintf("机器人正在重启，没能完成你的请求。请一分钟后重新输入 `%s %s`。", command, record)
	},
	limited: func(wait string) string {
		return fmt.Sprintf("你短时间内查询得比较多，已达到个人查询上限，%s后可以再次查询。", wait)
	},
	busy: func(wait string) string {
		return fmt.Sprintf("现在大家的查询请求较多，已达到机器人整体的查询上限，请 %s后再试。", wait)
	},
	seconds:       func(n int) string { return fmt.Sprintf("%d 秒", n) },
	timeout:       "易背调响应超时，请一分钟后再试。",
	unverifiable:  "易背调返回结果的签名校验未通过，为安全起见不显示链接。请一分钟后再试；如果一直这样，请联系机器人管理员。",
	badResponse:   "易背调返回了无法识别的内容，因此不显示链接。请一分钟后再试；如果一直这样，请联系机器人管理员。",
	untrusted:     "易背调返回的链接不在其官方安全地址上，无法信任，因此不显示链接。请联系机器人管理员。",
	misconfigured: "抱歉，机器人配置有误，暂时无法获取报告。请联系机器人管理员查看日志。",
	transient:     "易背调服务暂时出现问题，请一分钟后再试。",
	refused: func(record, message, code string) string {
		return fmt.Sprintf("易背调未能生成背调编号 %s 的报告：%s（错误码 %s）。\n请在易背调中确认这份背调的状态后再试。", record, message, code)
	},
	internal:   "抱歉，机器人内部出错了。请再试一次；如果一直这样，请联系机器人管理员。",
	unreadable: "抱歉，机器人没能识别这条命令，请再试一次。",
	wrongCommand: func(command string) string {
		return fmt.Sprintf("本机器人只响应 `%s` 命令。请告诉机器人管理员你输入的是哪个命令。", command)
	},
	notOneWord: "请只输入一个背调编号，前后不要加其他内容。",
	notDigits:  "背调编号只能由数字 0–9 组成。",
	wrongLength: func(lo, hi, n int) string {
		return fmt.Sprintf("背调编号应为 %d 到 %d 位数字（通常是 23 位），你输入的是 %d 位。", lo, hi, n)
	},
	noRecord: "这个按钮没有附带背调编号。",

	reportTitle: func(record string) string { return fmt.Sprintf("背调编号 %s 的临时报告", record) },
	openReport:  "打开报告",
	expiresIn:   func(minutes int) string { return fmt.Sprintf("链接 %d 分钟后失效", minutes) },
	expiresAt:   func(when time.Time) string { return "北京时间 " + when.In(yibeidiao.Beijing).Format("15:04:05") },
	expiryNote: func(warning, when string) string {
		return fmt.Sprintf(":hourglass_flowing_sand: *%s*（%s）。此消息仅你可见，请勿转发链接。", warning, when)
	},
	fallback: func(title, link, warning, when string) string {
		return fmt.Sprintf("%s：%s —— %s（%s）。", title, link, warning, when)
	},
	freshLink: "获取新链接",
}
