package smoke

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// SentCounter is implemented by a CodeSource that sees every message the deployment sends (the
// local harness's Mailbox). The unknown-user check then also proves that nothing was sent to the
// unknown address; with any other CodeSource that part is reported as not observable.
type SentCounter interface {
	// Sent returns how many messages went to recipient so far.
	Sent(recipient string) int
}

// maxProbeAnswers bounds the wrong answers of one probe (the construct allows 3 per sign-in).
const maxProbeAnswers = 10

// probe is what one sign-in attempt showed: InitiateAuth, choosing email_otp, then wrong codes
// until Cognito ends the sign-in.
type probe struct {
	typed string
	// initErr is the API error of InitiateAuth ("" when it answered a challenge).
	initErr string
	round1  map[string]string
	// chooseErr is the API error of choosing email_otp.
	chooseErr string
	round2    map[string]string
	// later describes each round after a wrong code: codeStatus and the parameter keys.
	later []string
	// final is how the sign-in ended: "Code: message" of the error, or "tokens".
	final string
	// sent is the number of messages to typed during the probe (-1: not observable).
	sent int
	// choose is how long choosing email_otp took (the round that sends, or pretends to).
	choose time.Duration
}

// apiError returns "Code: message" for a service error, or "" and false for anything else (a
// network failure, a timeout: the check cannot conclude).
func apiError(err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	return ae.ErrorCode() + ": " + ae.ErrorMessage(), true
}

// randomCode returns n random digits (a wrong answer, except with probability 10^-n).
func randomCode(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err)
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// probe signs in as name with email_otp and answers wrong codes of codeLen digits to the end.
func (r *runner) probe(ctx context.Context, name string, codeLen int) (*probe, error) {
	p := &probe{typed: name, sent: -1}
	counter, counts := r.cfg.Codes.(SentCounter)
	before := 0
	if counts {
		before = counter.Sent(name)
	}
	defer func() {
		if counts {
			p.sent = counter.Sent(name) - before
		}
	}()
	init, err := r.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(r.cfg.ClientID),
		AuthParameters: map[string]string{"USERNAME": name},
	})
	if err != nil {
		msg, ok := apiError(err)
		if !ok {
			return nil, fmt.Errorf("InitiateAuth: %w", err)
		}
		p.initErr, p.final = msg, msg
		return p, nil
	}
	p.round1 = init.ChallengeParameters
	user := init.ChallengeParameters["USERNAME"]
	meta := map[string]string{"signInMethod": "email_otp"}
	start := time.Now()
	sel, err := r.respond(ctx, init.Session, user, "email_otp", meta)
	p.choose = time.Since(start)
	if err != nil {
		msg, ok := apiError(err)
		if !ok {
			return nil, fmt.Errorf("choose email_otp: %w", err)
		}
		p.chooseErr, p.final = msg, msg
		return p, nil
	}
	if sel.AuthenticationResult != nil {
		p.final = "tokens"
		return p, nil
	}
	p.round2 = sel.ChallengeParameters
	session := sel.Session
	for range maxProbeAnswers {
		out, err := r.respond(ctx, session, user, randomCode(codeLen), meta)
		if err != nil {
			msg, ok := apiError(err)
			if !ok {
				return nil, fmt.Errorf("answer a wrong code: %w", err)
			}
			p.final = msg
			return p, nil
		}
		if out.AuthenticationResult != nil {
			p.final = "tokens"
			return p, nil
		}
		p.later = append(p.later, "codeStatus="+out.ChallengeParameters["codeStatus"]+" keys="+strings.Join(sortedKeys(out.ChallengeParameters), ","))
		session = out.Session
	}
	return nil, fmt.Errorf("the sign-in did not end after %d wrong codes", maxProbeAnswers)
}

func sortedKeys(m map[string]string) []string {
	k := keys(m)
	slices.Sort(k)
	return k
}

// uuidShape matches an RFC 4122 UUID and captures its version digit.
var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// nameKind describes the form of a ChallengeParameters.USERNAME: "version-4 UUID", "the name
// typed", ...
func nameKind(userName, typed string) string {
	switch m := uuidShape.FindStringSubmatch(strings.ToLower(userName)); {
	case userName == "":
		return "empty"
	case m != nil:
		return "version-" + m[1] + " UUID"
	case strings.EqualFold(userName, typed):
		return "the name typed"
	default:
		return "another string"
	}
}

// maskShape is a masked destination with every character but '*', '@' and '.' replaced by 'x':
// "s***@e***.com" gives "x***@x***.xxx".
func maskShape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '*' || c == '@' || c == '.' {
			b.WriteRune(c)
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

// maskFollows reports whether a masked email destination is what the typed address gives: its
// first character, '@', the domain's first character, and only the domain's ending in clear.
// Someone who typed the address knows those; a destination that does not follow from it (a
// placeholder) tells them the answer is not about a real account.
func maskFollows(dest, typed string) bool {
	typed = strings.ToLower(strings.TrimSpace(typed))
	local, domain, ok := strings.Cut(typed, "@")
	dl, dd, dok := strings.Cut(dest, "@")
	if !ok || !dok || local == "" || domain == "" {
		return false
	}
	first := func(s string) string { r, _ := utf8.DecodeRuneInString(s); return string(r) }
	if !strings.HasPrefix(dl, first(local)) || strings.Trim(dl[len(first(local)):], "*") != "" || !strings.HasPrefix(dd, first(domain)) {
		return false
	}
	rest := strings.TrimLeft(dd[len(first(domain)):], "*")
	return rest == "" || strings.HasSuffix(domain, rest) && strings.HasPrefix(rest, ".")
}

// jsonKeys returns the sorted top-level keys of a JSON object, or nil if s is not one.
func jsonKeys(s string) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &m) != nil || m == nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compareParams appends to fails every difference between the parameters a real user and an
// unknown one were shown in one round that the toolkit controls. USERNAME is left to the caller
// (Cognito sets it).
func compareParams(round string, real, ghost map[string]string, realTyped, ghostTyped string, fails *[]string) {
	if rk, gk := sortedKeys(real), sortedKeys(ghost); !slices.Equal(rk, gk) {
		*fails = append(*fails, fmt.Sprintf("%s parameter keys differ: real user %v, unknown %v", round, rk, gk))
		return
	}
	for k, rv := range real {
		gv := ghost[k]
		switch k {
		case "USERNAME":
		case "kind", "methods", "deliveryMedium", "codeStatus", "resendAfter":
			if rv != gv {
				*fails = append(*fails, fmt.Sprintf("%s %s differs: real user %q, unknown %q", round, k, rv, gv))
			}
		case "nonce":
			if len(rv) != len(gv) {
				*fails = append(*fails, fmt.Sprintf("%s nonce length differs: real user %d, unknown %d", round, len(rv), len(gv)))
			}
		case "destination":
			if maskShape(rv) != maskShape(gv) {
				*fails = append(*fails, fmt.Sprintf("%s masked destination shape differs: real user %q, unknown %q", round, rv, gv))
			} else if rf, gf := maskFollows(rv, realTyped), maskFollows(gv, ghostTyped); rf != gf {
				*fails = append(*fails, fmt.Sprintf("%s masked destination: the real user's (%q) %s the address typed, the unknown's (%q for %q) %s the address typed",
					round, rv, follows(rf), gv, ghostTyped, follows(gf)))
			}
		default:
			if rj, gj := jsonKeys(rv), jsonKeys(gv); !slices.Equal(rj, gj) {
				*fails = append(*fails, fmt.Sprintf("%s %s differs in structure: real user keys %v, unknown %v", round, k, rj, gj))
			}
		}
	}
}

func follows(b bool) string {
	if b {
		return "follows from"
	}
	return "does not follow from"
}

// compareProbes compares a real user's probe with an unknown address's. fails lists what the
// toolkit controls and differs (the check fails); warn explains a difference in USERNAME, which
// Cognito chooses ("" when there is none).
func compareProbes(real, ghost *probe) (warn string, fails []string) {
	switch {
	case real.initErr != "":
		return "", []string{"the real user's InitiateAuth failed: " + real.initErr}
	case real.chooseErr != "":
		return "", []string{"choosing email_otp failed for the real user: " + real.chooseErr}
	case real.final == "tokens":
		return "", []string{"a random wrong code signed the real user in (a one-in-a-million chance, or codes are not checked): run again"}
	}
	if ghost.initErr != "" {
		fails = append(fails, "InitiateAuth for the unknown address failed with "+ghost.initErr+" where the real user got a challenge"+
			map[bool]string{true: " (the app client's PreventUserExistenceErrors is off)", false: ""}[strings.HasPrefix(ghost.initErr, "UserNotFoundException")])
		return "", fails
	}
	compareParams("round 1", real.round1, ghost.round1, real.typed, ghost.typed, &fails)
	rk, gk := nameKind(real.round1["USERNAME"], real.typed), nameKind(ghost.round1["USERNAME"], ghost.typed)
	if rk != gk {
		warn = fmt.Sprintf("this deployment leaks which addresses have an account. ChallengeParameters.USERNAME "+
			"of InitiateAuth is %s for a real user and %s for an unknown address (%s): anyone can tell whether an "+
			"address has an account in this user pool with one InitiateAuth call, without any code being sent. "+
			"Cognito chooses USERNAME; the toolkit cannot change it.",
			article(rk), article(gk), ghost.round1["USERNAME"])
	}
	if ghost.chooseErr != "" {
		fails = append(fails, "choosing email_otp for the unknown address failed with "+ghost.chooseErr)
		return warn, fails
	}
	compareParams("round 2 (email_otp)", real.round2, ghost.round2, real.typed, ghost.typed, &fails)
	if !slices.Equal(real.later, ghost.later) {
		fails = append(fails, fmt.Sprintf("rounds after a wrong code differ: real user %v, unknown %v", real.later, ghost.later))
	}
	switch {
	case ghost.final == "tokens":
		fails = append(fails, "the unknown address received tokens")
	case !strings.HasPrefix(real.final, "NotAuthorizedException: "):
		fails = append(fails, "the real user's sign-in ended with "+real.final+", want NotAuthorizedException")
	case ghost.final != real.final:
		fails = append(fails, fmt.Sprintf("the sign-ins end differently: real user %q, unknown %q", real.final, ghost.final))
	}
	if ghost.sent > 0 {
		fails = append(fails, fmt.Sprintf("%d message(s) sent to the unknown address", ghost.sent))
	}
	return warn, fails
}

func article(kind string) string {
	if strings.HasPrefix(kind, "the ") || kind == "empty" {
		return kind
	}
	return "a " + kind
}

// unknownAddress returns a random address at the domain of email (a different local part
// cannot exist: 24 random hex digits).
func unknownAddress(email string) string {
	domain := "example.com"
	if _, d, ok := strings.Cut(email, "@"); ok && d != "" {
		domain = d
	}
	return "nobody-" + randomHex(12) + "@" + domain
}

// unknownUser is the unknown-user check: the same sign-in (InitiateAuth, choose email_otp,
// wrong codes to the end) for the smoke user and for a random address at the same domain,
// compared. It fails for a difference the toolkit controls (parameter keys, kind, methods,
// nonce length, masked destination shape, codeStatus, resendAfter, later rounds, the final
// error, a message to the unknown address) and warns for a difference in USERNAME (Cognito's).
// It sends one code to the smoke user (not read) and counts 3 wrong answers toward its lock.
func (r *runner) unknownUser(ctx context.Context) (detail, warn string, err error) {
	codeLen := r.codeLen
	if codeLen == 0 {
		codeLen = 6
	}
	real, err := r.probe(ctx, r.cfg.Email, codeLen)
	if err != nil {
		return "", "", fmt.Errorf("real user: %w", err)
	}
	ghostName := unknownAddress(r.cfg.Email)
	ghost, err := r.probe(ctx, ghostName, codeLen)
	if err != nil {
		return "", "", fmt.Errorf("unknown address: %w", err)
	}
	warn, fails := compareProbes(real, ghost)
	if len(fails) > 0 {
		return "", warn, fmt.Errorf("an unknown address can be told from a real user by what the toolkit answers: %s", strings.Join(fails, "; "))
	}
	if warn != "" {
		warn += " Everything the toolkit controls matched (see the line above)."
	}
	sent := "nothing sent to it"
	if ghost.sent < 0 {
		sent = "messages to it not observable from here"
	}
	detail = fmt.Sprintf("%s vs %s: same parameters, masked destination %s vs %s, codeStatus %s, resendAfter %s, %d wrong codes then %q; %s; choosing email_otp took %s vs %s (one sample each, not checked)",
		r.cfg.Email, ghostName, real.round2["destination"], ghost.round2["destination"], ghost.round2["codeStatus"], ghost.round2["resendAfter"],
		len(real.later)+1, real.final, sent, round(real.choose), round(ghost.choose))
	if warn == "" {
		detail += "; USERNAME " + nameKind(real.round1["USERNAME"], real.typed) + " for both"
	}
	return detail, warn, nil
}
