package keyed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// EnvSecretARN names the Secrets Manager secret holding the deployment secret. The construct sets
// it on every function that derives keyed identifiers.
const EnvSecretARN = "DEPLOYMENT_SECRET_ARN"

// MaxAge is how long a SecretsManager source keeps the key before it reads the secret again, so
// that a rotated secret reaches warm instances within this time. Default 1 hour.
const MaxAge = time.Hour

// SecretGetter reads a secret's current string value (Secrets Manager GetSecretValue;
// *awsapi.Client).
type SecretGetter interface {
	GetSecretValue(ctx context.Context, secretID string) (string, error)
}

// SecretsManager is the Source of a Lambda function: it reads the secret on the first request of
// an instance (never at start-up, so init stays free of network calls), keeps the Key for MaxAge,
// and reads again after that. A failed read is not cached: the request fails (closed) and the
// next one tries again. Concurrent first requests share one read.
type SecretsManager struct {
	getter SecretGetter
	id     string
	now    func() time.Time

	mu      sync.Mutex
	key     *Key
	fetched time.Time
}

// NewSecretsManager returns a Source reading secretID through getter.
func NewSecretsManager(getter SecretGetter, secretID string) (*SecretsManager, error) {
	if getter == nil {
		return nil, errors.New("keyed: no secret getter")
	}
	if secretID == "" {
		return nil, errors.New("keyed: no secret ID")
	}
	return &SecretsManager{getter: getter, id: secretID, now: time.Now}, nil
}

// FromEnv returns a SecretsManager source for the secret named by DEPLOYMENT_SECRET_ARN (read
// through getenv, os.Getenv when nil). It makes no network call.
func FromEnv(getenv func(string) string, getter SecretGetter) (*SecretsManager, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	id := getenv(EnvSecretARN)
	if id == "" {
		return nil, fmt.Errorf("keyed: %s is not set", EnvSecretARN)
	}
	return NewSecretsManager(getter, id)
}

// Key returns the cached Key, reading the secret when there is none or it is older than MaxAge.
// If a refresh fails while a key younger than 2 x MaxAge is cached, the cached key is returned
// (a Secrets Manager hiccup does not stop sign-in on a warm instance).
func (s *SecretsManager) Key(ctx context.Context) (*Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.key != nil && now.Sub(s.fetched) < MaxAge {
		return s.key, nil
	}
	v, err := s.getter.GetSecretValue(ctx, s.id)
	if err == nil {
		var k *Key
		if k, err = New([]byte(v)); err == nil {
			s.key, s.fetched = k, now
			return k, nil
		}
	}
	if s.key != nil && now.Sub(s.fetched) < 2*MaxAge {
		return s.key, nil
	}
	return nil, fmt.Errorf("keyed: read the deployment secret: %w", err)
}
