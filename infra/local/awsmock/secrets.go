package awsmock

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Secrets Manager (awsJson1.1, X-Amz-Target secretsmanager.GetSecretValue): the mock answers
// GetSecretValue for the secrets registered with PutSecret, as AWS does:
//
//   - SecretId may be the secret's full ARN, its ARN without the six random characters Secrets
//     Manager appends to the name ("partial ARN"), or its name;
//   - the answer carries ARN, Name, VersionId, SecretString, VersionStages ["AWSCURRENT"] and
//     CreatedDate;
//   - an unknown secret is HTTP 400 ResourceNotFoundException "Secrets Manager can't find the
//     specified secret.";
//   - a request without SecretId is HTTP 400 InvalidParameterException.
//
// Other Secrets Manager operations are answered 400 and logged, like any request nothing
// emulates. Calls are counted as "secretsmanager.<Operation>"; faults use Service
// "secretsmanager" (Throttle: 400 ThrottlingException, ServerError: 500 InternalServiceError).

// ServiceSecretsManager is Secrets Manager's name in Fault.Service and the keys of Calls.
const ServiceSecretsManager = "secretsmanager"

const opGetSecretValue = "GetSecretValue"

// SecretLength is the length of the values NewSecretValue makes (the construct's
// GenerateSecretString PasswordLength).
const SecretLength = 64

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSecretValue returns SecretLength characters drawn uniformly from [A-Za-z0-9] with
// crypto/rand, the shape of the value CloudFormation generates for the construct's deployment
// secret (GenerateSecretString, punctuation excluded).
func NewSecretValue() (string, error) {
	s, err := randomAlnum(SecretLength)
	if err != nil {
		return "", fmt.Errorf("awsmock: random secret: %w", err)
	}
	return s, nil
}

// randomAlnum returns n characters drawn uniformly from secretAlphabet with crypto/rand.
func randomAlnum(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(secretAlphabet)))
	for i := range b {
		c, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = secretAlphabet[c.Int64()]
	}
	return string(b), nil
}

// SecretARN returns the ARN Secrets Manager gives a secret named name in region and account: the
// name followed by "-" and six random characters.
func SecretARN(region, account, name string) (string, error) {
	suffix, err := randomAlnum(6)
	if err != nil {
		return "", fmt.Errorf("awsmock: random ARN suffix: %w", err)
	}
	return "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + name + "-" + suffix, nil
}

// secretARNPattern splits a secret ARN into its prefix ("arn:...:secret:"), name and suffix.
var secretARNPattern = regexp.MustCompile(`^(arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)([\w/+=.@-]+)-([A-Za-z0-9]{6})$`)

type secret struct {
	arn, name, value, version string
	created                   time.Time
}

// PutSecret registers (or replaces) the secret with this full ARN
// (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX, see SecretARN) and its string value.
// A replaced value gets a new VersionId, as PutSecretValue gives it.
func (s *Server) PutSecret(arn, value string) error {
	m := secretARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return fmt.Errorf("awsmock: %q is not a full Secrets Manager secret ARN (…:secret:NAME-XXXXXX)", arn)
	}
	if value == "" {
		return errors.New("awsmock: a secret needs a value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]*secret{}
	}
	s.secrets[arn] = &secret{arn: arn, name: m[2], value: value, version: newID(), created: s.clock()}
	return nil
}

// SecretValue returns the current value of a registered secret, found as GetSecretValue finds it
// (full ARN, partial ARN or name).
func (s *Server) SecretValue(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.findSecretLocked(id); sec != nil {
		return sec.value, true
	}
	return "", false
}

func (s *Server) findSecretLocked(id string) *secret {
	if id == "" {
		return nil
	}
	if sec := s.secrets[id]; sec != nil {
		return sec
	}
	for _, sec := range s.secrets {
		m := secretARNPattern.FindStringSubmatch(sec.arn)
		if id == sec.name || id == m[1]+m[2] {
			return sec
		}
	}
	return nil
}

const smContentType = "application/x-amz-json-1.1"

// writeSMError answers in Secrets Manager's awsJson1.1 error form ({"__type", "Message"}).
func writeSMError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "Message": msg})
	w.Header().Set("Content-Type", smContentType)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) getSecretValue(w http.ResponseWriter, body []byte) {
	var in struct {
		SecretId     *string
		VersionId    *string
		VersionStage *string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeSMError(w, http.StatusBadRequest, "SerializationException", "awsmock: GetSecretValue body is not valid JSON")
		return
	}
	id := strings.TrimSpace(str(in.SecretId))
	if id == "" {
		writeSMError(w, http.StatusBadRequest, "InvalidParameterException", "You must specify a SecretId.")
		return
	}
	s.mu.Lock()
	sec := s.findSecretLocked(id)
	var out map[string]any
	if sec != nil {
		out = map[string]any{
			"ARN":           sec.arn,
			"Name":          sec.name,
			"VersionId":     sec.version,
			"SecretString":  sec.value,
			"VersionStages": []string{"AWSCURRENT"},
			"CreatedDate":   float64(sec.created.UnixMilli()) / 1000,
		}
	}
	s.mu.Unlock()
	if sec == nil {
		writeSMError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	if (in.VersionId != nil && *in.VersionId != sec.version) || (in.VersionStage != nil && *in.VersionStage != "AWSCURRENT") {
		writeSMError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for the given version or staging label.")
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", smContentType)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
