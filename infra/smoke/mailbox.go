package smoke

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
)

// Mailbox is a CodeSource reading the messages the local harness captured (awsmock): each call
// takes the next message to the recipient, waiting up to Wait (default 10 s) for it.
type Mailbox struct {
	AWS  *awsmock.Server
	Wait time.Duration

	mu   sync.Mutex
	used map[string]int
}

// Code returns the code in the next message to recipient.
func (m *Mailbox) Code(ctx context.Context, recipient string) (string, error) {
	m.mu.Lock()
	if m.used == nil {
		m.used = map[string]int{}
	}
	n := m.used[recipient] + 1
	if already := len(m.AWS.MessagesTo(recipient)); n <= already {
		n = already // a code sent before we looked: the latest one is for the sign-in under way
	}
	m.used[recipient] = n
	m.mu.Unlock()
	wait := m.Wait
	if wait == 0 {
		wait = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msg, err := m.AWS.WaitMessage(ctx, recipient, n)
	if err != nil {
		return "", err
	}
	code, ok := ExtractCode(msg.Text)
	if !ok {
		return "", fmt.Errorf("smoke: no code in the message to %s", recipient)
	}
	return code, nil
}

var _ SentCounter = (*Mailbox)(nil)

// Sent returns how many messages the harness captured to recipient.
func (m *Mailbox) Sent(recipient string) int {
	return len(m.AWS.MessagesTo(recipient))
}
