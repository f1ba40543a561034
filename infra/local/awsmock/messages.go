package awsmock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is one captured email or SMS. An email to several recipients (To, Cc and Bcc) is
// captured once per recipient.
type Message struct {
	Medium           string            // "EMAIL" or "SMS" ("SNS" for a Publish to a topic or target ARN)
	To               string            // email address or E.164 number (the ARN for "SNS")
	From, Subject    string            // email only (Subject also for an SNS Publish that sets it)
	Text, HTML       string            // email bodies; SMS text in Text
	ConfigurationSet string            // SES configuration set name, if any
	Attributes       map[string]string // SNS message attributes (AWS.SNS.SMS.SMSType, ...)
	At               time.Time
	MessageID        string // the MessageId returned to the caller
}

// Media, as in Message.Medium.
const (
	MediumEmail = "EMAIL"
	MediumSMS   = "SMS"
	MediumSNS   = "SNS"
)

// ErrClosed is returned by WaitMessage when the server closes while it waits.
var ErrClosed = errors.New("awsmock: server closed")

func (m Message) clone() Message {
	m.Attributes = maps.Clone(m.Attributes)
	return m
}

// Messages returns every captured message, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneEach(s.msgs, Message.clone)
}

// cloneEach returns a new slice holding a clone of each of items.
func cloneEach[T any](items []T, clone func(T) T) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = clone(it)
	}
	return out
}

// MessagesTo returns the messages to `to`, in order (compared case-insensitively; surrounding
// spaces ignored).
func (s *Server) MessagesTo(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesToLocked(to)
}

func (s *Server) messagesToLocked(to string) []Message {
	to = strings.TrimSpace(to)
	var out []Message
	for _, m := range s.msgs {
		if strings.EqualFold(m.To, to) {
			out = append(out, m.clone())
		}
	}
	return out
}

// ClearMessages forgets every captured message (MessagesTo and WaitMessage count from zero
// again).
func (s *Server) ClearMessages() {
	s.mu.Lock()
	s.msgs = nil
	s.mu.Unlock()
}

// WaitMessage returns the n-th (1-based) message to `to`, waiting for it until ctx is done or the
// server closes.
func (s *Server) WaitMessage(ctx context.Context, to string, n int) (Message, error) {
	if n < 1 {
		return Message{}, fmt.Errorf("awsmock: WaitMessage: n must be at least 1, got %d", n)
	}
	for {
		s.mu.Lock()
		list := s.messagesToLocked(to)
		sig := s.msgSig
		s.mu.Unlock()
		if len(list) >= n {
			return list[n-1], nil
		}
		select {
		case <-sig:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("awsmock: waiting for message %d to %q (have %d): %w", n, to, len(list), ctx.Err())
		case <-s.closing:
			return Message{}, fmt.Errorf("awsmock: waiting for message %d to %q (have %d): %w", n, to, len(list), ErrClosed)
		}
	}
}

// OnMessage registers f to be called with each message captured from now on, in the goroutine
// of the request that carried it, before the request is answered. Several callbacks may be
// registered; they run in order. f must not block for long.
func (s *Server) OnMessage(f func(Message)) {
	if f == nil {
		return
	}
	s.mu.Lock()
	s.onMsg = append(s.onMsg, f)
	s.mu.Unlock()
}

func (s *Server) capture(ms []Message) {
	record(&s.mu, &s.msgs, &s.msgSig, &s.onMsg, ms, Message.clone)
}

// record appends a clone of each of items to *log under mu, wakes the waiters on *sig (closes it,
// if made, and makes a new one), and then, with mu released, calls each of *cbs (as they were
// under mu) with a clone of each item, in order.
func record[T any](mu *sync.Mutex, log *[]T, sig *chan struct{}, cbs *[]func(T), items []T, clone func(T) T) {
	mu.Lock()
	for _, it := range items {
		*log = append(*log, clone(it))
	}
	if *sig != nil {
		close(*sig)
	}
	*sig = make(chan struct{})
	fs := *cbs
	mu.Unlock()
	for _, it := range items {
		for _, f := range fs {
			f(clone(it))
		}
	}
}

// SES v2 SendEmail request (restJson1). Raw.Data is a blob: base64 in JSON, which []byte takes.
type sesContent struct {
	Data    *string
	Charset *string
}

type sesSendEmail struct {
	FromEmailAddress *string
	Destination      *struct {
		ToAddresses, CcAddresses, BccAddresses []string
	}
	ReplyToAddresses []string
	Content          *struct {
		Simple *struct {
			Subject *sesContent
			Body    *struct {
				Text, Html *sesContent
			}
		}
		Raw *struct {
			Data []byte
		}
		Template *struct {
			TemplateName, TemplateArn, TemplateData *string
			TemplateContent                         *struct {
				Subject, Text, Html *string
			}
		}
	}
	ConfigurationSetName *string
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func contentData(c *sesContent) string {
	if c == nil {
		return ""
	}
	return str(c.Data)
}

func (s *Server) sendEmail(w http.ResponseWriter, body []byte) {
	var in sesSendEmail
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "awsmock: SendEmail body is not valid JSON: "+err.Error())
		return
	}
	if in.Content == nil || (in.Content.Simple == nil && in.Content.Raw == nil && in.Content.Template == nil) {
		writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "Content is required (Simple, Raw or Template).")
		return
	}
	base := Message{
		Medium:           MediumEmail,
		From:             str(in.FromEmailAddress),
		ConfigurationSet: str(in.ConfigurationSetName),
		At:               s.clock(),
		MessageID:        newID(),
	}
	var rcpts []string
	if d := in.Destination; d != nil {
		rcpts = append(rcpts, d.ToAddresses...)
		rcpts = append(rcpts, d.CcAddresses...)
		rcpts = append(rcpts, d.BccAddresses...)
	}
	switch c := in.Content; {
	case c.Simple != nil:
		base.Subject = contentData(c.Simple.Subject)
		if b := c.Simple.Body; b != nil {
			base.Text = contentData(b.Text)
			base.HTML = contentData(b.Html)
		}
		if c.Simple.Subject == nil || (c.Simple.Body == nil || (c.Simple.Body.Text == nil && c.Simple.Body.Html == nil)) {
			writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "A Simple message needs a Subject and a Body.")
			return
		}
	case c.Raw != nil:
		base.Text = string(c.Raw.Data)
		if msg, err := mail.ReadMessage(bytes.NewReader(c.Raw.Data)); err == nil {
			if base.From == "" {
				base.From = msg.Header.Get("From")
			}
			base.Subject = msg.Header.Get("Subject")
			if len(rcpts) == 0 {
				for _, h := range []string{"To", "Cc", "Bcc"} {
					if list, err := msg.Header.AddressList(h); err == nil {
						for _, a := range list {
							rcpts = append(rcpts, a.Address)
						}
					}
				}
			}
			if b, err := io.ReadAll(msg.Body); err == nil {
				base.Text = string(b)
			}
		}
	case c.Template != nil:
		if tc := c.Template.TemplateContent; tc != nil {
			base.Subject, base.Text, base.HTML = str(tc.Subject), str(tc.Text), str(tc.Html)
		} else {
			base.Subject = str(c.Template.TemplateName)
			base.Text = str(c.Template.TemplateData)
		}
	}
	if base.From == "" {
		writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "FromEmailAddress is required.")
		return
	}
	if len(rcpts) == 0 {
		writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "Missing final destination.")
		return
	}
	if len(rcpts) > 50 {
		writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "Recipient count exceeds 50.")
		return
	}
	for _, a := range rcpts {
		if _, err := mail.ParseAddress(a); err != nil {
			writeRestJSONError(w, http.StatusBadRequest, "BadRequestException", "Illegal address.")
			return
		}
	}
	msgs := make([]Message, 0, len(rcpts))
	for _, a := range rcpts {
		m := base
		m.To = strings.TrimSpace(a)
		if p, err := mail.ParseAddress(a); err == nil {
			m.To = p.Address
		}
		msgs = append(msgs, m)
	}
	s.capture(msgs)
	b, _ := json.Marshal(map[string]string{"MessageId": base.MessageID})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// maxSNSMessage is SNS's message size limit (256 KiB).
const maxSNSMessage = 256 << 10

func (s *Server) publish(w http.ResponseWriter, form url.Values) {
	invalid := func(msg string) {
		writeSNSError(w, http.StatusBadRequest, "Sender", "InvalidParameter", msg)
	}
	text := form.Get("Message")
	phone, topic, target := form.Get("PhoneNumber"), form.Get("TopicArn"), form.Get("TargetArn")
	m := Message{Medium: MediumSMS, To: phone, Text: text, Subject: form.Get("Subject"), At: s.clock(), MessageID: newID()}
	switch n := btoi(phone != "") + btoi(topic != "") + btoi(target != ""); {
	case n == 0:
		invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		return
	case n > 1:
		invalid("Invalid parameter: only one of PhoneNumber, TopicArn or TargetArn may be set")
		return
	}
	if phone == "" {
		m.Medium, m.To = MediumSNS, topic+target
	} else if !e164.MatchString(phone) {
		invalid("Invalid parameter: PhoneNumber Reason: the number is not in E.164 format")
		return
	}
	if text == "" {
		invalid("Invalid parameter: Empty message")
		return
	}
	if len(text) > maxSNSMessage {
		invalid("Invalid parameter: Message too long")
		return
	}
	attrs, err := snsAttributes(form)
	if err != nil {
		writeSNSError(w, http.StatusBadRequest, "Sender", "ParameterValueInvalid", err.Error())
		return
	}
	m.Attributes = attrs
	s.capture([]Message{m})
	var b strings.Builder
	b.WriteString(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>`)
	b.WriteString(m.MessageID)
	b.WriteString(`</MessageId></PublishResult><ResponseMetadata><RequestId>`)
	id := newID()
	b.WriteString(id)
	b.WriteString(`</RequestId></ResponseMetadata></PublishResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// snsAttributes reads MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue,
// Value.BinaryValue}. Binary values are kept in their base64 form.
func snsAttributes(form url.Values) (map[string]string, error) {
	const prefix = "MessageAttributes.entry."
	attrs := map[string]string{}
	seen := map[string]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		if seen[idx] {
			continue
		}
		seen[idx] = true
		if n, err := strconv.Atoi(idx); err != nil || n < 1 {
			return nil, fmt.Errorf("awsmock: bad message attribute entry %q", k)
		}
		p := prefix + idx + "."
		name := form.Get(p + "Name")
		typ := form.Get(p + "Value.DataType")
		if name == "" || typ == "" {
			return nil, fmt.Errorf("The message attribute entry %s has no name or data type.", idx)
		}
		v := form.Get(p + "Value.StringValue")
		if bv := form.Get(p + "Value.BinaryValue"); bv != "" {
			if _, err := base64.StdEncoding.DecodeString(bv); err != nil {
				return nil, fmt.Errorf("The message attribute '%s' has an invalid binary value.", name)
			}
			v = bv
		}
		attrs[name] = v
	}
	if len(attrs) == 0 {
		return nil, nil
	}
	return attrs, nil
}
