package triggers_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestDefineInvokeMatchesHandle: the binary's fast path (Invoke) gives the same event back as
// Handle for every DefineAuthChallenge fixture, user attributes included.
func TestDefineInvokeMatchesHandle(t *testing.T) {
	files, _ := filepath.Glob("testdata/define*.json")
	if len(files) == 0 {
		t.Fatal("no define fixtures")
	}
	d := &triggers.Define{Config: allCfg}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.CognitoEventUserPoolsDefineAuthChallenge
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			want, _ := d.Handle(context.Background(), ev)
			out, err := d.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var got events.CognitoEventUserPoolsDefineAuthChallenge
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("Invoke answered invalid JSON %s: %v", out, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Invoke and Handle differ:\n invoke %+v\n handle %+v", got, want)
			}
		})
	}
}

func TestDefineInvokeMalformed(t *testing.T) {
	d := &triggers.Define{Config: allCfg}
	for _, p := range []string{``, `{`, `[]`, `{"request":{"session":"x"}}`, `{"request":{"session":[{"challengeResult":"yes"}]}}`} {
		if _, err := d.Invoke(context.Background(), []byte(p)); err == nil {
			t.Errorf("payload %q accepted", p)
		}
	}
	// A well-formed event with nothing in it fails closed: no session means a first round, and an
	// empty history entry fails.
	out, err := d.Invoke(context.Background(), []byte(`{"request":{"session":[{}]}}`))
	if err != nil || !strings.Contains(string(out), `"failAuthentication":true`) {
		t.Errorf("empty history entry: %s %v", out, err)
	}
}
