// Package strictjson decodes JSON objects more strictly than encoding/json's Unmarshal.
//
// Every function here accepts only valid UTF-8 holding exactly one JSON object followed by
// nothing but whitespace. [Strings] and [Members] also match member names exactly (no case
// folding) against the names the caller allows and refuse unknown, duplicate and missing
// required members. Errors are short messages that are safe to show to a client; they quote at
// most 32 bytes of a member name the caller did not expect. Nothing here panics on any input.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Object checks the frame of data: valid UTF-8, one JSON object, nothing after it. It reads the
// opening brace and then calls members, which must read the object's members and its closing
// brace from dec (a decoder with UseNumber set).
func Object(data []byte, members func(dec *json.Decoder) error) error {
	if !utf8.Valid(data) {
		return errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errors.New("invalid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	if err := members(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// UnknownMemberError reports a member name the caller does not allow.
type UnknownMemberError struct {
	Name string
}

func (e *UnknownMemberError) Error() string { return "unknown field " + quoteShort(e.Name) }

// Strings decodes data as one JSON object whose members are exactly names, each once and each
// a string.
func Strings(data []byte, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	err := decode(data, names, func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}, func(dec *json.Decoder, name string) error {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("invalid JSON")
		}
		v, ok := tok.(string)
		if !ok {
			return fmt.Errorf("field %q must be a string", name)
		}
		out[name] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Members decodes data as one JSON object whose member names are keys of allowed, each at most
// once; those mapped to true are required. It returns each member's value as it stands in data
// (any JSON value, not looked into).
func Members(data []byte, allowed map[string]bool) (map[string]json.RawMessage, error) {
	var required []string
	for name, req := range allowed {
		if req {
			required = append(required, name)
		}
	}
	out := map[string]json.RawMessage{}
	err := decode(data, required, func(name string) bool {
		_, ok := allowed[name]
		return ok
	}, func(dec *json.Decoder, name string) error {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errors.New("invalid JSON")
		}
		out[name] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decode reads the object in data: for each member, it checks the name with known and refuses a
// second member of that name, then value reads the value. After the object it requires every
// name in required to have been seen.
func decode(data []byte, required []string, known func(name string) bool, value func(dec *json.Decoder, name string) error) error {
	seen := map[string]bool{}
	err := Object(data, func(dec *json.Decoder) error {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return errors.New("invalid JSON")
			}
			name, _ := tok.(string)
			if !known(name) {
				return &UnknownMemberError{Name: name}
			}
			if seen[name] {
				return fmt.Errorf("field %q given twice", name)
			}
			seen[name] = true
			if err := value(dec, name); err != nil {
				return err
			}
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
			return errors.New("invalid JSON")
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range required {
		if !seen[n] {
			return fmt.Errorf("field %q is missing", n)
		}
	}
	return nil
}

// quoteShort quotes s, cut to 32 bytes (at a character boundary) and marked "..." when cut.
func quoteShort(s string) string {
	if len(s) > 32 {
		n := 32
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return strconv.Quote(s[:n]) + "..."
	}
	return strconv.Quote(s)
}
