package httpmode

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{``, 0},
		{`"x"`, 0},
		{`{}`, 1},
		{`[[],[]]`, 2},
		{`{"a":[{"b":{}}]}`, 4},
		{`{"a":"[[[[{{{{"}`, 1},
		{`{"a":"\"[[[["}`, 1},
		{`{"a":"\\"}[[`, 2},
		{`]]]]{`, 1},
		{strings.Repeat("[", 100), 100},
		{`{"blocks":[{"type":"rich_text","elements":[{"type":"rich_text_list","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"x","style":{"bold":true}}]}]}]}]}`, 10},
	}
	for _, tt := range tests {
		if got := depth([]byte(tt.in)); got != tt.want {
			t.Errorf("depth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// decodedDepth is what encoding/json meets in valid JSON: the reference
// depth is checked against.
func decodedDepth(b []byte) (int, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	deepest, open := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return deepest, nil
		}
		if err != nil {
			return 0, err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			open++
			deepest = max(deepest, open)
		case json.Delim(']'), json.Delim('}'):
			open--
		}
	}
}

func FuzzDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[1,[2,{"a":"]"}]]`, `{"a":"\"{"}`, `"\\"`, `{"x":{"y":[[[]]]}}`, `[`, `}{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := depth(b) // never panics, whatever b is
		if !json.Valid(b) {
			return
		}
		want, err := decodedDepth(b)
		if err != nil {
			t.Fatalf("json.Valid(%q) but the decoder failed: %v", b, err)
		}
		if got != want {
			t.Errorf("depth(%q) = %d, want %d", b, got, want)
		}
	})
}
