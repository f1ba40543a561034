package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/usertext"
)

// Environment variables the construct sets on the API function for device keys.
const (
	// EnvDeviceKeyMaxPerUser caps the keys one user may register (default 10, 1-100).
	EnvDeviceKeyMaxPerUser = "DEVICE_KEY_MAX_PER_USER"
	// EnvDeviceKeyMaxAuthAge is how recent, in seconds, the caller's sign-in must be to register
	// a key (default 300, 1-86400).
	EnvDeviceKeyMaxAuthAge = "DEVICE_KEY_MAX_AUTH_AGE_SECONDS"
)

// Defaults and limits for device-key registration.
const (
	DefaultDeviceKeyMaxPerUser = 10
	DefaultDeviceKeyMaxAuthAge = 5 * time.Minute
	// MaxDeviceKeyBody caps request bodies (after base64 decoding when API Gateway encoded them).
	MaxDeviceKeyBody = 8 << 10
	// MaxDeviceNameLength caps device names, in characters.
	MaxDeviceNameLength = 64
	// authTimeSkew is how far in the future an auth_time may be (clock skew) and still count.
	authTimeSkew = time.Minute
	// deviceKeyIDBytes is the length of a key ID before base64url encoding.
	deviceKeyIDBytes = 16
)

// Route keys of the device-key routes.
const (
	RouteRegisterDeviceKey = "POST /device-keys"
	RouteListDeviceKeys    = "GET /device-keys"
	RouteRevokeDeviceKey   = "DELETE /device-keys/{id}"
)

// Error codes of the device-key routes (see also the codes in api.go).
const (
	CodeTooLarge  = "too_large"
	CodeBadJSON   = "bad_json"
	CodeBadName   = "bad_name"
	CodeBadKey    = "bad_key"
	CodeStaleAuth = "stale_auth"
	CodeKeyLimit  = "key_limit"
	CodeKeyExists = "key_exists"
	CodeBadInput  = "bad_request"
)

// DeviceKeyStore is the part of *store.Store the device-key routes use.
type DeviceKeyStore interface {
	PutDeviceKey(ctx context.Context, k store.DeviceKey, maxPerUser int) error
	ListDeviceKeys(ctx context.Context, owner string) ([]store.DeviceKey, error)
	DeleteDeviceKey(ctx context.Context, owner, keyID string) error
}

var _ DeviceKeyStore = (*store.Store)(nil)

// DeviceKeyConfig configures the device-key routes. Zero values take the defaults.
type DeviceKeyConfig struct {
	MaxPerUser int              // keys per user; default DefaultDeviceKeyMaxPerUser
	MaxAuthAge time.Duration    // how recent the caller's sign-in must be; default 5 minutes
	Now        func() time.Time // default time.Now
	Rand       io.Reader        // source of key IDs; default crypto/rand
}

// DeviceKeyConfigFromEnv reads MaxPerUser and MaxAuthAge through getenv (os.Getenv when nil).
// Unset values take the defaults; malformed or out-of-range values are errors.
func DeviceKeyConfigFromEnv(getenv func(string) string) (DeviceKeyConfig, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := DeviceKeyConfig{MaxPerUser: DefaultDeviceKeyMaxPerUser, MaxAuthAge: DefaultDeviceKeyMaxAuthAge}
	if s := strings.TrimSpace(getenv(EnvDeviceKeyMaxPerUser)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return DeviceKeyConfig{}, fmt.Errorf("%s: %q is not a number from 1 to 100", EnvDeviceKeyMaxPerUser, s)
		}
		cfg.MaxPerUser = n
	}
	if s := strings.TrimSpace(getenv(EnvDeviceKeyMaxAuthAge)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 86400 {
			return DeviceKeyConfig{}, fmt.Errorf("%s: %q is not a number of seconds from 1 to 86400", EnvDeviceKeyMaxAuthAge, s)
		}
		cfg.MaxAuthAge = time.Duration(n) * time.Second
	}
	return cfg, nil
}

// WithDeviceKeys adds the device-key routes, backed by s, to h and returns h:
//
//	POST   /device-keys       {"publicKey": "<base64 or PEM>", "name": "<device name>"} -> 201
//	GET    /device-keys       -> 200 {"keys": [...]}
//	DELETE /device-keys/{id}  -> 204
//
// Every route acts on the caller's own keys only (owner = the token's sub).
func (h *Handler) WithDeviceKeys(s DeviceKeyStore, cfg DeviceKeyConfig) *Handler {
	if cfg.MaxPerUser <= 0 {
		cfg.MaxPerUser = DefaultDeviceKeyMaxPerUser
	}
	h.prepareRoutes(&cfg.MaxAuthAge, &cfg.Now, &cfg.Rand)
	d := &deviceKeys{h: h, store: s, cfg: cfg}
	h.Routes[RouteRegisterDeviceKey] = d.register
	h.Routes[RouteListDeviceKeys] = d.list
	h.Routes[RouteRevokeDeviceKey] = d.revoke
	return h
}

type deviceKeys struct {
	h     *Handler
	store DeviceKeyStore
	cfg   DeviceKeyConfig
}

// DeviceKeyJSON is a key as the API shows it. The public key itself is not returned.
type DeviceKeyJSON struct {
	KeyID      string  `json:"keyId"`
	Name       string  `json:"name"`
	Algorithm  string  `json:"algorithm"`
	CreatedAt  string  `json:"createdAt"`
	LastUsedAt *string `json:"lastUsedAt"` // null until the key is first used
}

// RegisteredDeviceKeyJSON is the answer to a registration.
type RegisteredDeviceKeyJSON struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
}

// DeviceKeyListJSON is the answer to GET /device-keys.
type DeviceKeyListJSON struct {
	Keys []DeviceKeyJSON `json:"keys"`
}

// timeFormat is RFC 3339 in UTC with milliseconds, the precision the store keeps.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// formatOptionalTime is formatTime(t), or nil (JSON null) when t is zero.
func formatOptionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// ownedJSON returns the JSON form (by toJSON, which also gives each item's owner) of the items
// owned by sub, in order, as a non-nil slice: a list never shows anyone else's key, whatever the
// store returns.
func ownedJSON[T, J any](items []T, sub string, toJSON func(T) (owner string, j J)) []J {
	out := make([]J, 0, len(items))
	for _, it := range items {
		if owner, j := toJSON(it); owner == sub {
			out = append(out, j)
		}
	}
	return out
}

// RegisterRequest is the body of POST /device-keys.
type RegisterRequest struct {
	PublicKey string `json:"publicKey"`
	Name      string `json:"name"`
}

// DecodeRegisterRequest reads and validates a POST /device-keys body (base64-decoded first when
// isBase64 is set). It checks the size cap, strict JSON (one object with exactly the members
// "publicKey" and "name", both strings, nothing after it), the name and the key, and returns the
// trimmed name and the parsed key. The error is a *requestError carrying the response.
func decodeRegisterRequest(body string, isBase64 bool) (string, *devicekey.PublicKey, *requestError) {
	raw, rerr := readBody(body, isBase64, MaxDeviceKeyBody)
	if rerr != nil {
		return "", nil, rerr
	}
	fields, err := decodeStringObject(raw, "publicKey", "name")
	if err != nil {
		return "", nil, badBody(`a JSON object {"publicKey": string, "name": string}`, err)
	}
	name, err := checkDeviceName(fields["name"])
	if err != nil {
		return "", nil, badRequest(CodeBadName, "%v", err)
	}
	if strings.TrimSpace(fields["publicKey"]) == "" {
		return "", nil, badRequest(CodeBadKey, "publicKey is empty")
	}
	pub, err := devicekey.ParsePublicKey(fields["publicKey"])
	if err != nil {
		return "", nil, badRequest(CodeBadKey, "publicKey: %s", keyErrorMessage(err))
	}
	return name, pub, nil
}

// checkDeviceName is the check of every name a user gives a device key or a passkey (and of the
// user.name and user.displayName of passkey registration options): usertext.Name with
// MaxDeviceNameLength, that is surrounding ASCII spaces trimmed, then 1 to 64 letters, marks,
// numbers, punctuation, symbols and ASCII spaces, without '<' and '>' (no control or format
// characters, line breaks, tabs or bidi overrides).
func checkDeviceName(s string) (string, error) {
	return usertext.Name(s, MaxDeviceNameLength)
}

// keyErrorMessage turns a devicekey error into a message for the client. The devicekey package
// promises its messages are safe to show.
func keyErrorMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "devicekey: "); i == 0 {
		msg = msg[len("devicekey: "):]
	}
	return msg
}

func (d *deviceKeys) newKeyID() (string, error) {
	b := make([]byte, deviceKeyIDBytes)
	if _, err := io.ReadFull(d.cfg.Rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (d *deviceKeys) internal(ctx context.Context, what string, err error) Response {
	return internalError(ctx, d.h.Log, "api: device keys: "+what, err)
}

func (d *deviceKeys) register(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	if stale, ok := recentSignIn(c, d.cfg.Now(), d.cfg.MaxAuthAge, "registering a device key"); !ok {
		return stale
	}
	name, pub, rerr := decodeRegisterRequest(req.Body, req.IsBase64Encoded)
	if rerr != nil {
		return rerr.response()
	}
	id, err := d.newKeyID()
	if err != nil {
		return d.internal(ctx, "random source failed", err)
	}
	k := store.DeviceKey{
		Owner:       c.Sub,
		ID:          id,
		Name:        name,
		Algorithm:   string(pub.Algorithm()),
		Fingerprint: pub.Fingerprint(),
		PublicKey:   pub.SPKI(),
		CreatedAt:   d.cfg.Now().UTC().Truncate(time.Millisecond),
	}
	switch err := d.store.PutDeviceKey(ctx, k, d.cfg.MaxPerUser); {
	case err == nil:
	case errors.Is(err, store.ErrLimitReached):
		return Error(http.StatusConflict, CodeKeyLimit,
			fmt.Sprintf("you already have %d device keys, the limit: revoke one first", d.cfg.MaxPerUser))
	case errors.Is(err, store.ErrExists):
		return Error(http.StatusConflict, CodeKeyExists, "this public key is already registered")
	case errors.Is(err, store.ErrInvalidArgument):
		return Error(http.StatusBadRequest, CodeBadInput, "the key could not be stored as given")
	default:
		return d.internal(ctx, "store failed", err)
	}
	d.h.keyAdded(ctx, c, deviceKeyKind, k.Name)
	return Response{Status: http.StatusCreated, Body: RegisteredDeviceKeyJSON{
		KeyID:     k.ID,
		Algorithm: k.Algorithm,
		Name:      k.Name,
		CreatedAt: formatTime(k.CreatedAt),
	}}
}

func (d *deviceKeys) list(ctx context.Context, c Caller, _ events.APIGatewayV2HTTPRequest) Response {
	keys, err := d.store.ListDeviceKeys(ctx, c.Sub)
	if err != nil {
		return d.internal(ctx, "store failed", err)
	}
	return Response{Status: http.StatusOK, Body: DeviceKeyListJSON{Keys: ownedJSON(keys, c.Sub, deviceKeyJSON)}}
}

func deviceKeyJSON(k store.DeviceKey) (owner string, j DeviceKeyJSON) {
	return k.Owner, DeviceKeyJSON{KeyID: k.ID, Name: k.Name, Algorithm: k.Algorithm, CreatedAt: formatTime(k.CreatedAt),
		LastUsedAt: formatOptionalTime(k.LastUsedAt)}
}

// deviceKeyKind is what adding or removing a device key records.
var deviceKeyKind = keyKind{method: metrics.MethodDeviceKey, added: audit.DeviceKeyAdded, removed: audit.DeviceKeyRemoved,
	addedNotice: notify.KeyAdded, removedNotice: notify.KeyRemoved, notFound: Error(http.StatusNotFound, CodeNotFound, "no such device key")}

func (d *deviceKeys) revoke(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	id := req.PathParameters["id"]
	if _, ok := decodeID(id, deviceKeyIDBytes, deviceKeyIDBytes); !ok {
		return deviceKeyKind.notFound
	}
	name := d.keyName(ctx, c.Sub, id)
	return d.h.keyRemoval(ctx, c, deviceKeyKind, name, d.store.DeleteDeviceKey(ctx, c.Sub, id), d.internal)
}

// keyName is the name of owner's key id for the key_removed notification, read before the key
// goes when notifications of that kind are sent and the store can read one key (*store.Store
// can); "" otherwise or when it cannot be read.
func (d *deviceKeys) keyName(ctx context.Context, owner, id string) string {
	g, ok := d.store.(interface {
		GetDeviceKey(ctx context.Context, owner, keyID string) (store.DeviceKey, error)
	})
	if !ok || !d.h.notifyEnabled(notify.KeyRemoved) {
		return ""
	}
	k, err := g.GetDeviceKey(ctx, owner, id)
	if err != nil || k.Owner != owner {
		return ""
	}
	return k.Name
}
