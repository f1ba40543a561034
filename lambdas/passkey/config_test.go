package passkey_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The Config tests live with package passkeyconf; these check what passkey adds: the re-exports
// and the conversion of the string fields into go-webauthn's types.

func TestConfigReexports(t *testing.T) {
	var c passkey.Config = passkeyconf.Config{RPID: rpID} // an alias: no conversion
	if c.WithDefaults().UserVerification != "required" {
		t.Errorf("defaults %+v", c.WithDefaults())
	}
	if passkey.EnvRPID != passkeyconf.EnvRPID || passkey.EnvMaxPerUser != passkeyconf.EnvMaxPerUser ||
		passkey.DefaultTimeout != passkeyconf.DefaultTimeout || passkey.AndroidOriginPrefix != protocol.OpaqueOriginPrefixAndroidAPKKeyHash {
		t.Error("re-exported constants differ")
	}
	if !protocol.IsKnownOpaqueOrigin(androidOrigin) {
		t.Error("go-webauthn does not know the Android origin form")
	}
}

func TestNewRPFromEnv(t *testing.T) {
	c, err := passkey.ConfigFromEnv(env(map[string]string{
		passkey.EnvRPID:             "example.com",
		passkey.EnvRPName:           "Example Inc.",
		passkey.EnvOrigins:          " https://example.com, https://app.example.com:8443 ," + androidOrigin,
		passkey.EnvUserVerification: "preferred",
		passkey.EnvResidentKey:      "required",
		passkey.EnvAttestation:      "direct",
		passkey.EnvAttachment:       "platform",
		passkey.EnvTimeoutSeconds:   "600",
		passkey.EnvMaxPerUser:       "3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	rp, err := passkey.NewRP(c)
	if err != nil {
		t.Fatalf("NewRP: %v", err)
	}
	creation, _, err := rp.BeginRegistration(passkey.Registration{UserHandle: []byte(userAlice)})
	if err != nil {
		t.Fatal(err)
	}
	p := creation.Response
	if s := p.AuthenticatorSelection; s.UserVerification != protocol.VerificationPreferred || s.ResidentKey != protocol.ResidentKeyRequirementRequired ||
		s.AuthenticatorAttachment != protocol.Platform || s.RequireResidentKey == nil || !*s.RequireResidentKey ||
		p.Attestation != protocol.PreferDirectAttestation || p.Timeout != 600000 || p.RelyingParty.Name != "Example Inc." {
		t.Errorf("creation options %+v", p)
	}
	if _, err := passkey.ConfigFromEnv(env(map[string]string{passkey.EnvRPID: "example.com", passkey.EnvAttachment: "usb"})); err == nil {
		t.Error("bad attachment accepted")
	}
}

// FuzzConfigRPID checks that Config.Validate, which no longer calls go-webauthn, reports exactly
// what protocol.ValidateRPID says about a relying party ID (passkeyconf carries a copy of it).
func FuzzConfigRPID(f *testing.F) {
	for _, s := range []string{"example.com", "localhost", "example", "a.b.c", "Example.com", "192.0.2.1", "::1", "[::1]",
		"https://example.com", "example.com:443", "example.com/", "example.com?x", "example.com#x", "-a.com", "a-.com",
		"a..com", ".a.com", "a.com.", "a.123", "a.0x1f", "1.2.3", strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 127) + "com",
		"ex ample.com", "ex%41.com", "exämple.com", "a@b.com", "a\x00.com", "a\n.com", "", "xn--bcher-kva.example", "http://[::1]:80/p?q#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := passkey.Config{RPID: id}.Validate()
		if err == nil {
			t.Fatalf("Config{RPID: %q} valid without origins", id)
		}
		msg := err.Error()
		prefix := fmt.Sprintf("relying party ID %q: ", id)
		switch perr := protocol.ValidateRPID(id); {
		case id == "":
			if !strings.Contains(msg, "relying party ID is empty") {
				t.Fatalf("empty RP ID: %v", msg)
			}
		case perr != nil:
			if want := prefix + perr.Error(); !strings.Contains(msg, want) {
				t.Fatalf("RP ID %q: error %q does not contain go-webauthn's %q", id, msg, want)
			}
		default:
			if i := strings.Index(msg, prefix); i >= 0 {
				rest := msg[i+len(prefix):]
				if !strings.HasPrefix(rest, "not a domain name") && !strings.HasPrefix(rest, "not a lower-case domain name") {
					t.Fatalf("RP ID %q accepted by go-webauthn but: %v", id, msg)
				}
			}
		}
	})
}

func TestUserHandle(t *testing.T) {
	if h, err := passkey.UserHandle(userAlice); err != nil || string(h) != userAlice {
		t.Errorf("UserHandle = %q, %v", h, err)
	}
	for _, bad := range []string{"", strings.Repeat("a", 65), "\xff"} {
		if _, err := passkey.UserHandle(bad); err == nil {
			t.Errorf("UserHandle(%q) accepted", bad)
		}
	}
}
