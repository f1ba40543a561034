package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// hostileNames are names no UI, log line or terminal should receive (issue 10, attack 14).
var hostileNames = map[string]string{
	"CRLF":          "phone\r\nX-Injected: 1",
	"ESC":           "\x1b]0;owned\x07\x1b[2J",
	"U+202E":        "invoice\u202Etxt.exe",
	"U+2028":        "a\u2028b",
	"zero width":    "adm\u200Bin",
	"markup":        `<img src=x onerror=alert(1)>`,
	"angle bracket": "a > b",
}

// TestDeviceKeyNamesArePrintableText: register refuses hostile names with 400 bad_name and
// stores nothing.
func TestDeviceKeyNamesArePrintableText(t *testing.T) {
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{})
	for what, name := range hostileNames {
		resp := call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), name)))
		if e := wantErrorNoFatal(resp); resp.StatusCode != http.StatusBadRequest || e.Code != api.CodeBadName {
			t.Errorf("%s: %d %s %s", what, resp.StatusCode, e.Code, resp.Body)
		}
	}
	if len(m.keys[subA]) != 0 {
		t.Fatalf("stored %+v", m.keys[subA])
	}
	// Ordinary names in any script, with punctuation, symbols and emoji, still work.
	for _, name := range []string{"Alice's Pixel 8 (work)", "Téléphone de Zoë", "東京のiPhone", "📱 & 💻", `"quoted" #1 @home`} {
		if got := register(t, h, subA, newP256(t), name); got.Name != name {
			t.Errorf("name %q came back as %q", name, got.Name)
		}
	}
}

// TestPasskeyNamesArePrintableText: every passkey string a user chooses (the registration name,
// a new name, user.name and user.displayName of the options) passes the same check.
func TestPasskeyNamesArePrintableText(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	_, p := e.enroll(t, subA, "mine")
	for what, name := range hostileNames {
		n, _ := json.Marshal(name)
		o := e.options(t, subA, "")
		_, js, err := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
		if err != nil {
			t.Fatal(err)
		}
		for route, r := range map[string]struct{ key, id, body string }{
			"register":            {api.RouteRegisterPasskey, "", regBody(js, name)},
			"rename":              {api.RouteRenamePasskey, p.ID, `{"name":` + string(n) + `}`},
			"options userName":    {api.RouteRegistrationOptions, "", `{"userName":` + string(n) + `}`},
			"options displayName": {api.RouteRegistrationOptions, "", `{"displayName":` + string(n) + `}`},
		} {
			resp := pcallNo500(t, e.h, request(r.key, subA, r.id, r.body))
			if er := wantErrorNoFatal(resp); resp.StatusCode != http.StatusBadRequest || er.Code != api.CodeBadName {
				t.Errorf("%s in %s: %d %s", what, route, resp.StatusCode, resp.Body)
			}
		}
	}
	if l := e.list(t, subA); len(l) != 1 || l[0].Name != "mine" {
		t.Fatalf("passkeys %+v", l)
	}
}

// TestPasskeyTransportsAllowList: transports other than WebAuthn's (usb, nfc, ble, smart-card,
// hybrid, internal) are dropped at registration, as the spec tells relying parties to ignore
// unknown values, and never stored or echoed; known ones are kept once each, in order.
func TestPasskeyTransportsAllowList(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	e.a.Transports = []string{"usb", "<script>alert(1)</script>", "hybrid\r\nX", "internal", "usb", "\x1b[31m", "nfc", "carrier-pigeon"}
	_, p := e.enroll(t, subA, "key")
	want := []string{"usb", "internal", "nfc"}
	if !slices.Equal(p.Transports, want) {
		t.Errorf("registration answer transports %q, want %q", p.Transports, want)
	}
	if got := e.m.passkeys[0].Transports; !slices.Equal(got, want) {
		t.Errorf("stored transports %q, want %q", got, want)
	}
	// A passkey stored before this check, with junk transports: listing and the exclusion list
	// of new registration options show the known ones only.
	e.m.passkeys[0].Transports = []string{"internal", "x\r\ny", "<b>", "hybrid"}
	clean := []string{"internal", "hybrid"}
	if l := e.list(t, subA); len(l) != 1 || !slices.Equal(l[0].Transports, clean) {
		t.Errorf("listed %+v", l)
	}
	o := e.options(t, subA, "")
	if len(o.PublicKey.ExcludeCredentials) != 1 || !slices.Equal(o.PublicKey.ExcludeCredentials[0].Transports, clean) {
		t.Errorf("excludeCredentials %+v", o.PublicKey.ExcludeCredentials)
	}
	resp := pcallNo500(t, e.h, request(api.RouteRenamePasskey, subA, p.ID, `{"name":"renamed"}`))
	var renamed api.PasskeyJSON
	if err := json.Unmarshal([]byte(resp.Body), &renamed); err != nil || !slices.Equal(renamed.Transports, clean) {
		t.Errorf("rename answer %s", resp.Body)
	}
	for _, body := range []string{resp.Body, e.listBody(t, subA)} {
		if strings.ContainsAny(body, "<>\r\n\x1b") || strings.Contains(body, `\r`) || strings.Contains(body, `\u003c`) {
			t.Errorf("answer echoes junk: %s", body)
		}
	}
	// Only junk: stored with no transports.
	e.a.Transports = []string{"bogus"}
	_, p2 := e.enroll(t, subA, "key 2")
	if p2.Transports == nil || len(p2.Transports) != 0 {
		t.Errorf("transports %q, want []", p2.Transports)
	}
	id, _ := base64.RawURLEncoding.DecodeString(p2.ID)
	for _, s := range e.m.passkeys {
		if bytes.Equal(s.CredentialID, id) && len(s.Transports) != 0 {
			t.Errorf("stored %q", s.Transports)
		}
	}
	if !slices.Equal(store.KnownTransports(), []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}) {
		t.Errorf("KnownTransports %q", store.KnownTransports())
	}
}

func (e *pkEnv) listBody(t *testing.T, sub string) string {
	t.Helper()
	return pcallNo500(t, e.h, request(api.RouteListPasskeys, sub, "", "")).Body
}
