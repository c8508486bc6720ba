package bot

// route is where an answer goes after the ack.
type route struct {
	kind        routeKind
	responseURL string // routeResponseURL
	channel     string // routeEphemeral, routeDirect
	user        string // routeEphemeral, routeHome
	thread      string // routeEphemeral: the thread's ts, "" outside a thread
	trigger     string // routeViewOpen
	viewID      string // routeViewUpdate
}

type routeKind int

const (
	routeNone        routeKind = iota // nowhere: the ack is the only way back
	routeResponseURL                  // the interaction's or command's response URL
	routeEphemeral                    // chat.postEphemeral: seen by one person, in a channel or thread
	routeDirect                       // chat.postMessage to the person's own DM with the app
	routeViewOpen                     // views.open with a trigger: a form
	routeViewUpdate                   // views.update: the form the person has open
	routeHome                         // views.publish: the person's App Home
)

// webAPIMethods are the Web API methods routes post to, with the scope or
// setting each needs, for the log when Slack refuses.
var webAPIMethods = map[routeKind]struct{ method, needs string }{
	routeEphemeral:  {"chat.postEphemeral", "the chat:write scope"},
	routeDirect:     {"chat.postMessage", "the chat:write scope"},
	routeViewOpen:   {"views.open", "interactivity, and the global shortcut in the app's settings"},
	routeViewUpdate: {"views.update", "interactivity in the app's settings"},
	routeHome:       {"views.publish", "the Home tab (App Home > Show Tabs)"},
}

// showsView reports whether the route shows a view (a form, the Home tab)
// rather than a message.
func (r route) showsView() bool {
	return r.kind == routeViewOpen || r.kind == routeViewUpdate || r.kind == routeHome
}

// envelope wraps an answer's JSON (a message, or a view) for its route:
// as it is for a response URL, with the route's arguments for the Web API.
func (r route) envelope(dst, answer []byte) []byte {
	field := func(name, value string) {
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		dst = appendString(dst, value)
		dst = append(dst, ',')
	}
	switch r.kind {
	case routeResponseURL:
		return append(dst, answer...)
	case routeEphemeral, routeDirect:
		// A message's own JSON, with the route's arguments in front.
		dst = append(dst, '{')
		field("channel", r.channel)
		if r.kind == routeEphemeral {
			field("user", r.user)
		}
		if r.thread != "" {
			field("thread_ts", r.thread)
		}
		return append(dst, answer[1:]...)
	}
	dst = append(dst, '{')
	switch r.kind {
	case routeViewOpen:
		field("trigger_id", r.trigger)
	case routeViewUpdate:
		field("view_id", r.viewID) // no hash: the ack may have replaced the view the submission's hash names
	case routeHome:
		field("user_id", r.user)
	}
	dst = append(dst, `"view":`...)
	return append(append(dst, answer...), '}')
}
