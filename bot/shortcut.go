package bot

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hr-tools/tempreport/internal/cleantext"
)

// What does not count as a record number in a message.
var (
	// Slack's own tokens: links, user and channel mentions, dates.
	slackToken = regexp.MustCompile(`<[^<>]*>`)
	// Dates and times written with separators: 2024-12-02, 2024/12/2,
	// 2024年12月2日, 10:30, 10:30:59.
	dateTime = regexp.MustCompile(`[0-9]{2,4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]\s*[0-9]{1,2}\s*日?|[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?`)
	// Phone numbers with a country code or separators: +86 138 1234 5678,
	// 010-12345678, (021) 1234 5678.
	phone = regexp.MustCompile(`\+[0-9][0-9 ()-]{6,}[0-9]|\(?0[0-9]{2,3}\)?[ -][0-9]{3,4}[ -]?[0-9]{4}|1[3-9][0-9][ -][0-9]{4}[ -][0-9]{4}`)
	// A mainland mobile number: 11 digits starting 13 to 19.
	mobile   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	digitRun = regexp.MustCompile(`[0-9]+`)
)

// FindRecords finds the record numbers a message names, in order, each
// once: runs of 10 to 32 digits (ASCII or full-width), as the command
// takes them. Numbers in links and domains, in Slack's mentions and date
// tokens, in dates and times, in phone numbers, and digits that are part of
// a longer word (ABC1234567890) do not count.
func FindRecords(text string) []string {
	text = fullWidthDigits.Replace(cleantext.String(text))
	text = slackToken.ReplaceAllLiteralString(text, " ")
	text = cleantext.ReplaceLinks(text, " ")
	text = dateTime.ReplaceAllLiteralString(text, " ")
	text = phone.ReplaceAllLiteralString(text, " ")
	var found []string
	for _, loc := range digitRun.FindAllStringIndex(text, -1) {
		run := text[loc[0]:loc[1]]
		if len(run) < minRecordDigits || len(run) > maxRecordDigits || inWord(text, loc[0], loc[1]) ||
			mobile.MatchString(run) || isCompactDateTime(run) || slices.Contains(found, run) {
			continue
		}
		found = append(found, run)
	}
	return found
}

// inWord reports whether the digits at text[i:j] are part of a longer
// identifier: letters or joiners right before or after them.
func inWord(text string, i, j int) bool {
	joined := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("_-+@#/\\=&%$", c) >= 0
	}
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	if i > 0 && (joined(text[i-1]) || text[i-1] == '.' && i > 1 && alnum(text[i-2])) {
		return true
	}
	if j < len(text) && (joined(text[j]) || text[j] == '.' && j+1 < len(text) && text[j+1] >= '0' && text[j+1] <= '9') {
		return true
	}
	return false
}

// isCompactDateTime reports whether a run is a time written without
// separators: yyyyMMddHHmm or yyyyMMddHHmmss in this century.
func isCompactDateTime(run string) bool {
	layout := map[int]string{12: "200601021504", 14: "20060102150405"}[len(run)]
	if layout == "" {
		return false
	}
	t, err := time.Parse(layout, run)
	return err == nil && t.Year() >= 2000 && t.Year() < 2100
}
