package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// FunctionError is what an Invoker returns when the function ran and returned an error (Lambda's
// "function error", X-Amz-Function-Error). Cognito does not retry it and reports
// "<Trigger> failed with error <Message>." as a UserLambdaValidationException.
type FunctionError struct {
	Type    string // errorType, e.g. "errorString"
	Message string // errorMessage
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// Func is one function as an Invoker sees it: event JSON in, response JSON out.
type Func func(ctx context.Context, payload []byte) ([]byte, error)

// Functions is an in-process Invoker: functions by name. An unknown name is a transport error
// (Lambda's ResourceNotFoundException).
type Functions map[string]Func

// Invoke calls the named function.
func (f Functions) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	fn := f[function]
	if fn == nil {
		return nil, fmt.Errorf("ResourceNotFoundException: function %q not found", function)
	}
	return fn(ctx, payload)
}

// Handle adapts a Lambda handler of the form the triggers use (an event in, the same event out)
// to a Func, as the Lambda runtime would run it: the payload is decoded into E, the result
// encoded, a returned error or a panic becomes a *FunctionError.
func Handle[E any](h func(context.Context, E) (E, error)) Func {
	return func(ctx context.Context, payload []byte) (out []byte, err error) {
		var ev E
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, &FunctionError{Type: "Runtime.UnmarshalError", Message: err.Error()}
		}
		defer func() {
			if r := recover(); r != nil {
				out, err = nil, &FunctionError{Type: "Runtime.Panic", Message: fmt.Sprint(r)}
			}
		}()
		res, herr := h(ctx, ev)
		if herr != nil {
			t := reflect.TypeOf(herr)
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			return nil, &FunctionError{Type: t.Name(), Message: herr.Error()}
		}
		return json.Marshal(res)
	}
}

// errTimeout marks an invocation that did not answer within TriggerTimeout.
var errTimeout = errors.New("Socket timeout while invoking Lambda function")

// header builds the common part of a trigger event.
func (p *Pool) header(source, userName, clientID, sdk string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{
		Version:       "1",
		TriggerSource: source,
		Region:        p.cfg.Region,
		UserPoolID:    p.cfg.PoolID,
		UserName:      userName,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: sdk, ClientID: clientID},
	}
}

// invoke sends ev to the trigger's function and decodes the response into out, with Cognito's
// timeout, retries and error reporting.
func (p *Pool) invoke(c call, trigger, function string, ev, out any) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt <= p.cfg.TriggerRetries; attempt++ {
		if attempt > 0 {
			p.count(func(s *Stats) map[string]int { return s.Retries }, trigger)
		}
		p.count(func(s *Stats) map[string]int { return s.Invocations }, trigger)
		resp, err := p.invokeOnce(c.ctx, function, payload)
		if err == nil {
			err = lambdaErrorPayload(resp)
		}
		if err == nil {
			if uerr := decodeResponse(resp, out); uerr != nil {
				p.count(func(s *Stats) map[string]int { return s.Failures }, trigger)
				p.cfg.Log.Warn("idp: unreadable trigger response", "trigger", trigger, "err", uerr)
				return apiErr(errInvalidLambdaResponse, "Unrecognizable lambda output")
			}
			return nil
		}
		p.count(func(s *Stats) map[string]int { return s.Failures }, trigger)
		p.cfg.Log.Warn("idp: trigger failed", "trigger", trigger, "attempt", attempt+1, "err", err)
		var fe *FunctionError
		if errors.As(err, &fe) {
			return apiErr(errUserLambdaValidation, "%s failed with error %s.", trigger, fe.Message)
		}
		last = err
	}
	msg := last.Error()
	if errors.Is(last, errTimeout) || errors.Is(last, context.DeadlineExceeded) {
		msg = errTimeout.Error()
	}
	return apiErr(errUnexpectedLambda, "%s invocation failed due to error %s.", trigger, msg)
}

// invokeOnce runs one invocation and gives up after TriggerTimeout whether or not the Invoker
// honours its context (Cognito does not wait either).
func (p *Pool) invokeOnce(ctx context.Context, function string, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.TriggerTimeout)
	defer cancel()
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	start := time.Now()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{nil, fmt.Errorf("invoker panicked: %v", r)}
			}
		}()
		b, err := p.inv.Invoke(ctx, function, payload)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() != nil && time.Since(start) >= p.cfg.TriggerTimeout {
			return nil, fmt.Errorf("%w: %v", errTimeout, r.err)
		}
		return r.b, r.err
	case <-ctx.Done():
		return nil, errTimeout
	}
}

// lambdaErrorPayload recognises the Lambda runtime's error response as a function error.
func lambdaErrorPayload(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !bytes.Contains(b, []byte(`"errorMessage"`)) {
		return nil
	}
	var e struct {
		ErrorMessage  *string `json:"errorMessage"`
		ErrorType     string  `json:"errorType"`
		TriggerSource *string `json:"triggerSource"`
	}
	if json.Unmarshal(b, &e) != nil || e.ErrorMessage == nil || e.TriggerSource != nil {
		return nil
	}
	return &FunctionError{Type: e.ErrorType, Message: *e.ErrorMessage}
}

func decodeResponse(b []byte, out any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("response is not a JSON object")
	}
	return json.Unmarshal(b, out)
}

// preSignUp runs the PreSignUp trigger if the pool has one. It returns the trigger's response
// (the zero value without a trigger).
func (p *Pool) preSignUp(c call, source, userName, clientID string, attrs, validation, clientMeta map[string]string) (events.CognitoEventUserPoolsPreSignupResponse, error) {
	fn := p.cfg.Triggers.PreSignUp
	if fn == "" {
		return events.CognitoEventUserPoolsPreSignupResponse{}, nil
	}
	if validation == nil {
		validation = map[string]string{}
	}
	ev := events.CognitoEventUserPoolsPreSignup{
		CognitoEventUserPoolsHeader: p.header(source, userName, clientID, c.sdkVersion),
		Request: events.CognitoEventUserPoolsPreSignupRequest{
			UserAttributes: attrs,
			ValidationData: validation,
			ClientMetadata: clientMeta,
		},
	}
	var out events.CognitoEventUserPoolsPreSignup
	if err := p.invoke(c, TriggerPreSignUp, fn, ev, &out); err != nil {
		return events.CognitoEventUserPoolsPreSignupResponse{}, err
	}
	return out.Response, nil
}
