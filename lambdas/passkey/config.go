package passkey

import (
	"strings"

	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
)

// Config is the relying party's passkey policy: see passkeyconf.Config, which holds it without
// depending on go-webauthn (so the Create function can read it without linking the library).
type Config = passkeyconf.Config

// Environment variables read by ConfigFromEnv (the construct sets them on the Create, Verify and
// API functions when passkeys are enabled).
const (
	EnvRPID             = passkeyconf.EnvRPID             // required, e.g. "example.com"
	EnvRPName           = passkeyconf.EnvRPName           // default: the RP ID
	EnvOrigins          = passkeyconf.EnvOrigins          // comma-separated; default "https://<RP ID>"
	EnvUserVerification = passkeyconf.EnvUserVerification // required | preferred | discouraged; default required
	EnvResidentKey      = passkeyconf.EnvResidentKey      // required | preferred | discouraged; default required
	EnvAttestation      = passkeyconf.EnvAttestation      // none | indirect | direct; default none
	EnvAttachment       = passkeyconf.EnvAttachment       // platform | cross-platform | ""; default "" (any)
	EnvTimeoutSeconds   = passkeyconf.EnvTimeoutSeconds   // default 120, 30-600
	EnvMaxPerUser       = passkeyconf.EnvMaxPerUser       // default 10, 1-100
	EnvAllowCredentials = passkeyconf.EnvAllowCredentials // none | list; default none
)

// Values of Config.AllowCredentials: see passkeyconf.AllowCredentialsNone and
// passkeyconf.AllowCredentialsList.
const (
	AllowCredentialsNone = passkeyconf.AllowCredentialsNone
	AllowCredentialsList = passkeyconf.AllowCredentialsList
)

// Defaults and limits.
const (
	DefaultTimeout    = passkeyconf.DefaultTimeout
	MinTimeout        = passkeyconf.MinTimeout
	MaxTimeout        = passkeyconf.MaxTimeout
	DefaultMaxPerUser = passkeyconf.DefaultMaxPerUser
	MaxMaxPerUser     = passkeyconf.MaxMaxPerUser
	// AndroidOriginPrefix starts the origin an Android app conveys:
	// "android:apk-key-hash:" + unpadded base64url of the SHA-256 of the app's signing certificate.
	AndroidOriginPrefix = passkeyconf.AndroidOriginPrefix
)

// ConfigFromEnv reads the Config through getenv (os.Getenv when nil): see
// passkeyconf.ConfigFromEnv.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	return passkeyconf.ConfigFromEnv(getenv)
}

// webOrigins and appOrigins split Origins the way go-webauthn wants them.
func webOrigins(c Config) []string {
	var out []string
	for _, o := range c.Origins {
		if !strings.HasPrefix(o, "android:") {
			out = append(out, o)
		}
	}
	return out
}

func appOrigins(c Config) []string {
	var out []string
	for _, o := range c.Origins {
		if strings.HasPrefix(o, "android:") {
			out = append(out, o)
		}
	}
	return out
}
