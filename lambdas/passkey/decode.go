package passkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// Size caps on what the client sends.
const (
	// MaxAssertionBytes caps a sign-in answer (PublicKeyCredential JSON of an assertion). Real
	// ones are well under 2 KiB; Verify itself reads at most triggers.MaxAnswerLength (8 KiB).
	MaxAssertionBytes = 6 << 10
	// MaxAttestationBytes caps a registration response (PublicKeyCredential JSON of an
	// attestation, certificate chains included).
	MaxAttestationBytes = 16 << 10
	// maxJSONDepth caps nesting (client extension results are the deepest part).
	maxJSONDepth = 8
)

// ErrMalformed is wrapped by every error DecodeAssertion and DecodeAttestation return.
var ErrMalformed = errors.New("passkey: malformed credential")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+fmt.Sprintf(format, args...), ErrMalformed)
}

// Member names accepted in PublicKeyCredential JSON (what PublicKeyCredential.toJSON() and the
// common libraries produce). Anything else is refused.
var (
	credentialMembers = map[string]bool{
		"id": true, "rawId": true, "type": true, "response": true,
		"authenticatorAttachment": true, "clientExtensionResults": true,
	}
	assertionResponseMembers = map[string]bool{
		"clientDataJSON": true, "authenticatorData": true, "signature": true, "userHandle": true,
	}
	attestationResponseMembers = map[string]bool{
		"clientDataJSON": true, "attestationObject": true, "transports": true,
		"authenticatorData": true, "publicKey": true, "publicKeyAlgorithm": true,
	}
)

// DecodeAssertion strictly decodes a sign-in answer: the PublicKeyCredential JSON of an
// assertion, at most MaxAssertionBytes of valid UTF-8, one object with no duplicate member
// names at any depth, only the known members (id, rawId, type, response, authenticatorAttachment,
// clientExtensionResults; response: clientDataJSON, authenticatorData, signature, userHandle)
// and nothing after it. go-webauthn then parses it (base64url fields, id == rawId, type
// "public-key", clientDataJSON, authenticatorData). It never panics.
func DecodeAssertion(answer string) (parsed *protocol.ParsedCredentialAssertionData, err error) {
	if len(answer) > MaxAssertionBytes {
		return nil, malformed("longer than %d bytes", MaxAssertionBytes)
	}
	data := []byte(answer)
	if err := checkCredentialJSON(data, assertionResponseMembers, "clientDataJSON", "authenticatorData", "signature"); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			parsed, err = nil, malformed("unparseable assertion")
		}
	}()
	parsed, err = protocol.ParseCredentialRequestResponseBytes(data)
	if err != nil {
		return nil, malformed("%s", ErrorReason(err))
	}
	if err := checkParsed(parsed.RawID, parsed.Raw.AssertionResponse.ClientDataJSON); err != nil {
		return nil, err
	}
	if n := len(parsed.Response.UserHandle); n > store.MaxUserHandleBytes {
		return nil, malformed("user handle of %d bytes", n)
	}
	return parsed, nil
}

// DecodeAttestation strictly decodes a registration response (the PublicKeyCredential JSON from
// navigator.credentials.create), with the same rules as DecodeAssertion and response members
// clientDataJSON, attestationObject (both required), transports, authenticatorData, publicKey,
// publicKeyAlgorithm; at most MaxAttestationBytes. It never panics.
func DecodeAttestation(data []byte) (parsed *protocol.ParsedCredentialCreationData, err error) {
	if len(data) > MaxAttestationBytes {
		return nil, malformed("longer than %d bytes", MaxAttestationBytes)
	}
	if err := checkCredentialJSON(data, attestationResponseMembers, "clientDataJSON", "attestationObject"); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			parsed, err = nil, malformed("unparseable attestation")
		}
	}()
	parsed, err = protocol.ParseCredentialCreationResponseBytes(data)
	if err != nil {
		return nil, malformed("%s", ErrorReason(err))
	}
	if err := checkParsed(parsed.RawID, parsed.Raw.AttestationResponse.ClientDataJSON); err != nil {
		return nil, err
	}
	if len(parsed.Response.Transports) > store.MaxTransports {
		return nil, malformed("more than %d transports", store.MaxTransports)
	}
	for _, t := range parsed.Response.Transports {
		if len(t) == 0 || len(t) > 32 || !utf8.ValidString(string(t)) {
			return nil, malformed("bad transport")
		}
	}
	return parsed, nil
}

func checkParsed(rawID, clientDataJSON []byte) error {
	if n := len(rawID); n == 0 || n > store.MaxCredentialIDBytes {
		return malformed("credential ID of %d bytes", n)
	}
	// Clients may add client data members (the spec says so), so only duplicate names,
	// nesting and malformed JSON are refused here; type, challenge and origin are checked later.
	if err := checkJSON(clientDataJSON, func(int, []string, string) error { return nil }); err != nil {
		return malformed("clientDataJSON: %v", err)
	}
	return nil
}

// checkCredentialJSON checks the outer structure of PublicKeyCredential JSON.
func checkCredentialJSON(data []byte, responseMembers map[string]bool, required ...string) error {
	var seenTop, seenResp = map[string]bool{}, map[string]bool{}
	err := checkJSON(data, func(depth int, path []string, name string) error {
		switch {
		case depth == 1:
			if !credentialMembers[name] {
				return fmt.Errorf("unknown member %s", quote(name))
			}
			seenTop[name] = true
		case depth == 2 && path[0] == "response":
			if !responseMembers[name] {
				return fmt.Errorf("unknown member response.%s", quote(name))
			}
			seenResp[name] = true
		}
		return nil
	})
	if err != nil {
		return malformed("%v", err)
	}
	for _, n := range []string{"id", "rawId", "type", "response"} {
		if !seenTop[n] {
			return malformed("member %q is missing", n)
		}
	}
	for _, n := range required {
		if !seenResp[n] {
			return malformed("member response.%s is missing", n)
		}
	}
	var top struct {
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(data, &top); err != nil || len(top.Response) == 0 || top.Response[0] != '{' {
		return malformed("response must be an object")
	}
	return nil
}

// checkJSON checks that data is one JSON value that is an object, valid UTF-8, nested at most
// maxJSONDepth deep, with no duplicate member names in any object and nothing after it; visit is
// called for every member name with its object's depth (1 = top level) and the path to it.
func checkJSON(data []byte, visit func(depth int, path []string, name string) error) error {
	return strictjson.Object(data, func(dec *json.Decoder) error { return walkObject(dec, 1, nil, visit) })
}

// walkObject reads the members of an object whose '{' was just read.
func walkObject(dec *json.Decoder, depth int, path []string, visit func(int, []string, string) error) error {
	if depth > maxJSONDepth {
		return errors.New("nested too deeply")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("invalid JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("invalid JSON")
		}
		if seen[name] {
			return fmt.Errorf("member %s given twice", quote(name))
		}
		seen[name] = true
		if err := visit(depth, path, name); err != nil {
			return err
		}
		if err := walkValue(dec, depth, append(path[:len(path):len(path)], name), visit); err != nil {
			return err
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errors.New("invalid JSON")
	}
	return nil
}

func walkValue(dec *json.Decoder, depth int, path []string, visit func(int, []string, string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return errors.New("invalid JSON")
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec, depth+1, path, visit)
	case '[':
		if depth+1 > maxJSONDepth {
			return errors.New("nested too deeply")
		}
		for dec.More() {
			if err := walkValue(dec, depth+1, path, visit); err != nil {
				return err
			}
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
			return errors.New("invalid JSON")
		}
		return nil
	}
	return errors.New("invalid JSON")
}

func quote(s string) string {
	if len(s) > 32 {
		n := 32
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return fmt.Sprintf("%q", s)
}
