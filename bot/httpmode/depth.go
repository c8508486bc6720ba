package httpmode

// depth is how deeply JSON arrays and objects nest in b: the most '[' and
// '{' open at once, outside strings. It reads b once, without decoding it,
// and needs b to be neither valid nor whole; for valid JSON it is what a
// decoder would meet. Unbalanced closers count as nothing.
func depth(b []byte) int {
	deepest, open := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			open++
			deepest = max(deepest, open)
		case c == ']' || c == '}':
			open = max(0, open-1)
		}
	}
	return deepest
}
