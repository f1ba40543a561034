package contact_test

import (
	"context"
	"testing"
)

// FuzzBodies: any body, on either route, gets an answer (no panic) with a status the routes
// document, and an unknown change is never found.
func FuzzBodies(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"email":"a@example.com"}`, `{"phoneNumber":"+447400123456"}`, `{"email":null}`,
		`{"changeId":"AAAAAAAAAAAAAAAAAAAAAA","code":"123456"}`, `{"changeId":"","code":""}`,
		"{\"email\":\"a\u0000@example.com\"}", `[`, `{"email":"a@example.com","email":"b@example.com"}`,
		`{"email":"` + "\xff" + `"}`, `{"code":"1","changeId":"x","x":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newEnv(t, config())
		c := e.caller(victimSub, map[string]string{"email": "me@example.com", "email_verified": "true"})
		allowed := map[int]bool{202: true, 400: true, 429: true}
		if r := e.svc.Start(context.Background(), c, body); !allowed[r.Status] {
			t.Fatalf("start %q: %d %v", body, r.Status, r.Body)
		}
		if r := e.svc.Verify(context.Background(), c, body); r.Status != 400 && r.Status != 404 {
			t.Fatalf("verify %q: %d %v", body, r.Status, r.Body)
		}
	})
}
