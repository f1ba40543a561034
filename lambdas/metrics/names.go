package metrics

// Metric names: the names the metrics carry in CloudWatch. The package decides each metric's
// unit, dimensions and dimension sets (see doc.go); a name not in this list is dropped.
const (
	// SignInStarted: Create issued the nonce round of a new session. Sets: [].
	SignInStarted = "SignInStarted"
	// SignInSucceeded: Verify accepted an answer. Dims.Method. Sets: [], [Method].
	SignInSucceeded = "SignInSucceeded"
	// SignInFailed: Verify refused an answer (or a round failed). Dims.Method, Dims.Reason.
	// Sets: [], [Method], [Reason].
	SignInFailed = "SignInFailed"
	// Sent: a code, link or notice went out. Dims.Channel, Dims.Kind. Sets: [], [Channel],
	// [Channel, Kind].
	Sent = "Sent"
	// SendRefused: a send was refused by a rule. Dims.Channel, Dims.Reason. Sets: [],
	// [Channel, Reason].
	SendRefused = "SendRefused"
	// SendFailed: SES or SNS refused or failed a send. Dims.Channel. Sets: [], [Channel].
	SendFailed = "SendFailed"
	// Lockouts: a guessable answer was refused because the account is locked. Sets: [].
	Lockouts = "Lockouts"
	// KeyRegistered: a device key or passkey was added. Dims.Method. Sets: [Method].
	KeyRegistered = "KeyRegistered"
	// KeyRevoked: a device key or passkey was removed (one per key). Dims.Method. Sets: [Method].
	KeyRevoked = "KeyRevoked"
	// NotificationFailed: a security notification could not be sent. Dims.Channel. Sets: [],
	// [Channel].
	NotificationFailed = "NotificationFailed"
	// DependencyLatency: one AWS call, in milliseconds. Dims.Dependency. Sets: [Dependency].
	DependencyLatency = "DependencyLatency"
	// DependencyErrors: one failed AWS call (transport error, 5xx, throttling). Dims.Dependency;
	// Dims.Reason (throttle, fault, timeout) is written as a property, not a dimension. Sets: [],
	// [Dependency].
	DependencyErrors = "DependencyErrors"
	// AuditUndelivered: an audit event EventBridge did not take (it was logged instead). Sets: [].
	AuditUndelivered = "AuditUndelivered"
)

// Dimension values. Dims fields hold one of these; any other non-empty value is recorded as Other.
const (
	Other = "other"

	MethodEmailOTP  = "email_otp"
	MethodSMSOTP    = "sms_otp"
	MethodDeviceKey = "device_key"
	MethodPasskey   = "passkey"
	MethodMagicLink = "magic_link"

	// Sign-in failures.
	ReasonWrongAnswer = "wrong_answer"
	ReasonExpired     = "expired"
	ReasonLocked      = "locked"
	ReasonLimit       = "limit"
	ReasonDependency  = "dependency"
	// Send refusals.
	ReasonRateLimit  = "rate_limit"
	ReasonDailyCap   = "daily_cap"
	ReasonCountry    = "country"
	ReasonUnverified = "unverified"
	ReasonBudget     = "budget"
	// Dependency errors.
	ReasonThrottle = "throttle"
	ReasonFault    = "fault"
	ReasonTimeout  = "timeout"

	ChannelEmail = "email"
	ChannelSMS   = "sms"

	KindCode   = "code"
	KindLink   = "link"
	KindNotice = "notice"

	DependencyDynamoDB       = "dynamodb"
	DependencySES            = "ses"
	DependencySNS            = "sns"
	DependencyCognito        = "cognito"
	DependencySecretsManager = "secretsmanager"
	DependencyEvents         = "events"
)

// field is one member of Dims.
type field uint8

const (
	fMethod field = iota
	fReason
	fChannel
	fKind
	fDependency
	numFields
)

// fieldNames are the dimension keys in the EMF lines.
var fieldNames = [numFields]string{"Method", "Reason", "Channel", "Kind", "Dependency"}

// allowed lists each field's values. Index 0 means "not given"; the last index is Other.
var allowed = [numFields][]string{
	fMethod:     {"", MethodEmailOTP, MethodSMSOTP, MethodDeviceKey, MethodPasskey, MethodMagicLink, Other},
	fReason:     {"", ReasonWrongAnswer, ReasonExpired, ReasonLocked, ReasonLimit, ReasonDependency, ReasonRateLimit, ReasonDailyCap, ReasonCountry, ReasonUnverified, ReasonBudget, ReasonThrottle, ReasonFault, ReasonTimeout, Other},
	fChannel:    {"", ChannelEmail, ChannelSMS, Other},
	fKind:       {"", KindCode, KindLink, KindNotice, Other},
	fDependency: {"", DependencyDynamoDB, DependencySES, DependencySNS, DependencyCognito, DependencySecretsManager, DependencyEvents, Other},
}

// index returns the position of v in f's allow-list: 0 for "", the Other position for a value
// not in the list.
func index(f field, v string) uint8 {
	if v == "" {
		return 0
	}
	l := allowed[f]
	for i := 1; i < len(l)-1; i++ {
		if l[i] == v {
			return uint8(i)
		}
	}
	return uint8(len(l) - 1)
}

// Allowed reports whether v is a value the package writes for the Dims field named by key
// ("Method", "Reason", "Channel", "Kind" or "Dependency"): an allow-listed value or Other.
func Allowed(key, v string) bool {
	for f, n := range fieldNames {
		if n == key {
			l := allowed[f]
			for _, a := range l[1:] {
				if a == v {
					return true
				}
			}
			return false
		}
	}
	return false
}

// Canonical returns the value the package records for v in the Dims field named by key: v when
// it is allow-listed, "" when v is empty, else Other. An unknown key gives Other.
func Canonical(key, v string) string {
	for f, n := range fieldNames {
		if n == key {
			return allowed[f][index(field(f), v)]
		}
	}
	return Other
}

type unit uint8

const (
	unitCount unit = iota
	unitMilliseconds
)

var unitNames = [...]string{unitCount: "Count", unitMilliseconds: "Milliseconds"}

// def is one metric: its unit, the fields it records and its dimension sets. A field recorded
// but in no set is written as a plain property of the line (searchable in Logs Insights, not a
// dimension).
type def struct {
	name   string
	unit   unit
	fields []field
	sets   [][]field
}

var defs = [...]def{
	{SignInStarted, unitCount, nil, [][]field{{}}},
	{SignInSucceeded, unitCount, []field{fMethod}, [][]field{{}, {fMethod}}},
	{SignInFailed, unitCount, []field{fMethod, fReason}, [][]field{{}, {fMethod}, {fReason}}},
	{Sent, unitCount, []field{fChannel, fKind}, [][]field{{}, {fChannel}, {fChannel, fKind}}},
	{SendRefused, unitCount, []field{fChannel, fReason}, [][]field{{}, {fChannel, fReason}}},
	{SendFailed, unitCount, []field{fChannel}, [][]field{{}, {fChannel}}},
	{Lockouts, unitCount, nil, [][]field{{}}},
	{KeyRegistered, unitCount, []field{fMethod}, [][]field{{fMethod}}},
	{KeyRevoked, unitCount, []field{fMethod}, [][]field{{fMethod}}},
	{NotificationFailed, unitCount, []field{fChannel}, [][]field{{}, {fChannel}}},
	{DependencyLatency, unitMilliseconds, []field{fDependency}, [][]field{{fDependency}}},
	{DependencyErrors, unitCount, []field{fDependency, fReason}, [][]field{{}, {fDependency}}},
	{AuditUndelivered, unitCount, nil, [][]field{{}}},
}

// Names returns every metric name the package emits, in a fixed order.
func Names() []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.name
	}
	return out
}

// lookup returns the index of a metric name in defs, or -1.
func lookup(name string) int {
	for i := range defs {
		if defs[i].name == name {
			return i
		}
	}
	return -1
}
