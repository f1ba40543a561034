package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/smithy-go"
)

// SendEmailInput is a simple SES v2 email. Subject and both bodies are sent with charset UTF-8.
type SendEmailInput struct {
	From             string
	To               []string
	Subject          string
	Text, HTML       string
	ConfigurationSet string // "" sends none
}

type sesContent struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset"`
}

type sesRequest struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"Destination"`
	Content struct {
		Simple struct {
			Subject sesContent `json:"Subject"`
			Body    struct {
				Text sesContent `json:"Text"`
				HTML sesContent `json:"Html"`
			} `json:"Body"`
		} `json:"Simple"`
	} `json:"Content"`
	ConfigurationSetName string `json:"ConfigurationSetName,omitempty"`
}

const charset = "UTF-8"

// SendEmail calls SES v2 SendEmail (restJson1, POST /v2/email/outbound-emails).
func (c *Client) SendEmail(ctx context.Context, in *SendEmailInput) error {
	var r sesRequest
	r.FromEmailAddress = in.From
	r.Destination.ToAddresses = in.To
	r.Content.Simple.Subject = sesContent{in.Subject, charset}
	r.Content.Simple.Body.Text = sesContent{in.Text, charset}
	r.Content.Simple.Body.HTML = sesContent{in.HTML, charset}
	r.ConfigurationSetName = in.ConfigurationSet
	body, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &call{
		service: "ses", host: "email", op: "SendEmail", path: "/v2/email/outbound-emails",
		header: map[string]string{"Content-Type": "application/json"},
		body:   body, parse: parseRestJSONError,
	})
	return err
}

// MessageAttribute is an SNS message attribute.
type MessageAttribute struct {
	DataType    string // "String" or "Number"
	StringValue string
}

// PublishInput is an SNS SMS: Message sent straight to PhoneNumber.
type PublishInput struct {
	PhoneNumber       string
	Message           string
	MessageAttributes map[string]MessageAttribute
}

// Publish calls SNS Publish (awsQuery, form POST /).
func (c *Client) Publish(ctx context.Context, in *PublishInput) error {
	form := url.Values{
		"Action":      {"Publish"},
		"Version":     {"2010-03-31"},
		"PhoneNumber": {in.PhoneNumber},
		"Message":     {in.Message},
	}
	names := make([]string, 0, len(in.MessageAttributes))
	for n := range in.MessageAttributes {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		p := "MessageAttributes.entry." + strconv.Itoa(i+1) + "."
		a := in.MessageAttributes[n]
		form.Set(p+"Name", n)
		form.Set(p+"Value.DataType", a.DataType)
		form.Set(p+"Value.StringValue", a.StringValue)
	}
	_, err := c.do(ctx, &call{
		service: "sns", host: "sns", op: "Publish", path: "/",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body:   []byte(form.Encode()), parse: parseQueryError,
	})
	return err
}

// Attribute is a Cognito user attribute.
type Attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// AdminUpdateUserAttributesInput updates attributes of a user of a user pool.
type AdminUpdateUserAttributesInput struct {
	UserPoolID     string
	Username       string
	UserAttributes []Attribute
}

// AdminUpdateUserAttributes calls Cognito AdminUpdateUserAttributes (awsJson1.1).
func (c *Client) AdminUpdateUserAttributes(ctx context.Context, in *AdminUpdateUserAttributesInput) error {
	_, err := c.json11(ctx, "cognito-idp", "AWSCognitoIdentityProviderService", "AdminUpdateUserAttributes", struct {
		UserPoolID     string      `json:"UserPoolId"`
		Username       string      `json:"Username"`
		UserAttributes []Attribute `json:"UserAttributes"`
	}{in.UserPoolID, in.Username, in.UserAttributes})
	return err
}

// jsonError is the body of restJson1 and awsJson errors.
type jsonError struct {
	Type     string `json:"__type"`
	Code     string `json:"code"`
	CodeU    string `json:"Code"`
	Message  string `json:"message"`
	MessageU string `json:"Message"`
}

func (j *jsonError) message() string {
	if j.Message != "" {
		return j.Message
	}
	return j.MessageU
}

// parseRestJSONError reads a restJson1 error: the type in x-amzn-ErrorType, else in the body.
func parseRestJSONError(resp *http.Response, body []byte) *APIError {
	var j jsonError
	_ = json.Unmarshal(body, &j)
	code := resp.Header.Get("X-Amzn-Errortype")
	for _, c := range []string{j.Code, j.CodeU, j.Type} {
		if code == "" {
			code = c
		}
	}
	return &APIError{Code: sanitizeType(code), Message: j.message()}
}

// parseJSONError reads an awsJson1.x error: __type (or code) in the body, else x-amzn-ErrorType.
func parseJSONError(resp *http.Response, body []byte) *APIError {
	var j jsonError
	_ = json.Unmarshal(body, &j)
	code := ""
	for _, c := range []string{j.Type, j.Code, j.CodeU, resp.Header.Get("X-Amzn-Errortype")} {
		if code == "" {
			code = c
		}
	}
	return &APIError{Code: sanitizeType(code), Message: j.message()}
}

// parseQueryError reads an awsQuery XML error: ErrorResponse/Error/{Type,Code,Message}. The
// elements are simple text, so they are found by name rather than with encoding/xml (which would
// add about 200 kB to a binary for three strings).
func parseQueryError(_ *http.Response, body []byte) *APIError {
	b := string(body)
	if i := strings.Index(b, "<Error>"); i >= 0 {
		b = b[i:]
	}
	e := &APIError{Code: sanitizeType(xmlElement(b, "Code")), Message: xmlElement(b, "Message")}
	switch xmlElement(b, "Type") {
	case "Sender":
		e.Fault = smithy.FaultClient
	case "Receiver":
		e.Fault = smithy.FaultServer
	}
	return e
}

// xmlElement is the unescaped text of the first <name>...</name> in s ("" if none).
func xmlElement(s, name string) string {
	i := strings.Index(s, "<"+name+">")
	if i < 0 {
		return ""
	}
	s = s[i+len(name)+2:]
	j := strings.Index(s, "</"+name+">")
	if j < 0 {
		return ""
	}
	return xmlUnescape(s[:j])
}

// xmlUnescape decodes the predefined entities and character references; anything else is kept.
func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, ';')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		ent, ok := s[1:j], true
		switch ent {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "apos":
			b.WriteByte('\'')
		case "quot":
			b.WriteByte('"')
		default:
			ok = false
			if len(ent) > 1 && ent[0] == '#' {
				var n uint64
				var err error
				if ent[1] == 'x' || ent[1] == 'X' {
					n, err = strconv.ParseUint(ent[2:], 16, 32)
				} else {
					n, err = strconv.ParseUint(ent[1:], 10, 32)
				}
				if ok = err == nil && utf8.ValidRune(rune(n)); ok {
					b.WriteRune(rune(n))
				}
			}
		}
		if !ok {
			b.WriteString(s[:j+1])
		}
		s = s[j+1:]
	}
}

// GetSecretValue calls Secrets Manager GetSecretValue (awsJson1.1) for the current version of
// secretID and returns its SecretString. A secret without a string value is an error. The value is
// never part of an error.
func (c *Client) GetSecretValue(ctx context.Context, secretID string) (string, error) {
	out, err := c.json11(ctx, "secretsmanager", "secretsmanager", "GetSecretValue", struct {
		SecretID string `json:"SecretId"`
	}{secretID})
	if err != nil {
		return "", err
	}
	var v struct {
		SecretString *string `json:"SecretString"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", &smithy.DeserializationError{Err: errors.New("awsapi: secretsmanager GetSecretValue: unreadable response")}
	}
	if v.SecretString == nil {
		return "", errors.New("awsapi: secretsmanager GetSecretValue: the secret has no string value")
	}
	return *v.SecretString, nil
}

// GetUserOutput is what Cognito GetUser returns about the holder of an access token.
type GetUserOutput struct {
	Username       string      `json:"Username"`
	UserAttributes []Attribute `json:"UserAttributes"`
}

// GetUser calls Cognito GetUser (awsJson1.1) with an access token. Cognito authorizes the call by
// the token alone and refuses a token that was revoked (GlobalSignOut, RevokeToken), has expired
// or whose user is disabled or deleted, with NotAuthorizedException (or UserNotFoundException).
// The request is signed with the client's credentials all the same, which Cognito ignores. The
// token is never part of an error.
func (c *Client) GetUser(ctx context.Context, accessToken string) (*GetUserOutput, error) {
	out, err := c.json11(ctx, "cognito-idp", "AWSCognitoIdentityProviderService", "GetUser", struct {
		AccessToken string `json:"AccessToken"`
	}{accessToken})
	if err != nil {
		return nil, err
	}
	var v GetUserOutput
	if err := json.Unmarshal(out, &v); err != nil || v.Username == "" {
		return nil, &smithy.DeserializationError{Err: errors.New("awsapi: cognito-idp GetUser: unreadable response")}
	}
	return &v, nil
}

// AdminSetUserPasswordInput sets a user's password as an administrator.
type AdminSetUserPasswordInput struct {
	UserPoolID string
	Username   string
	Password   string
	// Permanent true sets the password as the user's own (status CONFIRMED); false makes it a
	// temporary password that must be changed at the next password sign-in.
	Permanent bool
}

// AdminSetUserPassword calls Cognito AdminSetUserPassword (awsJson1.1). The password is never
// part of an error.
func (c *Client) AdminSetUserPassword(ctx context.Context, in *AdminSetUserPasswordInput) error {
	_, err := c.json11(ctx, "cognito-idp", "AWSCognitoIdentityProviderService", "AdminSetUserPassword", struct {
		UserPoolID string `json:"UserPoolId"`
		Username   string `json:"Username"`
		Password   string `json:"Password"`
		Permanent  bool   `json:"Permanent"`
	}{in.UserPoolID, in.Username, in.Password, in.Permanent})
	return err
}

// AdminUserGlobalSignOutInput names the user to sign out everywhere.
type AdminUserGlobalSignOutInput struct {
	UserPoolID string
	Username   string
}

// AdminUserGlobalSignOut calls Cognito AdminUserGlobalSignOut (awsJson1.1): the user's refresh
// tokens stop working, and so do their access tokens for Cognito's token-authorized operations
// (GetUser among them); a JWT authorizer still accepts an access token until it expires.
func (c *Client) AdminUserGlobalSignOut(ctx context.Context, in *AdminUserGlobalSignOutInput) error {
	_, err := c.json11(ctx, "cognito-idp", "AWSCognitoIdentityProviderService", "AdminUserGlobalSignOut", struct {
		UserPoolID string `json:"UserPoolId"`
		Username   string `json:"Username"`
	}{in.UserPoolID, in.Username})
	return err
}

// json11 calls op of an awsJson1.1 service (X-Amz-Target prefix.op) with in as the JSON body.
func (c *Client) json11(ctx context.Context, service, prefix, op string, in any) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, &call{
		service: service, host: service, op: op, path: "/",
		header: map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Amz-Target": prefix + "." + op,
		},
		body: body, parse: parseJSONError,
	})
}
