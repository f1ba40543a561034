package strictjson_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

func TestStrings(t *testing.T) {
	got, err := strictjson.Strings([]byte(" {\"a\":\"1\",\"b\":\"2\"}\n"), "a", "b")
	if err != nil || got["a"] != "1" || got["b"] != "2" || len(got) != 2 {
		t.Fatalf("Strings = %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"":                        "invalid JSON",
		"[]":                      "not a JSON object",
		"\xff":                    "not valid UTF-8",
		`{"a":"1"}`:               `field "b" is missing`,
		`{"a":"1","b":"2"} {}`:    "unexpected data after the JSON object",
		`{"a":"1","a":"2"}`:       `field "a" given twice`,
		`{"a":1,"b":"2"}`:         `field "a" must be a string`,
		`{"A":"1","b":"2"}`:       `unknown field "A"`,
		`{"a":"1","b":"2"`:        "invalid JSON",
		`{"` + long + `":"1"}`:    `unknown field "` + long[:32] + `"...`,
		`{"a":"1","b":"2","c":3}`: `unknown field "c"`,
	} {
		if _, err := strictjson.Strings([]byte(in), "a", "b"); err == nil || err.Error() != want {
			t.Errorf("Strings(%q) error = %v, want %q", in, err, want)
		}
	}
	var unknown *strictjson.UnknownMemberError
	if _, err := strictjson.Strings([]byte(`{"x":"1"}`), "a"); !errors.As(err, &unknown) || unknown.Name != "x" {
		t.Errorf("unknown member error = %v", err)
	}
}

const long = "abcdefghijklmnopqrstuvwxyz0123456789"

func TestMembers(t *testing.T) {
	allowed := map[string]bool{"req": true, "opt": false}
	got, err := strictjson.Members([]byte(`{"req":{"x":[1,{"x":2}]}}`), allowed)
	if err != nil || string(got["req"]) != `{"x":[1,{"x":2}]}` || len(got) != 1 {
		t.Fatalf("Members = %v, %v", got, err)
	}
	for in, want := range map[string]string{
		`{"opt":1}`:             `field "req" is missing`,
		`{"req":1,"req":1}`:     `field "req" given twice`,
		`{"req":[1,}`:           "invalid JSON",
		`{"req":1,"other":1}`:   `unknown field "other"`,
		`{"req":1}` + "\x00":    "unexpected data after the JSON object",
		`{"req":1,"opt":"x"}"`:  "unexpected data after the JSON object",
		`{"req":1,"opt":"x"}x`:  "unexpected data after the JSON object",
		`{"req":1,"opt":"x"} 1`: "unexpected data after the JSON object",
	} {
		if _, err := strictjson.Members([]byte(in), allowed); err == nil || err.Error() != want {
			t.Errorf("Members(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestObject(t *testing.T) {
	var names []string
	err := strictjson.Object([]byte(`{"a":1,"b":2}`), func(dec *json.Decoder) error {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			names = append(names, tok.(string))
			var v json.Number
			if err := dec.Decode(&v); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	})
	if err != nil || len(names) != 2 {
		t.Fatalf("Object: %v, names %v", err, names)
	}
}
