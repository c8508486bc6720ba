package slacktest

// NewResponseURL registers an envelope that is never sent over a socket:
// its ResponseURL is for a payload delivered another way (HTTP request
// mode), and its posts are recorded like any envelope's.
func (s *Server) NewResponseURL(typ string) *Envelope { return s.newEnvelope(typ) }
