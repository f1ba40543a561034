package authflow

import "github.com/aws/aws-lambda-go/events"

// ChallengeName is the only challenge name the protocol uses.
const ChallengeName = "CUSTOM_CHALLENGE"

// Outcome is what Define tells Cognito.
type Outcome int

// The outcomes.
const (
	Fail        Outcome = iota // fail the sign-in (the zero value: fail closed)
	Continue                   // present another CUSTOM_CHALLENGE
	IssueTokens                // the last round proved the user
)

func (o Outcome) String() string {
	switch o {
	case Continue:
		return "continue"
	case IssueTokens:
		return "tokens"
	default:
		return "fail"
	}
}

// Intent is what the client's last answer meant, judged from ClientMetadata and the round it
// answered. Verify checks an answer only when the intent is Attempt.
type Intent int

// The intents.
const (
	Invalid Intent = iota // anything the protocol does not allow
	Attempt               // a proof or a code to check
	Select                // the choice of a code method in the nonce round
	Resend                // a request for a new code
)

// Classify judges the answer to round c given the ClientMetadata sent with it. It is shared by
// Define, Create and Verify so that all three read an answer the same way.
func Classify(c Challenge, clientMetadata map[string]string, cfg Config) Intent {
	m, err := ParseMethod(clientMetadata[MetaSignInMethod])
	if err != nil || !cfg.Enabled(m) {
		return Invalid
	}
	action := clientMetadata[MetaAction]
	switch c.Kind {
	case KindNonce:
		switch {
		case action == ActionComplete && m.IsLink():
			return Attempt // a link's secret, in a fresh sign-in
		case action != "":
			return Invalid
		case m.IsKey():
			return Attempt
		}
		return Select
	case KindCode, KindLink:
		if m != c.Method {
			return Invalid // the method is fixed when the code or link round is created
		}
		switch {
		case action == "", action == ActionComplete && c.Kind == KindLink:
			return Attempt
		case action == ActionResend:
			return Resend
		}
	}
	return Invalid
}

// Plan is the state machine. Given the session history Cognito passes to Define and Create, the
// ClientMetadata of the current call and whether the user exists, it returns the outcome and, for
// Continue, the next round (with SessionID left empty for the first round: Create draws it).
// The reason explains a Fail for the logs; it never holds a secret.
func Plan(session []*events.CognitoEventUserPoolsChallengeResult, clientMetadata map[string]string, userNotFound bool, cfg Config) (Outcome, Challenge, string) {
	if len(session) == 0 {
		return Continue, Challenge{Kind: KindNonce, Reason: ReasonStart}, ""
	}
	rounds := make([]Challenge, len(session))
	for i, r := range session {
		if r == nil || r.ChallengeName != ChallengeName {
			return Fail, Challenge{}, "unexpected challenge in session"
		}
		c, err := ParseChallenge(r.ChallengeMetadata)
		if err != nil {
			return Fail, Challenge{}, "unreadable challenge metadata"
		}
		if i == 0 && (c.Kind != KindNonce || c.Reason != ReasonStart) {
			return Fail, Challenge{}, "session does not start with a nonce round"
		}
		if i > 0 && (c.SessionID != rounds[0].SessionID || c.Reason == ReasonStart) {
			return Fail, Challenge{}, "inconsistent session"
		}
		if i < len(session)-1 && r.ChallengeResult {
			return Fail, Challenge{}, "round succeeded but sign-in went on"
		}
		rounds[i] = c
	}
	last, lastResult := rounds[len(rounds)-1], session[len(session)-1].ChallengeResult

	if lastResult {
		if userNotFound {
			return Fail, Challenge{}, "user not found"
		}
		// Verify said yes; check that the round it answered could prove the user at all.
		// Verify says yes only to an attempt (Classify), so anything else is a forged history.
		if Classify(last, clientMetadata, cfg) == Attempt {
			return IssueTokens, Challenge{}, ""
		}
		return Fail, Challenge{}, "successful answer to a round that cannot prove the user"
	}

	intent := Classify(last, clientMetadata, cfg)
	if intent == Invalid {
		return Fail, Challenge{}, "answer not allowed by the protocol"
	}
	// Round i+1's reason records what the client did in round i.
	attempts, resends := 0, 0
	for _, c := range rounds[1:] {
		switch c.Reason {
		case ReasonRetry:
			attempts++
		case ReasonResend:
			resends++
		}
	}
	next := Challenge{SessionID: last.SessionID}
	switch intent {
	case Attempt:
		attempts++
		next.Reason = ReasonRetry
		next.Kind, next.Method, next.Generation = last.Kind, last.Method, last.Generation
	case Resend:
		resends++
		next.Reason = ReasonResend
		next.Kind, next.Method, next.Generation = last.Kind, last.Method, last.Generation+1
	case Select:
		m, _ := ParseMethod(clientMetadata[MetaSignInMethod])
		next.Reason = ReasonSelect
		next.Kind, next.Method, next.Generation = m.RoundKind(), m, 1
	}
	switch {
	case attempts >= cfg.MaxAttempts:
		return Fail, Challenge{}, "too many wrong answers"
	case resends > cfg.MaxResends:
		return Fail, Challenge{}, "too many resends"
	case len(rounds) >= cfg.MaxRounds():
		return Fail, Challenge{}, "too many rounds"
	}
	return Continue, next, ""
}

// String names an intent for logs.
func (i Intent) String() string {
	switch i {
	case Attempt:
		return "attempt"
	case Select:
		return "select"
	case Resend:
		return "resend"
	default:
		return "invalid"
	}
}
