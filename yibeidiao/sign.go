package yibeidiao

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Beijing is the vendor's time zone. China has kept UTC+8 without daylight
// saving since 1991, so a fixed zone is exact and needs no tz database (the
// distroless image has none).
var Beijing = time.FixedZone("CST", 8*60*60)

// TimestampLayout is the vendor's ts format, yyyyMMddHHmmss, read in [Beijing].
const TimestampLayout = "20060102150405"

// Sign returns the vendor's signature of one request or response: the
// uppercase hex MD5 of key, ts, seq and token concatenated with no separator.
// The vendor compares signatures without regard to case.
func Sign(key, ts, seq, token string) string {
	sum := md5.Sum([]byte(key + ts + seq + token))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// FormatTimestamp renders t as the vendor's ts header: Beijing time, 14 digits.
func FormatTimestamp(t time.Time) string { return t.In(Beijing).Format(TimestampLayout) }

// ParseTimestamp reads a vendor ts value as Beijing time.
func ParseTimestamp(ts string) (time.Time, error) {
	return time.ParseInLocation(TimestampLayout, ts, Beijing)
}

// NewSeq returns a request serial number that is unique across calls,
// restarts and replicas: the UTC second (14 digits) and 64 random bits
// (16 uppercase hex digits), 30 ASCII letters and digits in all. The vendor
// rejects a reused seq with code 902.
func NewSeq() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead).
	return time.Now().UTC().Format(TimestampLayout) + strings.ToUpper(hex.EncodeToString(b[:]))
}
