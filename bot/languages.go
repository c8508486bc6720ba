package bot

import "strings"

// The catalogues, by language: what the bot says, and what it says on the
// surfaces beyond a message. A file above every catalogue, so that none of
// them refers to another.

// Languages are the languages the bot speaks; [Config.Language] takes
// these and what [Language] reads as them.
var Languages = []string{"en", "zh"}

// Language reads a language tag as one of [Languages]: "zh-CN", "zh_Hans"
// and "ZH" are "zh"; "en-GB" is "en". ok is false for any other language.
func Language(tag string) (lang string, ok bool) {
	tag = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-")
	base, _, _ := strings.Cut(tag, "-")
	// Traditional Chinese readers are not served Simplified by surprise.
	if _, ok := catalogues[base]; !ok || strings.HasPrefix(tag, "zh-tw") || strings.HasPrefix(tag, "zh-hk") || strings.HasPrefix(tag, "zh-hant") {
		return "", false
	}
	return base, true
}

var catalogues = map[string]*words{"en": english, "zh": chinese}

// surface is w's words for the surfaces beyond a message.
func (w *words) surface() *surfaceWords { return surfaceCatalogues[w] }

var surfaceCatalogues = map[*words]*surfaceWords{english: englishSurfaces, chinese: chineseSurfaces}
