package bot

// Contact is who people are sent to for access: a Slack user, a channel,
// or words. At most one is set.
type Contact struct {
	User    string // a user ID, shown as a mention
	Channel string // a channel ID, shown as a link to it
	Words   string // anything else, shown as it is
}

// Surface names a way in, as the app is set up in Slack.
type Surface string

// The surfaces.
const (
	SurfaceCommand         Surface = "command"          // the slash command
	SurfaceMessageShortcut Surface = "message_shortcut" // "Get temporary report" on a message
	SurfaceForm            Surface = "form"             // the global shortcut that opens the form
	SurfaceHome            Surface = "home"             // the App Home tab
	SurfaceMention         Surface = "mention"          // @tempreport in a channel or thread
	SurfaceDM              Surface = "dm"               // a direct message to the app
)

// Surfaces lists every surface, in the order the App Home describes them.
var Surfaces = []Surface{SurfaceCommand, SurfaceForm, SurfaceMessageShortcut, SurfaceMention, SurfaceDM, SurfaceHome}
