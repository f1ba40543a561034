package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/notify/notifytest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// --- fakes ------------------------------------------------------------------------------------

// signOutCognito adds GlobalSignOut to the fake Cognito: it revokes the caller's token (the fake
// has one token per user), or fails with err.
type signOutCognito struct {
	*fakeCognito
	mu     sync.Mutex
	tokens []string
	err    error
}

func (s *signOutCognito) GlobalSignOut(_ context.Context, token string) error {
	s.mu.Lock()
	s.tokens = append(s.tokens, token)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	parts := strings.Split(token, "|")
	if len(parts) != 3 {
		return &awsapi.APIError{Code: "NotAuthorizedException", StatusCode: 400, Fault: smithy.FaultClient}
	}
	s.revoke(parts[1], parts[2])
	return nil
}

func (s *signOutCognito) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

const testSecret = "test deployment secret, 32 bytes or more"

// recoveryEnv is a handler with the device-key, passkey-removal and recovery routes on the real
// store (dynalite), a fake Cognito and a fake notifier.
type recoveryEnv struct {
	h     *api.Handler
	st    *store.Store
	cog   *signOutCognito
	notes *notifytest.Recorder
	logs  *bytes.Buffer
}

func newRecoveryEnv(t *testing.T) *recoveryEnv {
	t.Helper()
	st := storetest.New(t, "keys", store.WithClock(nowFn)).Store
	e := &recoveryEnv{st: st, cog: &signOutCognito{fakeCognito: newFakeCognito()}, notes: &notifytest.Recorder{}, logs: &bytes.Buffer{}}
	e.h = api.New(clientID, slog.New(slog.NewJSONHandler(e.logs, nil))).
		WithTokenChecker(e.cog.checker()).
		WithDeviceKeys(st, api.DeviceKeyConfig{MaxPerUser: 100, Now: nowFn}).
		WithRecovery(api.RecoveryConfig{DeviceKeys: st, Passkeys: st, SignOut: e.cog, Now: nowFn}).
		WithNotifier(e.notes, keyed.MustStatic(testSecret), "")
	return e
}

// putKeys stores n device keys for owner directly.
func (e *recoveryEnv) putKeys(t *testing.T, owner string, n int) {
	t.Helper()
	for i := range n {
		k := store.DeviceKey{Owner: owner, ID: fmt.Sprintf("key-%s-%02d", owner[len(owner)-1:], i), Name: "phone",
			Algorithm: "ES256", Fingerprint: fmt.Sprintf("fp-%d", i), PublicKey: []byte{1, 2, byte(i)}}
		if err := e.st.PutDeviceKey(context.Background(), k, 100); err != nil {
			t.Fatal(err)
		}
	}
}

// putPasskeys stores n passkeys for owner directly and returns their credential IDs.
func (e *recoveryEnv) putPasskeys(t *testing.T, owner string, n int) [][]byte {
	t.Helper()
	var ids [][]byte
	for i := range n {
		id := []byte(fmt.Sprintf("cred-%s-%02d", owner, i))
		p := store.Passkey{Owner: owner, CredentialID: id, UserHandle: []byte(owner), PublicKey: []byte{0xa5, 1, 2},
			SignCount: 1, Name: "laptop"}
		if err := e.st.PutPasskey(context.Background(), p, 100); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

type revoked struct {
	Removed int `json:"removed"`
}

func removedCount(t *testing.T, resp events.APIGatewayV2HTTPResponse) int {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s, want 200", resp.StatusCode, resp.Body)
	}
	var r revoked
	if err := strictUnmarshal(resp.Body, &r); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return r.Removed
}

// listPasskeys is GET /passkeys on the recovery env's handler.
func (e *recoveryEnv) listPasskeys(t *testing.T, sub string) api.PasskeyListJSON {
	t.Helper()
	resp := call(t, e.h, request(api.RouteListPasskeys, sub, "", ""))
	var out api.PasskeyListJSON
	if resp.StatusCode != http.StatusOK || strictUnmarshal(resp.Body, &out) != nil {
		t.Fatalf("list passkeys: %d %s", resp.StatusCode, resp.Body)
	}
	return out
}

// --- routes -----------------------------------------------------------------------------------

// TestRevokeAllDeviceKeysRoute (issue 12, recovery): DELETE /device-keys removes all 30 of the
// caller's keys (more than two pages of the store's revocation), leaves another user's alone,
// answers with the count, and tells the owner once; a retry removes and tells nothing.
func TestRevokeAllDeviceKeysRoute(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 30)
	e.putKeys(t, subB, 2)
	// The listing shows each key's last use.
	used := testNow.Add(-time.Hour).Truncate(time.Millisecond)
	if err := e.st.TouchDeviceKey(context.Background(), subA, "key-a-07", used); err != nil {
		t.Fatal(err)
	}
	l := list(t, e.h, subA)
	seen := false
	for _, k := range l.Keys {
		if k.KeyID == "key-a-07" {
			seen = k.LastUsedAt != nil && *k.LastUsedAt == used.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
	}
	if len(l.Keys) != 30 || !seen {
		t.Fatalf("listing before: %d keys, last use shown %v", len(l.Keys), seen)
	}

	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", ""))); n != 30 {
		t.Fatalf("removed %d, want 30", n)
	}
	if l := list(t, e.h, subA); len(l.Keys) != 0 {
		t.Fatalf("%d keys left", len(l.Keys))
	}
	if l := list(t, e.h, subB); len(l.Keys) != 2 {
		t.Fatalf("another user has %d keys left, want 2", len(l.Keys))
	}
	ev := e.notes.Events()
	if len(ev) != 1 {
		t.Fatalf("%d notifications, want 1: %+v", len(ev), ev)
	}
	if ev[0].Kind != notify.KeyRemoved || ev[0].Detail[notify.DetailCount] != "30" || ev[0].UserName != subA ||
		ev[0].Attributes["email"] != "user@example.com" || ev[0].ID == "" || ev[0].UserPoolID != "eu-west-1_AbCdEf123" {
		t.Fatalf("notification %+v", ev[0])
	}
	// A client retry: nothing left, nothing told.
	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", ""))); n != 0 {
		t.Fatalf("retry removed %d", n)
	}
	if len(e.notes.Events()) != 1 {
		t.Fatalf("a retry that removed nothing notified: %+v", e.notes.Events())
	}
	// The caller can enrol anew.
	register(t, e.h, subA, newP256(t), "new phone")
}

// TestRevokeAllPasskeysRoute is TestRevokeAllDeviceKeysRoute for DELETE /passkeys.
func TestRevokeAllPasskeysRoute(t *testing.T) {
	e := newRecoveryEnv(t)
	ids := e.putPasskeys(t, subA, 30)
	e.putPasskeys(t, subB, 1)
	// GET /passkeys (registered here with a relying party) shows each passkey's last use.
	h := e.h
	used := testNow.Add(-2 * time.Hour).Truncate(time.Millisecond)
	if err := e.st.UsePasskey(context.Background(), subA, ids[3], store.PasskeyUse{SignCount: 2, Challenge: "c1", At: used}); err != nil {
		t.Fatal(err)
	}
	pk := newPKEnv(t, pkConfig())
	e.h = api.New(clientID, nil).WithTokenChecker(e.cog.checker()).WithPasskeys(e.st, api.PasskeyConfig{RP: pk.rp, Now: nowFn}).Handler
	shown := 0
	for _, p := range e.listPasskeys(t, subA).Passkeys {
		if p.LastUsedAt != nil {
			shown++
			if p.ID != base64.RawURLEncoding.EncodeToString(ids[3]) || *p.LastUsedAt != used.Format("2006-01-02T15:04:05.000Z07:00") {
				t.Errorf("last use %v on %s", *p.LastUsedAt, p.ID)
			}
		}
	}
	if shown != 1 {
		t.Fatalf("%d passkeys show a last use, want 1", shown)
	}
	e.h = h

	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, subA, "", ""))); n != 30 {
		t.Fatalf("removed %d, want 30", n)
	}
	if l, _ := e.st.ListPasskeys(context.Background(), subA); len(l) != 0 {
		t.Fatalf("%d passkeys left", len(l))
	}
	if l, _ := e.st.ListPasskeys(context.Background(), subB); len(l) != 1 {
		t.Fatalf("another user has %d passkeys left, want 1", len(l))
	}
	ev := e.notes.Events()
	if len(ev) != 1 || ev[0].Kind != notify.PasskeyRemoved || ev[0].Detail[notify.DetailCount] != "30" || ev[0].UserName != subA {
		t.Fatalf("notifications %+v", ev)
	}
	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, subA, "", ""))); n != 0 {
		t.Fatalf("retry removed %d", n)
	}
	if len(e.notes.Events()) != 1 {
		t.Fatalf("a retry that removed nothing notified")
	}
}

// TestRecoveryRoutesNeedRecentSignIn: the same sign-in freshness as registration (5 minutes by
// default); a stale token removes nothing, signs nobody out and tells nobody.
func TestRecoveryRoutesNeedRecentSignIn(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 2)
	e.putPasskeys(t, subA, 2)
	for _, at := range []time.Time{testNow.Add(-6 * time.Minute), testNow.Add(2 * time.Minute)} {
		for _, rk := range []string{api.RouteRevokeAllDeviceKeys, api.RouteRevokeAllPasskeys, api.RouteSignOutEverywhere} {
			wantError(t, call(t, e.h, request(rk, subA, "", "", withAuthTime(at))), http.StatusForbidden, api.CodeStaleAuth)
		}
	}
	for _, rk := range []string{api.RouteRevokeAllDeviceKeys, api.RouteRevokeAllPasskeys, api.RouteSignOutEverywhere} {
		wantError(t, call(t, e.h, request(rk, subA, "", "", withoutClaim("auth_time"))), http.StatusForbidden, api.CodeStaleAuth)
	}
	e.wantNothingDone(t, subA, 2, 2)
}

// wantNothingDone checks that sub still has keys device keys and passkeys passkeys, and that
// nobody was signed out or notified.
func (e *recoveryEnv) wantNothingDone(t *testing.T, sub string, keys, passkeys int) {
	t.Helper()
	if k, _ := e.st.ListDeviceKeys(context.Background(), sub); len(k) != keys {
		t.Fatalf("%d keys left", len(k))
	}
	if p, _ := e.st.ListPasskeys(context.Background(), sub); len(p) != passkeys {
		t.Fatalf("%d passkeys left", len(p))
	}
	if len(e.cog.calls()) != 0 || len(e.notes.Events()) != 0 {
		t.Fatalf("sign-outs %v, notifications %+v", e.cog.calls(), e.notes.Events())
	}
}

// TestRecoveryRoutesRefuseRevokedTokens: a token Cognito refuses (signed out, revoked) changes
// nothing, however fresh its sign-in.
func TestRecoveryRoutesRefuseRevokedTokens(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 2)
	e.putPasskeys(t, subA, 2)
	e.cog.revoke(subA, subA)
	for _, rk := range []string{api.RouteRevokeAllDeviceKeys, api.RouteRevokeAllPasskeys, api.RouteSignOutEverywhere} {
		wantError(t, call(t, e.h, request(rk, subA, "", "")), http.StatusUnauthorized, api.CodeTokenRevoked)
	}
	e.wantNothingDone(t, subA, 2, 2)
	// ID tokens and tokens of other clients do not reach the routes either.
	wantError(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subB, "", "", withClaim("token_use", "id"))), http.StatusUnauthorized, api.CodeUnauthorized)
	wantError(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subB, "", "", withClaim("client_id", "other"))), http.StatusForbidden, api.CodeForbidden)
}

// TestSignOutEverywhere: Cognito GlobalSignOut with the caller's own access token; after it,
// that token changes nothing more. Cognito's refusal is 401, its failure 503.
func TestSignOutEverywhere(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 1)
	resp := call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", ""))
	var out struct {
		SignedOut bool `json:"signedOut"`
	}
	if resp.StatusCode != http.StatusOK || strictUnmarshal(resp.Body, &out) != nil || !out.SignedOut {
		t.Fatalf("sign out: %d %s", resp.StatusCode, resp.Body)
	}
	if got := e.cog.calls(); len(got) != 1 || got[0] != testToken(subA, subA) {
		t.Fatalf("GlobalSignOut calls %q, want the caller's token once", got)
	}
	// The signed-out token is refused by every route that changes something.
	wantError(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", "")), http.StatusUnauthorized, api.CodeTokenRevoked)
	wantError(t, call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", "")), http.StatusUnauthorized, api.CodeTokenRevoked)
	if k, _ := e.st.ListDeviceKeys(context.Background(), subA); len(k) != 1 {
		t.Fatalf("%d keys left", len(k))
	}
	// Another user is not signed out.
	if resp := call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subB, "", "")); resp.StatusCode != http.StatusOK {
		t.Fatalf("another user: %d %s", resp.StatusCode, resp.Body)
	}

	// Cognito refuses the token between the check and the sign-out: 401; Cognito fails: 503.
	for _, tc := range []struct {
		code   string
		status int
		want   string
	}{
		{"NotAuthorizedException", http.StatusUnauthorized, api.CodeTokenRevoked},
		{"TooManyRequestsException", http.StatusServiceUnavailable, api.CodeUnavailable},
		{"InternalErrorException", http.StatusServiceUnavailable, api.CodeUnavailable},
	} {
		e := newRecoveryEnv(t)
		e.cog.err = &awsapi.APIError{Service: "cognito-idp", Operation: "GlobalSignOut", StatusCode: 400, Code: tc.code}
		wantError(t, call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", "")), tc.status, tc.want)
	}
	e2 := newRecoveryEnv(t)
	e2.cog.err = context.DeadlineExceeded
	wantError(t, call(t, e2.h, request(api.RouteSignOutEverywhere, subA, "", "")), http.StatusServiceUnavailable, api.CodeUnavailable)
}

// fakeRevoker fails after removing some.
type fakeRevoker struct {
	n   int
	err error
}

func (f fakeRevoker) RevokeAllDeviceKeys(context.Context, string) (int, error) { return f.n, f.err }
func (f fakeRevoker) RevokeAllPasskeys(context.Context, string) (int, error)   { return f.n, f.err }

// TestRevokeAllStoreFailure: a store failure answers 500 and asks for a retry; when some
// credentials were removed before it, the owner is told how many (the removal stands).
func TestRevokeAllStoreFailure(t *testing.T) {
	for _, tc := range []struct {
		n       int
		notices int
	}{{0, 0}, {3, 1}} {
		n := &notifytest.Recorder{}
		logs := &bytes.Buffer{}
		r := fakeRevoker{n: tc.n, err: errors.New("dynamodb: throttled")}
		h := api.New(clientID, slog.New(slog.NewJSONHandler(logs, nil))).WithTokenChecker(newFakeCognito().checker()).
			WithRecovery(api.RecoveryConfig{DeviceKeys: r, Passkeys: r, Now: nowFn}).
			WithNotifier(n, keyed.MustStatic(testSecret), "eu-west-1_Pool")
		for _, rk := range []string{api.RouteRevokeAllDeviceKeys, api.RouteRevokeAllPasskeys} {
			wantError(t, call(t, h, request(rk, subA, "", "")), http.StatusInternalServerError, api.CodeInternal)
		}
		ev := n.Events()
		if len(ev) != 2*tc.notices {
			t.Fatalf("removed %d before the failure: %d notifications, want %d", tc.n, len(ev), 2*tc.notices)
		}
		for _, e := range ev {
			if e.Detail[notify.DetailCount] != fmt.Sprint(tc.n) || e.UserPoolID != "eu-west-1_Pool" {
				t.Errorf("notification %+v", e)
			}
		}
		if _, ok := h.Routes[api.RouteSignOutEverywhere]; ok {
			t.Error("sign-out route registered without a Cognito client")
		}
	}
}

// TestAttackStolenFreshTokenRevokesAll (issue 12): whoever holds a freshly issued access token
// (stolen from the device, or a session an intruder just started with a phished code) can
// revoke all of the account's keys and passkeys and sign its owner out everywhere: the API
// cannot tell them from the owner. What the owner gets is the notification, to the account's
// verified address (not to anything the caller sends), which is the detection; the recovery
// path (sign in by code or link, enrol anew) is the remedy. This test pins both halves.
func TestAttackStolenFreshTokenRevokesAll(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 3)
	e.putPasskeys(t, subA, 2)
	stolen := request(api.RouteRevokeAllDeviceKeys, subA, "", "")
	if n := removedCount(t, call(t, e.h, stolen)); n != 3 {
		t.Fatalf("removed %d", n)
	}
	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, subA, "", ""))); n != 2 {
		t.Fatalf("removed %d", n)
	}
	ev := e.notes.Events()
	if len(ev) != 2 || ev[0].Kind != notify.KeyRemoved || ev[1].Kind != notify.PasskeyRemoved {
		t.Fatalf("notifications %+v", ev)
	}
	for _, x := range ev {
		// The recipient comes from Cognito's GetUser for the token, never from the request.
		if x.Attributes["email"] != "user@example.com" || x.Attributes["email_verified"] != "true" {
			t.Errorf("notification not addressed from the account's verified attributes: %+v", x)
		}
	}
	if ev[0].ID == ev[1].ID {
		t.Error("two actions share one event ID")
	}
}

// --- notifications of the single routes -------------------------------------------------------

// TestNotificationsPerEvent: registering and revoking a device key, registering and deleting a
// passkey each tell the owner once, with the right kind and detail and a fresh event ID; a
// refused request, a listing and a rename tell nobody.
func TestNotificationsPerEvent(t *testing.T) {
	n := &notifytest.Recorder{}
	pk := newPKEnv(t, pkConfig())
	pk.h.WithDeviceKeys(newMemStore(), api.DeviceKeyConfig{Now: pk.clk.Now}).
		WithNotifier(n, keyed.MustStatic(testSecret), "")
	h := pk.h.Handler

	k := register(t, h, subA, newP256(t), "Work phone")
	_, p := pk.enroll(t, subA, "Laptop")
	if r := call(t, h, request(api.RouteRenamePasskey, subA, p.ID, `{"name":"Old laptop"}`)); r.StatusCode != 200 {
		t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
	}
	list(t, h, subA)
	wantError(t, revoke(t, h, subB, k.KeyID), http.StatusNotFound, api.CodeNotFound)
	wantError(t, call(t, h, request(api.RouteDeletePasskey, subB, p.ID, "")), http.StatusNotFound, api.CodeNotFound)
	if r := revoke(t, h, subA, k.KeyID); r.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	if r := call(t, h, request(api.RouteDeletePasskey, subA, p.ID, "")); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	// Repeats find nothing and tell nobody.
	wantError(t, revoke(t, h, subA, k.KeyID), http.StatusNotFound, api.CodeNotFound)
	wantError(t, call(t, h, request(api.RouteDeletePasskey, subA, p.ID, "")), http.StatusNotFound, api.CodeNotFound)

	ev := n.Events()
	want := []struct {
		kind notify.Kind
		name string
	}{{notify.KeyAdded, "Work phone"}, {notify.PasskeyAdded, "Laptop"}, {notify.KeyRemoved, "Work phone"}, {notify.PasskeyRemoved, "Old laptop"}}
	if len(ev) != len(want) {
		t.Fatalf("%d notifications, want %d: %+v", len(ev), len(want), ev)
	}
	ids := map[string]bool{}
	for i, w := range want {
		x := ev[i]
		if x.Kind != w.kind || x.Detail[notify.DetailKeyName] != w.name || x.UserName != subA ||
			x.UserPoolID != "eu-west-1_AbCdEf123" || x.Attributes["email"] != "user@example.com" {
			t.Errorf("notification %d: %+v, want kind %s name %q", i, x, w.kind, w.name)
		}
		if (w.kind == notify.KeyRemoved || w.kind == notify.PasskeyRemoved) && x.Detail[notify.DetailCount] != "1" {
			t.Errorf("notification %d: count %q, want 1", i, x.Detail[notify.DetailCount])
		}
		if len(x.ID) < 20 || ids[x.ID] {
			t.Errorf("notification %d: event ID %q not fresh", i, x.ID)
		}
		ids[x.ID] = true
	}
	for i, k := range n.Keys() {
		if k == nil {
			t.Errorf("notification %d without the deployment key", i)
		}
	}
}

// failingKeys is a key source that always fails.
type failingKeys struct{}

func (failingKeys) Key(context.Context) (*keyed.Key, error) {
	return nil, errors.New("secrets manager: throttled")
}

// TestFailingNotifierDoesNotChangeTheResponse: a notifier that panics, or a deployment key that
// cannot be read, leaves every answer exactly as it is without notifications (and the action
// done).
func TestFailingNotifierDoesNotChangeTheResponse(t *testing.T) {
	pub := newP256(t)
	run := func(t *testing.T, withNotifier func(h *api.Handler)) []string {
		e := newRecoveryEnv(t)
		e.h.Notifier = nil
		if withNotifier != nil {
			withNotifier(e.h)
		}
		e.putKeys(t, subA, 3)
		var out []string
		k := register(t, e.h, subA, pub, "phone")
		for _, r := range []events.APIGatewayV2HTTPRequest{
			request(api.RouteRevokeDeviceKey, subA, k.KeyID, ""),
			request(api.RouteRevokeAllDeviceKeys, subA, "", ""),
			request(api.RouteRevokeAllDeviceKeys, subA, "", ""),
		} {
			resp := call(t, e.h, r)
			out = append(out, fmt.Sprintf("%d %s", resp.StatusCode, resp.Body))
		}
		if k, _ := e.st.ListDeviceKeys(context.Background(), subA); len(k) != 0 {
			t.Fatalf("%d keys left", len(k))
		}
		return out
	}
	want := run(t, nil)
	if want[1] != `200 {"removed":3}` {
		t.Fatalf("baseline %q", want)
	}
	panicking := &notifytest.Recorder{Panics: true}
	for name, set := range map[string]func(*api.Handler){
		"panicking notifier": func(h *api.Handler) { h.WithNotifier(panicking, keyed.MustStatic(testSecret), "") },
		"no deployment key":  func(h *api.Handler) { h.WithNotifier(&notifytest.Recorder{}, failingKeys{}, "") },
	} {
		if got := run(t, set); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: answers\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if len(panicking.Events()) != 3 {
		t.Errorf("panicking notifier called %d times, want 3", len(panicking.Events()))
	}
	// Without the key the notifier is still called (it counts the failure), with a nil key.
	n := &notifytest.Recorder{}
	e := newRecoveryEnv(t)
	e.h.WithNotifier(n, failingKeys{}, "")
	e.putKeys(t, subA, 1)
	call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", ""))
	if len(n.Keys()) != 1 || n.Keys()[0] != nil {
		t.Fatalf("notifier calls %d, keys %v", len(n.Keys()), n.Keys())
	}
	if logs := e.logs.String(); !strings.Contains(logs, "deployment key") || strings.Contains(logs, "user@example.com") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestRecoveryRouteKeys: the route keys the construct must add to API Gateway.
func TestRecoveryRouteKeys(t *testing.T) {
	for got, want := range map[string]string{
		api.RouteRevokeAllDeviceKeys: "DELETE /device-keys",
		api.RouteRevokeAllPasskeys:   "DELETE /passkeys",
		api.RouteSignOutEverywhere:   "POST /me/signout-everywhere",
	} {
		if got != want {
			t.Errorf("route %q, want %q", got, want)
		}
	}
	b, _ := json.Marshal(api.RevokedJSON{Removed: 2})
	if string(b) != `{"removed":2}` {
		t.Errorf("%s", b)
	}
}

// GetDeviceKey and GetPasskey let the in-memory stores name a removed credential, as
// *store.Store does.
func (m *memStore) GetDeviceKey(_ context.Context, owner, keyID string) (store.DeviceKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys[owner] {
		if k.ID == keyID {
			return k, nil
		}
	}
	return store.DeviceKey{}, store.ErrNotFound
}

func (m *pkStore) GetPasskey(_ context.Context, owner string, id []byte) (store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.find(owner, id); i >= 0 {
		return m.passkeys[i], nil
	}
	return store.Passkey{}, store.ErrNotFound
}

// TestConcurrentRevokeAll: simultaneous DELETE /device-keys requests (a double tap, a client
// retry racing the first try) remove each key once between them, and the notifications add up
// to exactly the keys removed: one per request that removed any.
func TestConcurrentRevokeAll(t *testing.T) {
	e := newRecoveryEnv(t)
	e.putKeys(t, subA, 30)
	r := request(api.RouteRevokeAllDeviceKeys, subA, "", "")
	bodies := dynalitetest.AtOnce(4, func(int) string {
		resp, err := e.h.Handle(context.Background(), r)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%d %s %v", resp.StatusCode, resp.Body, err)
		}
		return resp.Body
	})
	total, nonzero := 0, 0
	for _, b := range bodies {
		var out api.RevokedJSON
		if err := json.Unmarshal([]byte(b), &out); err != nil {
			t.Fatal(err)
		}
		total += out.Removed
		if out.Removed > 0 {
			nonzero++
		}
	}
	if total != 30 {
		t.Fatalf("%d removals reported for 30 keys: %q", total, bodies)
	}
	ev := e.notes.Events()
	told := 0
	for _, x := range ev {
		var n int
		fmt.Sscan(x.Detail[notify.DetailCount], &n)
		told += n
	}
	if len(ev) != nonzero || told != 30 {
		t.Fatalf("%d notifications telling of %d keys; want %d telling of 30", len(ev), told, nonzero)
	}
	if k, _ := e.st.ListDeviceKeys(context.Background(), subA); len(k) != 0 {
		t.Fatalf("%d keys left", len(k))
	}
}
