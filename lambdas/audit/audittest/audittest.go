// Package audittest is a fake EventBridge for a real audit.Publisher, and a strict reader of the
// detail of the events it publishes, for tests. It does not import package audit, so audit's own
// tests can use it too.
package audittest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

// Bus is a fake EventBridge (an audit.Putter): it accepts and keeps every entry. It is safe for
// concurrent use; the zero Bus is empty and ready to use.
type Bus struct {
	mu      sync.Mutex
	entries []awsapi.EventEntry
}

// PutEvents keeps entries and reports no failed entry.
func (b *Bus) PutEvents(_ context.Context, entries []awsapi.EventEntry) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, entries...)
	return 0, nil
}

// Entries returns a copy of the entries kept so far, oldest first.
func (b *Bus) Entries() []awsapi.EventEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]awsapi.EventEntry(nil), b.entries...)
}

// Detail is the documented detail of an audit event, member by member.
type Detail struct {
	Version    string `json:"version"`
	Type       string `json:"type"`
	Time       string `json:"time"`
	Function   string `json:"function"`
	UserPoolID string `json:"userPoolId"`
	User       string `json:"user"`
	Method     string `json:"method"`
	Reason     string `json:"reason"`
	Count      int    `json:"count"`
	Attribute  string `json:"attribute"`
}

// DecodeDetail decodes an entry's Detail strictly: a member Detail does not document, a member of
// another type, or anything after the object is an error.
func DecodeDetail(detail string) (Detail, error) {
	var d Detail
	dec := json.NewDecoder(strings.NewReader(detail))
	dec.DisallowUnknownFields()
	err := dec.Decode(&d)
	return d, err
}
