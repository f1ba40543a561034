package testkit

import (
	"context"
	"sync"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

// Mailbox is a fake SES and SNS: it has the SendEmail and Publish methods of *awsapi.Client and
// keeps a copy of every input it is asked to send, unless an error set with SetErr makes every
// call fail (keeping nothing). It is safe for concurrent use; the zero Mailbox is empty, sends
// without error and is ready to use.
type Mailbox struct {
	mu     sync.Mutex
	emails []awsapi.SendEmailInput
	sms    []awsapi.PublishInput
	err    error
}

// keep is what SendEmail and Publish do: fail with m.err, or keep in in *sent.
func keep[T any](m *Mailbox, sent *[]T, in T) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	*sent = append(*sent, in)
	return nil
}

// SendEmail keeps a copy of in, or returns the error set with SetErr.
func (m *Mailbox) SendEmail(_ context.Context, in *awsapi.SendEmailInput) error {
	return keep(m, &m.emails, *in)
}

// Publish keeps a copy of in, or returns the error set with SetErr.
func (m *Mailbox) Publish(_ context.Context, in *awsapi.PublishInput) error {
	return keep(m, &m.sms, *in)
}

// SetErr makes every later call fail with err (nil: succeed again).
func (m *Mailbox) SetErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Emails returns the emails kept so far, oldest first.
func (m *Mailbox) Emails() []awsapi.SendEmailInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]awsapi.SendEmailInput(nil), m.emails...)
}

// SMS returns the text messages kept so far, oldest first.
func (m *Mailbox) SMS() []awsapi.PublishInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]awsapi.PublishInput(nil), m.sms...)
}

// EmailsTo returns the emails kept so far whose only recipient is addr, oldest first.
func (m *Mailbox) EmailsTo(addr string) []awsapi.SendEmailInput {
	var out []awsapi.SendEmailInput
	for _, e := range m.Emails() {
		if len(e.To) == 1 && e.To[0] == addr {
			out = append(out, e)
		}
	}
	return out
}

// SMSTo returns the text messages kept so far to number, oldest first.
func (m *Mailbox) SMSTo(number string) []awsapi.PublishInput {
	var out []awsapi.PublishInput
	for _, s := range m.SMS() {
		if s.PhoneNumber == number {
			out = append(out, s)
		}
	}
	return out
}

// Len returns how many emails and text messages were kept.
func (m *Mailbox) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.emails) + len(m.sms)
}
