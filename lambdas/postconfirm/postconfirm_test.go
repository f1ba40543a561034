package postconfirm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/postconfirm"
)

// fakeAdmin records the Cognito admin calls; setErr and signOutErr fail them.
type fakeAdmin struct {
	mu         sync.Mutex
	calls      []string
	sets       []awsapi.AdminSetUserPasswordInput
	signOuts   []awsapi.AdminUserGlobalSignOutInput
	setErr     error
	signOutErr error
}

func (f *fakeAdmin) AdminSetUserPassword(_ context.Context, in *awsapi.AdminSetUserPasswordInput) error {
	return record(f, "AdminSetUserPassword", &f.sets, *in, &f.setErr)
}

func (f *fakeAdmin) AdminUserGlobalSignOut(_ context.Context, in *awsapi.AdminUserGlobalSignOutInput) error {
	return record(f, "AdminUserGlobalSignOut", &f.signOuts, *in, &f.signOutErr)
}

// record appends the call's name to f.calls and its input to inputs, and returns
// *err (the failure configured for that call), all under f's lock.
func record[I any](f *fakeAdmin, call string, inputs *[]I, in I, err *error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	*inputs = append(*inputs, in)
	return *err
}

func fixture(t *testing.T) events.CognitoEventUserPoolsPostConfirmation {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "postconfirmation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CognitoEventUserPoolsPostConfirmation
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func newHandler(t *testing.T, admin postconfirm.Admin) (*postconfirm.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	h, err := postconfirm.New(admin, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return h, &logs
}

// TestReplacesSignUpPassword is issue 10, attack 16: an attacker signs up first with the victim's
// address and a password they know; the victim, told UsernameExistsException means "go on",
// confirms the account with the code Cognito emailed them. On that confirmation the trigger must
// replace the attacker's password with a random permanent one and sign the user out everywhere
// (tokens the attacker got with the old password between confirmation and replacement).
func TestReplacesSignUpPassword(t *testing.T) {
	ev := fixture(t)
	admin := &fakeAdmin{}
	h, logs := newHandler(t, admin)
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if !reflect.DeepEqual(out, ev) {
		t.Errorf("event changed: %+v", out)
	}
	if want := []string{"AdminSetUserPassword", "AdminUserGlobalSignOut"}; !reflect.DeepEqual(admin.calls, want) {
		t.Fatalf("calls %v, want %v (the password first, then the sign-out)", admin.calls, want)
	}
	set := admin.sets[0]
	if set.UserPoolID != ev.UserPoolID || set.Username != ev.UserName || !set.Permanent {
		t.Errorf("AdminSetUserPassword pool %q user %q permanent %v; want the event's pool and user, permanent", set.UserPoolID, set.Username, set.Permanent)
	}
	if err := postconfirm.CheckPassword(set.Password); err != nil {
		t.Errorf("new password does not meet the pool's policy: %v", err)
	}
	if so := admin.signOuts[0]; so.UserPoolID != ev.UserPoolID || so.Username != ev.UserName {
		t.Errorf("AdminUserGlobalSignOut %+v", so)
	}
	if !strings.Contains(logs.String(), "password replaced") {
		t.Errorf("no decision logged: %s", logs)
	}
}

// TestAdminConfirmSignUp: AdminConfirmSignUp comes with the same trigger source; the password
// was still chosen by whoever signed up, so it is replaced too.
func TestAdminConfirmSignUp(t *testing.T) {
	ev := fixture(t)
	ev.CallerContext.ClientID = "CLIENT_ID_NOT_APPLICABLE"
	admin := &fakeAdmin{}
	h, _ := newHandler(t, admin)
	if _, err := h.Handle(context.Background(), ev); err != nil || len(admin.sets) != 1 {
		t.Fatalf("%v, %d password changes", err, len(admin.sets))
	}
}

func TestTriggerSources(t *testing.T) {
	for _, tc := range []struct {
		source  string
		replace bool
	}{
		{"PostConfirmation_ConfirmSignUp", true},
		// A password reset: ForgotPassword sends its code only to a verified address, so whoever
		// set this password holds one of the account's verified addresses. Left alone (and the
		// construct's pool allows no self-service reset at all).
		{"PostConfirmation_ConfirmForgotPassword", false},
		// A source Cognito may add one day: replacing is the safe side (nobody is meant to use
		// a password here), keeping could leave a stranger's password in place.
		{"PostConfirmation_SomethingNew", true},
		{"", true},
	} {
		ev := fixture(t)
		ev.TriggerSource = tc.source
		admin := &fakeAdmin{}
		h, logs := newHandler(t, admin)
		if _, err := h.Handle(context.Background(), ev); err != nil {
			t.Errorf("%q: %v", tc.source, err)
			continue
		}
		if got := len(admin.sets) == 1 && len(admin.signOuts) == 1; got != tc.replace || !tc.replace && len(admin.calls) != 0 {
			t.Errorf("%q: calls %v, want replaced=%v", tc.source, admin.calls, tc.replace)
		}
		if !tc.replace && !strings.Contains(logs.String(), "kept") {
			t.Errorf("%q: decision not logged: %s", tc.source, logs)
		}
	}
}

// TestNothingSecretLogged: neither the new password nor the user's name or addresses reach the
// logs, on success or failure, nor the error Cognito relays to the app.
func TestNothingSecretLogged(t *testing.T) {
	ev := fixture(t)
	for _, admin := range []*fakeAdmin{
		{},
		{setErr: &awsapi.APIError{Service: "cognito-idp", Operation: "AdminSetUserPassword", StatusCode: 400, Code: "InvalidPasswordException", Message: "Password does not conform"}},
		{signOutErr: &awsapi.APIError{Service: "cognito-idp", Operation: "AdminUserGlobalSignOut", StatusCode: 500, Code: "InternalErrorException"}},
	} {
		h, logs := newHandler(t, admin)
		_, err := h.Handle(context.Background(), ev)
		if len(admin.sets) != 1 {
			t.Fatalf("%d password changes", len(admin.sets))
		}
		secrets := []string{admin.sets[0].Password, ev.UserName, ev.Request.UserAttributes["email"], "victim"}
		for _, s := range secrets {
			if strings.Contains(logs.String(), s) {
				t.Errorf("logs contain %q: %s", s, logs)
			}
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("error contains %q: %v", s, err)
			}
		}
		if logs.Len() == 0 {
			t.Error("nothing logged")
		}
	}
}

// TestFailureIsReported: a password that could not be replaced fails the trigger (Cognito then
// reports the error to ConfirmSignUp), and no sign-out is attempted for a password still known.
func TestFailureIsReported(t *testing.T) {
	ev := fixture(t)
	setErr := &awsapi.APIError{Service: "cognito-idp", Operation: "AdminSetUserPassword", StatusCode: 400, Code: "TooManyRequestsException"}
	admin := &fakeAdmin{setErr: setErr}
	h, logs := newHandler(t, admin)
	if _, err := h.Handle(context.Background(), ev); !errors.Is(err, setErr) {
		t.Errorf("error %v, want it to wrap %v", err, setErr)
	}
	if len(admin.signOuts) != 0 {
		t.Errorf("signed out although the password was not replaced: %v", admin.calls)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "TooManyRequestsException") {
		t.Errorf("failure not logged as an error with its code: %s", logs)
	}

	signOutErr := errors.New("connection reset")
	admin = &fakeAdmin{signOutErr: signOutErr}
	h, _ = newHandler(t, admin)
	if _, err := h.Handle(context.Background(), ev); !errors.Is(err, signOutErr) {
		t.Errorf("error %v, want it to wrap %v", err, signOutErr)
	}
	if len(admin.sets) != 1 {
		t.Errorf("calls %v", admin.calls)
	}
}

// TestBadEvents: an event without a pool or user name fails without calling Cognito or panicking.
func TestBadEvents(t *testing.T) {
	for name, mutate := range map[string]func(*events.CognitoEventUserPoolsPostConfirmation){
		"no user": func(ev *events.CognitoEventUserPoolsPostConfirmation) { ev.UserName = "" },
		"no pool": func(ev *events.CognitoEventUserPoolsPostConfirmation) { ev.UserPoolID = "" },
		"nothing": func(ev *events.CognitoEventUserPoolsPostConfirmation) {
			*ev = events.CognitoEventUserPoolsPostConfirmation{}
		},
		"huge user":    func(ev *events.CognitoEventUserPoolsPostConfirmation) { ev.UserName = strings.Repeat("a", 1<<20) },
		"control char": func(ev *events.CognitoEventUserPoolsPostConfirmation) { ev.UserPoolID = "eu-west-1_x\n" },
	} {
		ev := fixture(t)
		mutate(&ev)
		admin := &fakeAdmin{}
		h, _ := newHandler(t, admin)
		if _, err := h.Handle(context.Background(), ev); err == nil || len(admin.calls) != 0 {
			t.Errorf("%s: error %v after calls %v; want an error and no call", name, err, admin.calls)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := postconfirm.New(nil, nil); err == nil {
		t.Error("New without a Cognito client succeeded")
	}
	h, err := postconfirm.New(&fakeAdmin{}, nil) // nil logger: discard
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(context.Background(), fixture(t)); err != nil {
		t.Error(err)
	}
}

// TestPasswordShape: 64 characters from Cognito's allowed set, every class the pool's policy
// requires (16+ characters with upper, lower, digit, symbol), from crypto/rand: no two alike,
// every character of the alphabet used, none much more often than the others.
func TestPasswordShape(t *testing.T) {
	const n = 4000
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range n {
		p := postconfirm.NewPassword()
		if err := postconfirm.CheckPassword(p); err != nil {
			t.Fatalf("%v", err)
		}
		if len(p) != postconfirm.PasswordLength || postconfirm.PasswordLength < 16 {
			t.Fatalf("length %d", len(p))
		}
		var upper, lower, digit, symbol bool
		for _, r := range p {
			switch {
			case unicode.IsUpper(r):
				upper = true
			case unicode.IsLower(r):
				lower = true
			case unicode.IsDigit(r):
				digit = true
			case strings.ContainsRune(postconfirm.Symbols, r):
				symbol = true
			default:
				t.Fatalf("character %q outside the alphabet", r)
			}
			counts[r]++
		}
		if !upper || !lower || !digit || !symbol {
			t.Fatalf("a password lacks a class: upper %v lower %v digit %v symbol %v", upper, lower, digit, symbol)
		}
		if seen[p] {
			t.Fatal("the same password twice")
		}
		seen[p] = true
	}
	alphabet := 26 + 26 + 10 + len(postconfirm.Symbols)
	if len(counts) != alphabet {
		t.Errorf("%d distinct characters used, want all %d", len(counts), alphabet)
	}
	// Expected count of each character about n*64/94 = 2723 (standard deviation about 52): a
	// character off by 25% means a biased draw, not chance.
	want := float64(n*postconfirm.PasswordLength) / float64(alphabet)
	for r, c := range counts {
		if float64(c) < 0.75*want || float64(c) > 1.25*want {
			t.Errorf("character %q drawn %d times, want about %.0f", r, c, want)
		}
	}
}

func TestSymbolsAreCognitos(t *testing.T) {
	// Cognito's password policy counts these as special characters (and the space, which is
	// left out: it may not lead or trail).
	const cognito = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"
	if postconfirm.Symbols != cognito {
		t.Errorf("Symbols %q, want Cognito's list %q", postconfirm.Symbols, cognito)
	}
	if err := postconfirm.CheckPassword("short1A!"); err == nil {
		t.Error("a short password passed CheckPassword")
	}
	if err := postconfirm.CheckPassword(strings.Repeat("aA1", 22)); err == nil {
		t.Error("a password without a symbol passed CheckPassword")
	}
}

// TestWire runs the handler with the real Cognito client against a local server: the request is
// AdminSetUserPassword with a policy-conformant permanent password, then AdminUserGlobalSignOut.
func TestWire(t *testing.T) {
	type req struct {
		target string
		body   map[string]any
	}
	var mu sync.Mutex
	var got []req
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		mu.Lock()
		got = append(got, req{r.Header.Get("X-Amz-Target"), body})
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	client, err := awsapi.New(aws.Config{
		Region: "eu-west-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
		}),
		HTTPClient:   srv.Client(),
		BaseEndpoint: aws.String(srv.URL),
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, client)
	ev := fixture(t)
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].target != "AWSCognitoIdentityProviderService.AdminSetUserPassword" ||
		got[1].target != "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut" {
		t.Fatalf("requests %+v", got)
	}
	b := got[0].body
	p, _ := b["Password"].(string)
	if b["UserPoolId"] != ev.UserPoolID || b["Username"] != ev.UserName || b["Permanent"] != true || postconfirm.CheckPassword(p) != nil {
		t.Errorf("AdminSetUserPassword body %v", b)
	}
	if b := got[1].body; b["UserPoolId"] != ev.UserPoolID || b["Username"] != ev.UserName || len(b) != 2 {
		t.Errorf("AdminUserGlobalSignOut body %v", b)
	}
}
