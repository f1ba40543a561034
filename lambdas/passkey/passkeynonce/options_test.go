package passkeynonce_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// The hook's behaviour with real passkeys, and its JSON compared with go-webauthn's for the same
// input, are tested in package passkey (options_test.go); these tests pin its output to what it
// produced when it was built on go-webauthn, and cover its own failure modes.

const testPool = "eu-west-1_AbCdEf123"

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func clock() time.Time { return fixedNow }

// fakeStore lists fixed passkeys (in the store's order: by encoded credential ID).
type fakeStore struct {
	passkeys []store.Passkey
	listErr  error
	lists    int
	owners   []string
}

func (s *fakeStore) ListPasskeys(_ context.Context, owner string) ([]store.Passkey, error) {
	s.lists++
	s.owners = append(s.owners, owner)
	if s.listErr != nil {
		return nil, s.listErr
	}
	var out []store.Passkey
	for _, p := range s.passkeys {
		if p.Owner == owner {
			out = append(out, p)
		}
	}
	return out, nil
}

func goldenStore() *fakeStore {
	return &fakeStore{
		passkeys: []store.Passkey{
			{Owner: "sub-a", CredentialID: []byte("cred-<&>-three-x"), Transports: []string{"usb"}},
			{Owner: "sub-a", CredentialID: []byte("credential-one!!"), Transports: []string{"hybrid", "internal"}},
			{Owner: "sub-a", CredentialID: []byte{0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e}},
		},
	}
}

var goldenNonce = base64.RawURLEncoding.EncodeToString([]byte("nonce-nonce-nonce-nonce-nonce-32"))

func nonceReq(user, sub, nonce string, notFound bool) triggers.NonceRequest {
	attrs := map[string]string{"email": user}
	if sub != "" {
		attrs["sub"] = sub
	}
	return triggers.NonceRequest{
		Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: "c2Vzc2lvbmlkc2Vzc2lvbg", Reason: authflow.ReasonStart},
		Nonce:     nonce,
		Caller: triggers.Caller{
			UserPoolID:     testPool,
			ClientID:       "1example23456789abcdefghij",
			UserName:       user,
			UserAttributes: attrs,
			UserNotFound:   notFound,
			Key:            testKey,
		},
	}
}

// goldenConfigs are in list mode, the only one with allowCredentials (see aliases_test.go for
// the default, "none").
var goldenConfigs = map[string]passkeyconf.Config{
	"example.com/":          {RPID: "example.com", AllowCredentials: "list"},
	"example.com/preferred": {RPID: "example.com", UserVerification: "preferred", Timeout: 600 * time.Second, MaxPerUser: 3, AllowCredentials: "list"},
	"localhost/discouraged": {RPID: "localhost", Origins: []string{"http://localhost:3000"}, UserVerification: "discouraged", Timeout: 30 * time.Second, MaxPerUser: 1, AllowCredentials: "list"},
}

// golden is the passkeyOptions parameter of list mode: for real users what the hook published
// when it was built on go-webauthn (same pool, nonce and passkeys); for unknown users the decoys
// derived from testKey (they changed when decoys moved from a table-stored secret to the
// deployment key; their shape is still checked against go-webauthn in package passkey).
var golden = []struct {
	config, user, sub string
	notFound          bool
	options           string
}{
	{"example.com/", "alice", "sub-a", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"Y3JlZC08Jj4tdGhyZWUteA\",\"transports\":[\"usb\"]},{\"type\":\"public-key\",\"id\":\"Y3JlZGVudGlhbC1vbmUhIQ\",\"transports\":[\"hybrid\",\"internal\"]},{\"type\":\"public-key\",\"id\":\"__4AAQIDBAUGBwgJCgsMDQ4\"}],\"userVerification\":\"required\"}"},
	{"example.com/", "bob", "sub-b", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"userVerification\":\"required\"}"},
	{"example.com/", "ghost@example.com", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"GWwFg_Rq7mY5abNuw3ElYnbNv8Ew3LBBCPWfNCfprUQ\",\"transports\":[\"internal\"]}],\"userVerification\":\"required\"}"},
	{"example.com/", "user1", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"U-0JvDXfrBrReTBOyL0bx6ZybjoWdGVTAL8RWOmK-9Q\",\"transports\":[\"internal\"]}],\"userVerification\":\"required\"}"},
	{"example.com/", "user2", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"ZrYla2LwnNvPjjc8eiJbGQ\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"required\"}"},
	{"example.com/", "user3", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"hY0Oaf5ZPJApxIQG7bVjxt-VnvY\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"required\"}"},
	{"example.com/", "user4", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"userVerification\":\"required\"}"},
	{"example.com/", "user5", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"userVerification\":\"required\"}"},
	{"example.com/", "user6", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"QONJ5dyY7Svz0WWBSToi_TWjzCjmsTux9E8YvIw5dP0t_wDyixoboYCSlb4O9TOLfz8MUp3pAe-bqadiqAXa0A\",\"transports\":[\"nfc\",\"usb\"]}],\"userVerification\":\"required\"}"},
	{"example.com/", "user7", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":120000,\"rpId\":\"example.com\",\"userVerification\":\"required\"}"},
	{"example.com/preferred", "alice", "sub-a", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"Y3JlZC08Jj4tdGhyZWUteA\",\"transports\":[\"usb\"]},{\"type\":\"public-key\",\"id\":\"Y3JlZGVudGlhbC1vbmUhIQ\",\"transports\":[\"hybrid\",\"internal\"]},{\"type\":\"public-key\",\"id\":\"__4AAQIDBAUGBwgJCgsMDQ4\"}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "bob", "sub-b", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "ghost@example.com", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"GWwFg_Rq7mY5abNuw3ElYnbNv8Ew3LBBCPWfNCfprUQ\",\"transports\":[\"internal\"]}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user1", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"U-0JvDXfrBrReTBOyL0bx6ZybjoWdGVTAL8RWOmK-9Q\",\"transports\":[\"internal\"]}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user2", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"ZrYla2LwnNvPjjc8eiJbGQ\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user3", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"hY0Oaf5ZPJApxIQG7bVjxt-VnvY\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user4", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user5", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user6", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"QONJ5dyY7Svz0WWBSToi_TWjzCjmsTux9E8YvIw5dP0t_wDyixoboYCSlb4O9TOLfz8MUp3pAe-bqadiqAXa0A\",\"transports\":[\"nfc\",\"usb\"]}],\"userVerification\":\"preferred\"}"},
	{"example.com/preferred", "user7", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":600000,\"rpId\":\"example.com\",\"userVerification\":\"preferred\"}"},
	{"localhost/discouraged", "alice", "sub-a", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"Y3JlZC08Jj4tdGhyZWUteA\",\"transports\":[\"usb\"]},{\"type\":\"public-key\",\"id\":\"Y3JlZGVudGlhbC1vbmUhIQ\",\"transports\":[\"hybrid\",\"internal\"]},{\"type\":\"public-key\",\"id\":\"__4AAQIDBAUGBwgJCgsMDQ4\"}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "bob", "sub-b", false, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "ghost@example.com", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"GWwFg_Rq7mY5abNuw3ElYnbNv8Ew3LBBCPWfNCfprUQ\",\"transports\":[\"internal\"]}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user1", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"U-0JvDXfrBrReTBOyL0bx6ZybjoWdGVTAL8RWOmK-9Q\",\"transports\":[\"internal\"]}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user2", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"ZrYla2LwnNvPjjc8eiJbGQ\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user3", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"hY0Oaf5ZPJApxIQG7bVjxt-VnvY\",\"transports\":[\"hybrid\",\"internal\"]}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user4", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user5", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user6", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"QONJ5dyY7Svz0WWBSToi_TWjzCjmsTux9E8YvIw5dP0t_wDyixoboYCSlb4O9TOLfz8MUp3pAe-bqadiqAXa0A\",\"transports\":[\"nfc\",\"usb\"]}],\"userVerification\":\"discouraged\"}"},
	{"localhost/discouraged", "user7", "", true, "{\"challenge\":\"bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2UtMzI\",\"timeout\":30000,\"rpId\":\"localhost\",\"userVerification\":\"discouraged\"}"},
}

// goldenDigests is the SHA-256 of the options of 1000 unknown users ("User<i>@Example.com",
// each followed by a zero byte) per configuration, under testKey: the decoys' count, lengths,
// transports, order and encoding stay as they are.
var goldenDigests = map[string]string{
	"example.com/":          "a7a618e137c9f96ee300ba24272c435a3a5e8590987f265ce4b5f47fa4d18a32",
	"example.com/preferred": "f1aff00998932f46e38c528482dae2a9ddfec073fa8582cd96c12f3d981fdc02",
	"localhost/discouraged": "4f3c3506158ff9e6c213f1c74b7ce244f18940bc27130f61a987febc1c9da95e",
}

func TestOptionsGolden(t *testing.T) {
	hooks := map[string]*passkeynonce.Options{}
	for name, cfg := range goldenConfigs {
		hooks[name] = passkeynonce.NewOptions(cfg, goldenStore(), passkeynonce.WithClock(clock))
	}
	for _, g := range golden {
		out, err := hooks[g.config].Extra(context.Background(), nonceReq(g.user, g.sub, goldenNonce, g.notFound))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Public[passkeynonce.PubOptions]; got != g.options {
			t.Errorf("%s %s:\n got %s\nwant %s", g.config, g.user, got, g.options)
		}
		if len(out.Public) != 1 || len(out.Private) != 1 || out.Private[passkeynonce.PrivIssuedAt] != strconv.FormatInt(fixedNow.UnixMilli(), 10) {
			t.Errorf("parameters %v %v", out.Public, out.Private)
		}
	}
	for name, want := range goldenDigests {
		h := sha256.New()
		for i := range 1000 {
			out, err := hooks[name].Extra(context.Background(), nonceReq("User"+strconv.Itoa(i)+"@Example.com", "", goldenNonce, true))
			if err != nil {
				t.Fatal(err)
			}
			h.Write([]byte(out.Public[passkeynonce.PubOptions]))
			h.Write([]byte{0})
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s: decoy digest %s, want %s", name, got, want)
		}
	}
}

func TestOptionsShape(t *testing.T) {
	s := goldenStore()
	list := passkeyconf.Config{RPID: "Example.COM ", AllowCredentials: "list"}
	o := passkeynonce.NewOptions(list, s)
	out, err := o.Extra(context.Background(), nonceReq("alice", "sub-a", goldenNonce, false))
	if err != nil {
		t.Fatal(err)
	}
	var ro struct {
		Challenge        string `json:"challenge"`
		Timeout          int    `json:"timeout"`
		RPID             string `json:"rpId"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			Type, ID   string
			Transports []string
		} `json:"allowCredentials"`
	}
	if err := json.Unmarshal([]byte(out.Public[passkeynonce.PubOptions]), &ro); err != nil {
		t.Fatal(err)
	}
	// Defaults apply: lower-cased RP ID, UV required, 120 s.
	if ro.Challenge != goldenNonce || ro.RPID != "example.com" || ro.UserVerification != "required" || ro.Timeout != 120000 || len(ro.AllowCredentials) != 3 {
		t.Errorf("options %+v", ro)
	}
	// Unknown users cost one listing too, of a placeholder owner.
	s.owners = nil
	if _, err := o.Extra(context.Background(), nonceReq("ghost", "", goldenNonce, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Extra(context.Background(), nonceReq("ghost", "sub-a", goldenNonce, true)); err != nil {
		t.Fatal(err)
	}
	if len(s.owners) != 2 || s.owners[0] != s.owners[1] || s.owners[0] == "" || s.owners[0] == "sub-a" {
		t.Errorf("owners listed for unknown users: %q", s.owners)
	}
	// Stored transports other than WebAuthn's are never published.
	s = goldenStore()
	s.passkeys[0].Transports = []string{"usb", "<script>", "x\r\ny", "usb", "nfc"}
	out, err = passkeynonce.NewOptions(list, s).Extra(context.Background(), nonceReq("alice", "sub-a", goldenNonce, false))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Public[passkeynonce.PubOptions]; !strings.Contains(got, `"transports":["usb","nfc"]`) || strings.ContainsAny(got, "<>\r\n") || strings.Contains(got, `\u003c`) {
		t.Errorf("options %s", got)
	}
	// "none" (the default) never reads the store: it may even be nil.
	out, err = passkeynonce.NewOptions(passkeyconf.Config{RPID: "example.com"}, nil).Extra(context.Background(), nonceReq("alice", "sub-a", goldenNonce, false))
	if err != nil || strings.Contains(out.Public[passkeynonce.PubOptions], "allowCredentials") {
		t.Errorf("none mode without a store: %v %v", out.Public, err)
	}
}

func TestOptionsFailures(t *testing.T) {
	ctx := context.Background()
	good := passkeyconf.Config{RPID: "example.com", AllowCredentials: "list"}
	for _, nonce := range []string{"", "short", base64.RawURLEncoding.EncodeToString(make([]byte, 15)), goldenNonce + "=", strings.ReplaceAll(goldenNonce, "b", "+")} {
		if _, err := passkeynonce.NewOptions(good, goldenStore()).Extra(ctx, nonceReq("alice", "sub-a", nonce, false)); err == nil {
			t.Errorf("nonce %q accepted", nonce)
		}
	}
	if _, err := passkeynonce.NewOptions(good, goldenStore()).Extra(ctx, nonceReq("alice", "sub-a", base64.RawURLEncoding.EncodeToString(make([]byte, 16)), false)); err != nil {
		t.Errorf("16-byte nonce: %v", err)
	}
	errDown := errors.New("down")
	s := goldenStore()
	s.listErr = errDown
	if _, err := passkeynonce.NewOptions(good, s).Extra(ctx, nonceReq("alice", "sub-a", goldenNonce, false)); !errors.Is(err, errDown) {
		t.Errorf("list failure: %v", err)
	}
	// List mode without the deployment key fails rather than publishing unkeyed decoys.
	noKey := nonceReq("ghost", "", goldenNonce, true)
	noKey.Key = nil
	if _, err := passkeynonce.NewOptions(good, goldenStore()).Extra(ctx, noKey); err == nil {
		t.Error("list mode without a key accepted")
	}
	// A bad configuration fails every round, before any store access.
	s = goldenStore()
	for _, bad := range []passkeyconf.Config{{}, {RPID: "example.com", UserVerification: "always"}, {RPID: "example.com", Timeout: time.Second}, {RPID: "example.com", AllowCredentials: "all"}} {
		if _, err := passkeynonce.NewOptions(bad, s).Extra(ctx, nonceReq("alice", "sub-a", goldenNonce, false)); err == nil || !strings.Contains(err.Error(), "bad configuration") {
			t.Errorf("config %+v: %v", bad, err)
		}
	}
	if s.lists != 0 {
		t.Errorf("%d listings with a bad configuration", s.lists)
	}
	if _, err := passkeynonce.NewOptions(good, nil).Extra(ctx, nonceReq("alice", "sub-a", goldenNonce, false)); err == nil {
		t.Error("nil store accepted")
	}
	var nilOpts *passkeynonce.Options
	if _, err := nilOpts.Extra(ctx, nonceReq("alice", "sub-a", goldenNonce, false)); err == nil {
		t.Error("nil options did not fail")
	}
}
