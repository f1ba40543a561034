// Package authflow holds the custom-auth protocol shared by the Define, Create and Verify
// triggers: the sign-in methods, how a challenge is described in Cognito's challengeMetadata and
// private challenge parameters, and the single planning function that decides what the next round
// is. Define and Create both call Plan, so they can never disagree about the state machine.
//
// The protocol (see README "Sign-in sequence"):
//
//   - Round 1 is always a NONCE challenge: Create issues a fresh random nonce and sends nothing.
//   - The client answers with ClientMetadata signInMethod. For a key method (device_key, passkey)
//     the answer is the proof over the nonce and Verify checks it: one round trip.
//     For a code method (email_otp, sms_otp) the answer is ignored and a CODE round follows, in
//     which Create sends the code and the client answers with it.
//   - In a CODE round the client may ask for a new code with ClientMetadata action=resend.
//   - magic_link is chosen like a code method: the answer to the nonce round is ignored and a LINK
//     round follows, in which Create emails a link (package magiclink). The link is completed
//     with a fresh sign-in whose nonce round is answered with the link's secret and
//     ClientMetadata action=complete (or by answering the LINK round itself with the secret).
//     Define never sees answers, so only that action tells a completion from a request.
//   - Tokens are issued only when the last round's result is true; wrong answers, resends and
//     rounds are capped; anything unexpected fails the sign-in.
package authflow

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Method is a sign-in method, as the client names it in ClientMetadata.signInMethod.
type Method string

// The sign-in methods.
const (
	EmailOTP  Method = "email_otp"
	SMSOTP    Method = "sms_otp"
	DeviceKey Method = "device_key"
	Passkey   Method = "passkey"
	MagicLink Method = "magic_link"
)

// AllMethods lists every method this package knows, in documentation order.
var AllMethods = []Method{EmailOTP, SMSOTP, DeviceKey, Passkey, MagicLink}

// IsCode reports whether m sends a one-time code in a second round (a CODE round).
func (m Method) IsCode() bool { return m == EmailOTP || m == SMSOTP }

// IsLink reports whether m emails a sign-in link in a second round (a LINK round).
func (m Method) IsLink() bool { return m == MagicLink }

// IsKey reports whether m proves possession of a key in the first round.
func (m Method) IsKey() bool { return m == DeviceKey || m == Passkey }

// Guessable reports whether an answer for m can be guessed (a one-time code can, and so, in
// principle, can a link's secret: nothing but the lock stops an attacker from trying); a signature
// or a passkey assertion cannot. Only answers for guessable methods are gated by the per-account
// failure limit and counted toward it: a stranger's garbage key proofs must not lock the owner
// out of key sign-in.
func (m Method) Guessable() bool { return m.IsCode() || m.IsLink() }

// Sends reports whether choosing m in the nonce round starts a second round in which Create
// sends something (a code or a link).
func (m Method) Sends() bool { return m.IsCode() || m.IsLink() }

// RoundKind is the kind of the round in which Create sends for m: KindLink for a link, KindCode
// for a code ("" for a key method, which has no such round).
func (m Method) RoundKind() Kind {
	switch {
	case m.IsCode():
		return KindCode
	case m.IsLink():
		return KindLink
	}
	return ""
}

// ParseMethod returns the method named s, or an error for anything else.
func ParseMethod(s string) (Method, error) {
	for _, m := range AllMethods {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("authflow: unknown sign-in method %q", s)
}

// ClientMetadata keys the client sends with RespondToAuthChallenge.
const (
	// MetaSignInMethod names the method the answer is for.
	MetaSignInMethod = "signInMethod"
	// MetaAction is empty for an answer, or ActionResend to ask for a new code.
	MetaAction = "action"
	// ActionResend asks for a new code in a CODE round (a new link in a LINK round); the old one
	// stops working.
	ActionResend = "resend"
	// ActionComplete marks a magic_link answer in a nonce round as the link's secret (an
	// attempt); without it, magic_link in a nonce round asks for a link. Allowed, and the same
	// as no action, in a LINK round.
	ActionComplete = "complete"
)

// Kind is the kind of a challenge round.
type Kind string

// The challenge kinds.
const (
	// KindNonce is the first round: a server nonce, answered by a key proof or a method choice.
	KindNonce Kind = "NONCE"
	// KindCode is a round in which a one-time code was sent.
	KindCode Kind = "CODE"
	// KindLink is a round in which a sign-in link was emailed (method magic_link).
	KindLink Kind = "LINK"
)

// Reason says why a round was created: what the client did in the round before.
type Reason string

// The reasons a round is created.
const (
	ReasonStart  Reason = "start"  // the first round
	ReasonRetry  Reason = "retry"  // the previous answer was a wrong attempt
	ReasonSelect Reason = "select" // the client chose a code method
	ReasonResend Reason = "resend" // the client asked for a new code
)

// Challenge describes one round. It travels in challengeMetadata (seen only by Define and Create)
// and in the private challenge parameters (seen only by Verify). It never holds a secret.
type Challenge struct {
	Kind       Kind
	SessionID  string // random, fixed for the whole sign-in; binds records to this sign-in
	Reason     Reason
	Method     Method // CODE and LINK rounds only
	Generation int    // CODE and LINK rounds only: 1 for the first code or link, +1 per resend
}

// sends reports whether c is a round in which Create sends something (CODE or LINK).
func (c Challenge) sends() bool { return c.Kind == KindCode || c.Kind == KindLink }

// Private challenge parameter keys written by Create and read by Verify.
const (
	PrivKind       = "kind"
	PrivSessionID  = "sid"
	PrivMethod     = "method"
	PrivGeneration = "gen"
	PrivNonce      = "nonce"
	// PrivRound is the round number (1 for the first round of a sign-in), decimal. Together with
	// the session ID it names one attempt: after a wrong code the next round repeats the session
	// and generation, never the round. Read it with Round.
	PrivRound = "round"
)

// MaxRound is the largest round number Round accepts (far above Config.MaxRounds).
const MaxRound = 100

// Round returns the round number Create wrote in the private challenge parameters p
// (PrivRound), or an error when it is missing or not a canonical decimal in 1-MaxRound.
func Round(p map[string]string) (int, error) {
	s := p[PrivRound]
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxRound || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("%w: round %q", errMalformed, s)
	}
	return n, nil
}

// Public challenge parameter keys sent to the client.
const (
	PubNonce   = "nonce"
	PubMethods = "methods"
	PubKind    = "kind"
)

var errMalformed = errors.New("authflow: malformed challenge")

// String encodes c for challengeMetadata, e.g. "CODE;sid=...;r=select;m=email_otp;g=1".
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(string(c.Kind))
	b.WriteString(";sid=" + c.SessionID)
	b.WriteString(";r=" + string(c.Reason))
	if c.sends() {
		b.WriteString(";m=" + string(c.Method))
		b.WriteString(";g=" + strconv.Itoa(c.Generation))
	}
	return b.String()
}

// ParseChallenge decodes challengeMetadata written by String. Anything else is an error.
func ParseChallenge(s string) (Challenge, error) {
	if len(s) > 256 {
		return Challenge{}, fmt.Errorf("%w: metadata too long", errMalformed)
	}
	parts := strings.Split(s, ";")
	var c Challenge
	c.Kind = Kind(parts[0])
	fields := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Challenge{}, fmt.Errorf("%w: field %q", errMalformed, p)
		}
		if _, dup := fields[k]; dup {
			return Challenge{}, fmt.Errorf("%w: duplicate field %q", errMalformed, k)
		}
		fields[k] = v
	}
	c.SessionID = fields["sid"]
	c.Reason = Reason(fields["r"])
	switch c.Kind {
	case KindNonce:
		if len(fields) != 2 {
			return Challenge{}, fmt.Errorf("%w: nonce round fields", errMalformed)
		}
	case KindCode, KindLink:
		if len(fields) != 4 {
			return Challenge{}, fmt.Errorf("%w: %s round fields", errMalformed, c.Kind)
		}
		m, err := ParseMethod(fields["m"])
		if err != nil || m.RoundKind() != c.Kind {
			return Challenge{}, fmt.Errorf("%w: %s round method %q", errMalformed, c.Kind, fields["m"])
		}
		c.Method = m
		g, err := strconv.Atoi(fields["g"])
		if err != nil || g < 1 || g > 100 || strconv.Itoa(g) != fields["g"] {
			return Challenge{}, fmt.Errorf("%w: generation %q", errMalformed, fields["g"])
		}
		c.Generation = g
	default:
		return Challenge{}, fmt.Errorf("%w: kind %q", errMalformed, c.Kind)
	}
	if !validSessionID(c.SessionID) {
		return Challenge{}, fmt.Errorf("%w: session id", errMalformed)
	}
	switch c.Reason {
	case ReasonStart, ReasonRetry, ReasonSelect, ReasonResend:
	default:
		return Challenge{}, fmt.Errorf("%w: reason %q", errMalformed, c.Reason)
	}
	return c, nil
}

// Private returns the private challenge parameters that describe c to Verify.
func (c Challenge) Private() map[string]string {
	p := map[string]string{PrivKind: string(c.Kind), PrivSessionID: c.SessionID}
	if c.sends() {
		p[PrivMethod] = string(c.Method)
		p[PrivGeneration] = strconv.Itoa(c.Generation)
	}
	return p
}

// ChallengeFromPrivate reads what Private wrote. The reason is not carried and is left empty.
func ChallengeFromPrivate(p map[string]string) (Challenge, error) {
	c := Challenge{Kind: Kind(p[PrivKind]), SessionID: p[PrivSessionID]}
	if !validSessionID(c.SessionID) {
		return Challenge{}, fmt.Errorf("%w: session id", errMalformed)
	}
	switch c.Kind {
	case KindNonce:
	case KindCode, KindLink:
		m, err := ParseMethod(p[PrivMethod])
		if err != nil || m.RoundKind() != c.Kind {
			return Challenge{}, fmt.Errorf("%w: method", errMalformed)
		}
		c.Method = m
		g, err := strconv.Atoi(p[PrivGeneration])
		if err != nil || g < 1 || g > 100 || strconv.Itoa(g) != p[PrivGeneration] {
			return Challenge{}, fmt.Errorf("%w: generation", errMalformed)
		}
		c.Generation = g
	default:
		return Challenge{}, fmt.Errorf("%w: kind %q", errMalformed, c.Kind)
	}
	return c, nil
}

// validSessionID accepts the base64url session IDs Create issues (22 characters for 16 bytes).
func validSessionID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
