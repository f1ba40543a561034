package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// concurrentCalls sends n copies of r to h at once (all goroutines wait at one barrier) and
// returns the status codes.
func concurrentCalls(t *testing.T, n int, handle func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), r events.APIGatewayV2HTTPRequest) []int {
	t.Helper()
	return dynalitetest.AtOnce(n, func(int) int {
		resp, err := handle(context.Background(), r)
		if err != nil {
			t.Error(err)
		}
		return resp.StatusCode
	})
}

func countStatuses(statuses []int) map[int]int {
	m := map[int]int{}
	for _, s := range statuses {
		m[s]++
	}
	return m
}

// counter reads a per-user counter of the META item (failing the test when it is missing or
// not an integer).
func counter(t *testing.T, tb *storetest.Table, owner, attr string) int {
	t.Helper()
	return int(tb.Num(t, "USER#"+owner, "META", attr))
}

// newDynalitePKEnv is a pkEnv whose handler uses the real store on a fresh dynalite table
// (also returned), passkeys capped at 2, the clock starting now, and the authenticator a.
func newDynalitePKEnv(t *testing.T, a *softauthn.Authenticator) (*pkEnv, *storetest.Table) {
	t.Helper()
	clk := storetest.NewClock(time.Now().UTC())
	tb := storetest.New(t, "keys", store.WithClock(clk.Now))
	cfg := pkConfig()
	cfg.MaxPerUser = 2
	rp, err := passkey.NewRP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &pkEnv{rp: rp, clk: clk, cog: newFakeCognito(), a: a}
	e.h = api.New(clientID, nil).WithTokenChecker(e.cog.checker()).WithPasskeys(tb.Store, api.PasskeyConfig{RP: rp, Now: clk.Now})
	return e, tb
}

// TestConcurrentDeviceKeyRevokes (issue 10, attack 15): simultaneous DELETE /device-keys/{id}
// of one key against the real store: exactly one 204, the others 404, the counter drops by one,
// and the cap still holds afterwards.
func TestConcurrentDeviceKeyRevokes(t *testing.T) {
	tb := storetest.New(t, "keys")
	const limit = 3
	h := newHandler(tb.Store, api.DeviceKeyConfig{MaxPerUser: limit})
	var ids []string
	for i := range limit {
		ids = append(ids, register(t, h, subA, newP256(t), "key "+strconv.Itoa(i)).KeyID)
	}
	got := countStatuses(concurrentCalls(t, 8, h.Handle, request(api.RouteRevokeDeviceKey, subA, ids[0], "")))
	if got[http.StatusNoContent] != 1 || got[http.StatusNotFound] != 7 {
		t.Fatalf("8 concurrent revokes of one key answered %v, want one 204 and seven 404", got)
	}
	if n := counter(t, tb, subA, "deviceKeyCount"); n != limit-1 {
		t.Fatalf("deviceKeyCount %d after revoking one of %d keys", n, limit)
	}
	register(t, h, subA, newP256(t), "replacement")
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "one too many"))), http.StatusConflict, api.CodeKeyLimit)
	if l := list(t, h, subA); len(l.Keys) != limit {
		t.Fatalf("%d keys with a cap of %d", len(l.Keys), limit)
	}
}

// TestConcurrentPasskeyDeletes is TestConcurrentDeviceKeyRevokes for DELETE /passkeys/{id}.
func TestConcurrentPasskeyDeletes(t *testing.T) {
	e, tb := newDynalitePKEnv(t, &softauthn.Authenticator{RPID: pkRPID, Origin: pkOrigin, UV: true})
	fresh := withAuthTime(e.clk.Now().Add(-time.Second))
	reg := func(name string) (string, int) {
		o := e.options(t, subA, "", fresh)
		cred, js, err := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
		if err != nil {
			t.Fatal(err)
		}
		r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, name), fresh))
		return base64.RawURLEncoding.EncodeToString(cred.ID), r.StatusCode
	}
	first, s1 := reg("one")
	if _, s2 := reg("two"); s1 != 201 || s2 != 201 {
		t.Fatalf("registrations: %d %d", s1, s2)
	}
	got := countStatuses(concurrentCalls(t, 8, e.h.Handle, request(api.RouteDeletePasskey, subA, first, "")))
	if got[http.StatusNoContent] != 1 || got[http.StatusNotFound] != 7 {
		t.Fatalf("8 concurrent deletes of one passkey answered %v, want one 204 and seven 404", got)
	}
	if n := counter(t, tb, subA, "passkeyCount"); n != 1 {
		t.Fatalf("passkeyCount %d after deleting one of 2 passkeys", n)
	}
	if _, s := reg("three"); s != 201 {
		t.Fatalf("registration into the freed slot: %d", s)
	}
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "", fresh)), http.StatusConflict, api.CodePasskeyLimit)
	if l := e.list(t, subA); len(l) != 2 {
		t.Fatalf("%d passkeys with a cap of 2", len(l))
	}
}
