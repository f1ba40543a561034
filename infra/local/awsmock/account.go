package awsmock

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The read calls of an account check (infra/preflight) are answered from an Account the test can
// switch with SetAccount or UpdateAccount:
//
//   - STS GetCallerIdentity (awsQuery, Version=2011-06-15): Account.ID and Account.CallerARN, or
//     Account.CredentialsError (ExpiredToken: 400, InvalidClientTokenId: 403).
//   - SSM GetParameter (awsJson1.1, X-Amz-Target AmazonSSM.GetParameter): Account.Parameters
//     (String parameters); an unknown name is 400 ParameterNotFound.
//   - SES v2 GetAccount (restJson1, GET /v2/email/account): Account.SES.
//   - SES v2 GetEmailIdentity (GET /v2/email/identities/{name}): Account.Identities, found by
//     name case-insensitively; an unknown one is 404 NotFoundException.
//   - SNS GetSMSSandboxAccountStatus, GetSMSAttributes and ListOriginationNumbers (awsQuery,
//     Version=2010-03-31): Account.SMS. ListOriginationNumbers pages by MaxResults (1-30,
//     default 30) and NextToken.
//   - CloudFormation DescribeStacks and ListStackResources (awsQuery, Version=2010-05-15):
//     Account.Stacks, by stack name; an unknown stack is 400 ValidationError "Stack with id NAME
//     does not exist" (DescribeStacks without a name lists every stack).
//
// Calls are counted as "<service>.<Operation>" with services "sts", "ssm", "ses", "sns" and
// "cloudformation"; faults (including AccessDenied) are injected as for the other calls.

// Service names of the read calls, as used in Fault.Service and the keys of Calls.
const (
	ServiceSTS            = "sts"
	ServiceSSM            = "ssm"
	ServiceCloudFormation = "cloudformation"
)

// DefaultAccountID is the account a new Server's STS GetCallerIdentity answers with.
const DefaultAccountID = "123456789012"

// Account is the state the read calls are answered from. The zero value of each field is what a
// brand-new AWS account shows, except where NewAccount says otherwise.
type Account struct {
	// ID is the 12-digit account ID GetCallerIdentity returns. Default DefaultAccountID.
	ID string
	// CallerARN is the caller's ARN. Default arn:aws:iam::<ID>:user/local.
	CallerARN string
	// CredentialsError, when set, makes GetCallerIdentity fail with this error code:
	// "ExpiredToken" (400) or "InvalidClientTokenId" (403); any other code is answered 403.
	CredentialsError string
	// Parameters are SSM String parameters by name, e.g. "/cdk-bootstrap/hnb659fds/version".
	// Default none (the account is not bootstrapped).
	Parameters map[string]string
	// SES is the SES account in the Region.
	SES SESAccount
	// Identities are the SES identities by name (a domain or an email address).
	Identities map[string]EmailIdentity
	// SMS is the SNS SMS state.
	SMS SMSAccount
	// Stacks are the CloudFormation stacks by name.
	Stacks map[string]Stack
}

// Stack is one CloudFormation stack (DescribeStacks, ListStackResources).
type Stack struct {
	// Status is the StackStatus, e.g. CREATE_COMPLETE (default), ROLLBACK_COMPLETE.
	Status string
	// Resources are the stack's resources, in order.
	Resources []StackResource
}

// SESAccount is what SES v2 GetAccount returns.
type SESAccount struct {
	// ProductionAccess: false is the sandbox (verified recipients only, 200 a day, 1 a second).
	ProductionAccess bool
	// SendingEnabled: false when sending is paused for the account in the Region.
	SendingEnabled bool
	// EnforcementStatus is HEALTHY, PROBATION or SHUTDOWN. Default (empty) HEALTHY.
	EnforcementStatus string
	// ReviewStatus is the production-access request's status (PENDING, GRANTED, DENIED,
	// FAILED) or empty when none was made.
	ReviewStatus string
	// Max24HourSend, MaxSendRate and SentLast24Hours are the send quota.
	Max24HourSend, MaxSendRate, SentLast24Hours float64
}

// EmailIdentity is what SES v2 GetEmailIdentity returns for one identity.
type EmailIdentity struct {
	// Type is DOMAIN or EMAIL_ADDRESS. Default: DOMAIN unless the name holds an "@".
	Type string
	// VerifiedForSending is VerifiedForSendingStatus.
	VerifiedForSending bool
	// VerificationStatus is PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE or NOT_STARTED. Default
	// SUCCESS when VerifiedForSending, else PENDING.
	VerificationStatus string
	// DKIMStatus is DkimAttributes.Status: PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE or
	// NOT_STARTED. Default: VerificationStatus for a domain, NOT_STARTED for an address.
	DKIMStatus string
	// DKIMTokens are the three Easy DKIM tokens (CNAME <token>._domainkey.<domain> →
	// <token>.dkim.amazonses.com).
	DKIMTokens []string
}

// SMSAccount is the SNS SMS state.
type SMSAccount struct {
	// Sandbox is GetSMSSandboxAccountStatus's IsInSandbox.
	Sandbox bool
	// Attributes are the account's SMS attributes (GetSMSAttributes), e.g. "MonthlySpendLimit".
	// An attribute not set is left out of the answer, as SNS does.
	Attributes map[string]string
	// OriginationNumbers are ListOriginationNumbers' numbers, in order.
	OriginationNumbers []OriginationNumber
}

// OriginationNumber is one of the account's origination numbers.
type OriginationNumber struct {
	PhoneNumber  string    // E.164
	Country      string    // ISO 3166 alpha-2 (Iso2CountryCode)
	Status       string    // e.g. ACTIVE, PENDING
	RouteType    string    // Transactional, Promotional or Premium
	Capabilities []string  // SMS, MMS, VOICE
	CreatedAt    time.Time // default the server's clock when answered
}

// StackResource is one resource of a deployed stack (ListStackResources).
type StackResource struct {
	LogicalID, PhysicalID, Type string
	Status                      string // default CREATE_COMPLETE
}

// NewAccount returns the state of a brand-new account: ID DefaultAccountID, not bootstrapped,
// SES in the sandbox (sending enabled, 200 a day, 1 a second) with no identity, SMS in the
// sandbox with no spend limit set (SNS then applies the account's maximum, 1 USD on a new
// account) and no origination number, no stack.
func NewAccount() Account {
	return Account{
		ID:  DefaultAccountID,
		SES: SESAccount{SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1},
		SMS: SMSAccount{Sandbox: true},
	}
}

func (a Account) clone() Account {
	a.Parameters = maps.Clone(a.Parameters)
	a.Identities = maps.Clone(a.Identities)
	for k, id := range a.Identities {
		id.DKIMTokens = slices.Clone(id.DKIMTokens)
		a.Identities[k] = id
	}
	a.SMS.Attributes = maps.Clone(a.SMS.Attributes)
	a.SMS.OriginationNumbers = slices.Clone(a.SMS.OriginationNumbers)
	for i, n := range a.SMS.OriginationNumbers {
		n.Capabilities = slices.Clone(n.Capabilities)
		a.SMS.OriginationNumbers[i] = n
	}
	a.Stacks = maps.Clone(a.Stacks)
	for k, st := range a.Stacks {
		st.Resources = slices.Clone(st.Resources)
		a.Stacks[k] = st
	}
	return a
}

// SetAccount replaces the account state the read calls answer from (a copy of a is kept).
func (s *Server) SetAccount(a Account) {
	a = a.clone()
	s.mu.Lock()
	s.account = a
	s.mu.Unlock()
}

// UpdateAccount changes the account state in place: f gets the current state (with the lock
// held; f must not call the Server).
func (s *Server) UpdateAccount(f func(*Account)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.account)
	s.account = s.account.clone()
}

// Account returns a copy of the current account state.
func (s *Server) Account() Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account.clone()
}

const (
	opGetCallerIdentity          = "GetCallerIdentity"
	opGetParameter               = "GetParameter"
	opGetAccount                 = "GetAccount"
	opGetEmailIdentity           = "GetEmailIdentity"
	opGetSMSSandboxAccountStatus = "GetSMSSandboxAccountStatus"
	opGetSMSAttributes           = "GetSMSAttributes"
	opListOriginationNumbers     = "ListOriginationNumbers"
	opListStackResources         = "ListStackResources"
	opDescribeStacks             = "DescribeStacks"
)

const (
	nsSTS = "https://sts.amazonaws.com/doc/2011-06-15/"
	nsSNS = "http://sns.amazonaws.com/doc/2010-03-31/"
	nsCFN = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
)

// queryResponse builds an awsQuery answer <{op}Response><{op}Result>result</...>.
func writeQueryResponse(w http.ResponseWriter, ns, op, result string) {
	var b strings.Builder
	b.WriteString(`<` + op + `Response xmlns="` + ns + `"><` + op + `Result>`)
	b.WriteString(result)
	id := newID()
	b.WriteString(`</` + op + `Result><ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></` + op + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// xmlElem writes <name>text</name> with text escaped.
func xmlElem(b *strings.Builder, name, text string) {
	b.WriteString("<" + name + ">")
	xmlText(b, text)
	b.WriteString("</" + name + ">")
}

func (s *Server) getCallerIdentity(w http.ResponseWriter) {
	a := s.Account()
	switch a.CredentialsError {
	case "":
	case "ExpiredToken":
		writeQueryError(w, nsSTS, http.StatusBadRequest, "Sender", "ExpiredToken", "The security token included in the request is expired")
		return
	case "InvalidClientTokenId":
		writeQueryError(w, nsSTS, http.StatusForbidden, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	default:
		writeQueryError(w, nsSTS, http.StatusForbidden, "Sender", a.CredentialsError, "awsmock: the credentials are refused ("+a.CredentialsError+")")
		return
	}
	id := a.ID
	if id == "" {
		id = DefaultAccountID
	}
	arn := a.CallerARN
	if arn == "" {
		arn = "arn:aws:iam::" + id + ":user/local"
	}
	var b strings.Builder
	xmlElem(&b, "Arn", arn)
	xmlElem(&b, "UserId", "AIDALOCAL"+id)
	xmlElem(&b, "Account", id)
	writeQueryResponse(w, nsSTS, opGetCallerIdentity, b.String())
}

func (s *Server) getParameter(w http.ResponseWriter, body []byte) {
	var in struct {
		Name           *string
		WithDecryption *bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSONError(w, smContentType, http.StatusBadRequest, "SerializationException", "awsmock: GetParameter body is not valid JSON")
		return
	}
	name := str(in.Name)
	if name == "" {
		writeJSONError(w, smContentType, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
		return
	}
	a := s.Account()
	v, ok := a.Parameters[name]
	if !ok {
		writeJSONError(w, smContentType, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	id := a.ID
	if id == "" {
		id = DefaultAccountID
	}
	out := map[string]any{"Parameter": map[string]any{
		"Name":             name,
		"Type":             "String",
		"Value":            v,
		"Version":          1,
		"DataType":         "text",
		"LastModifiedDate": float64(s.clock().UnixMilli()) / 1000,
		"ARN":              "arn:aws:ssm:us-east-1:" + id + ":parameter/" + strings.TrimPrefix(name, "/"),
	}}
	writeJSON(w, smContentType, out)
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) sesGetAccount(w http.ResponseWriter) {
	a := s.Account().SES
	enf := a.EnforcementStatus
	if enf == "" {
		enf = "HEALTHY"
	}
	out := map[string]any{
		"DedicatedIpAutoWarmupEnabled": false,
		"EnforcementStatus":            enf,
		"ProductionAccessEnabled":      a.ProductionAccess,
		"SendingEnabled":               a.SendingEnabled,
		"SendQuota": map[string]float64{
			"Max24HourSend":   a.Max24HourSend,
			"MaxSendRate":     a.MaxSendRate,
			"SentLast24Hours": a.SentLast24Hours,
		},
		"SuppressionAttributes": map[string]any{"SuppressedReasons": []string{"BOUNCE", "COMPLAINT"}},
	}
	if a.ReviewStatus != "" {
		out["Details"] = map[string]any{
			"MailType":      "TRANSACTIONAL",
			"WebsiteURL":    "https://example.com",
			"ReviewDetails": map[string]string{"Status": a.ReviewStatus, "CaseId": "local-case"},
		}
	}
	writeJSON(w, "application/json", out)
}

func (s *Server) sesGetEmailIdentity(w http.ResponseWriter, name string) {
	a := s.Account()
	var (
		id    EmailIdentity
		found bool
	)
	for k, v := range a.Identities {
		if strings.EqualFold(k, name) {
			id, found = v, true
			break
		}
	}
	if !found {
		writeRestJSONError(w, http.StatusNotFound, "NotFoundException", "Email identity "+name+" does not exist.")
		return
	}
	typ := id.Type
	if typ == "" {
		typ = "DOMAIN"
		if strings.Contains(name, "@") {
			typ = "EMAIL_ADDRESS"
		}
	}
	status := id.VerificationStatus
	if status == "" {
		status = "PENDING"
		if id.VerifiedForSending {
			status = "SUCCESS"
		}
	}
	dkim := id.DKIMStatus
	if dkim == "" {
		dkim = "NOT_STARTED"
		if typ == "DOMAIN" {
			dkim = status
		}
	}
	tokens := id.DKIMTokens
	if tokens == nil {
		tokens = []string{}
	}
	out := map[string]any{
		"IdentityType":             typ,
		"FeedbackForwardingStatus": true,
		"VerifiedForSendingStatus": id.VerifiedForSending,
		"VerificationStatus":       status,
		"DkimAttributes": map[string]any{
			"SigningEnabled":          typ == "DOMAIN",
			"Status":                  dkim,
			"Tokens":                  tokens,
			"SigningAttributesOrigin": "AWS_SES",
			"NextSigningKeyLength":    "RSA_2048_BIT",
			"CurrentSigningKeyLength": "RSA_2048_BIT",
		},
		"Policies": map[string]string{},
		"Tags":     []any{},
	}
	writeJSON(w, "application/json", out)
}

func (s *Server) snsRead(w http.ResponseWriter, op string, form url.Values) {
	a := s.Account().SMS
	var b strings.Builder
	switch op {
	case opGetSMSSandboxAccountStatus:
		xmlElem(&b, "IsInSandbox", strconv.FormatBool(a.Sandbox))
	case opGetSMSAttributes:
		var want []string
		for i := 1; ; i++ {
			v, ok := form["attributes.member."+strconv.Itoa(i)]
			if !ok || len(v) == 0 {
				break
			}
			want = append(want, v[0])
		}
		keys := slices.Sorted(maps.Keys(a.Attributes))
		b.WriteString("<attributes>")
		for _, k := range keys {
			if len(want) > 0 && !slices.Contains(want, k) {
				continue
			}
			b.WriteString("<entry>")
			xmlElem(&b, "key", k)
			xmlElem(&b, "value", a.Attributes[k])
			b.WriteString("</entry>")
		}
		b.WriteString("</attributes>")
	case opListOriginationNumbers:
		max := 30
		if v := form.Get("MaxResults"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 30 {
				writeQueryError(w, nsSNS, http.StatusBadRequest, "Sender", "ValidationException", "MaxResults must be between 1 and 30")
				return
			}
			max = n
		}
		start := 0
		if t := form.Get("NextToken"); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 || n > len(a.OriginationNumbers) {
				writeQueryError(w, nsSNS, http.StatusBadRequest, "Sender", "ValidationException", "Invalid NextToken")
				return
			}
			start = n
		}
		end := min(start+max, len(a.OriginationNumbers))
		b.WriteString("<PhoneNumbers>")
		for _, n := range a.OriginationNumbers[start:end] {
			b.WriteString("<member>")
			at := n.CreatedAt
			if at.IsZero() {
				at = s.clock()
			}
			xmlElem(&b, "CreatedAt", at.UTC().Format(time.RFC3339))
			xmlElem(&b, "PhoneNumber", n.PhoneNumber)
			xmlElem(&b, "Status", n.Status)
			xmlElem(&b, "Iso2CountryCode", n.Country)
			xmlElem(&b, "RouteType", n.RouteType)
			b.WriteString("<NumberCapabilities>")
			for _, c := range n.Capabilities {
				xmlElem(&b, "member", c)
			}
			b.WriteString("</NumberCapabilities></member>")
		}
		b.WriteString("</PhoneNumbers>")
		if end < len(a.OriginationNumbers) {
			xmlElem(&b, "NextToken", strconv.Itoa(end))
		}
	}
	writeQueryResponse(w, nsSNS, op, b.String())
}

func (s *Server) listStackResources(w http.ResponseWriter, form url.Values) {
	name := form.Get("StackName")
	if name == "" {
		writeQueryError(w, nsCFN, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null")
		return
	}
	a := s.Account()
	st, ok := a.Stacks[name]
	if !ok {
		writeQueryError(w, nsCFN, http.StatusBadRequest, "Sender", "ValidationError", "Stack with id "+name+" does not exist")
		return
	}
	var b strings.Builder
	b.WriteString("<StackResourceSummaries>")
	for _, r := range st.Resources {
		st := r.Status
		if st == "" {
			st = "CREATE_COMPLETE"
		}
		b.WriteString("<member>")
		xmlElem(&b, "LogicalResourceId", r.LogicalID)
		xmlElem(&b, "PhysicalResourceId", r.PhysicalID)
		xmlElem(&b, "ResourceType", r.Type)
		xmlElem(&b, "ResourceStatus", st)
		xmlElem(&b, "LastUpdatedTimestamp", s.clock().UTC().Format(time.RFC3339))
		b.WriteString("</member>")
	}
	b.WriteString("</StackResourceSummaries>")
	writeQueryResponse(w, nsCFN, opListStackResources, b.String())
}

func (s *Server) describeStacks(w http.ResponseWriter, form url.Values) {
	a := s.Account()
	id := a.ID
	if id == "" {
		id = DefaultAccountID
	}
	names := slices.Sorted(maps.Keys(a.Stacks))
	if name := form.Get("StackName"); name != "" {
		if _, ok := a.Stacks[name]; !ok {
			writeQueryError(w, nsCFN, http.StatusBadRequest, "Sender", "ValidationError", "Stack with id "+name+" does not exist")
			return
		}
		names = []string{name}
	}
	var b strings.Builder
	b.WriteString("<Stacks>")
	for _, name := range names {
		st := a.Stacks[name].Status
		if st == "" {
			st = "CREATE_COMPLETE"
		}
		b.WriteString("<member>")
		xmlElem(&b, "StackName", name)
		xmlElem(&b, "StackId", "arn:aws:cloudformation:us-east-1:"+id+":stack/"+name+"/"+newID())
		xmlElem(&b, "CreationTime", s.clock().UTC().Format(time.RFC3339))
		xmlElem(&b, "StackStatus", st)
		b.WriteString("</member>")
	}
	b.WriteString("</Stacks>")
	writeQueryResponse(w, nsCFN, opDescribeStacks, b.String())
}
