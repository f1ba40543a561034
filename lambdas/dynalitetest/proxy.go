package dynalitetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	maxRequestBytes   = 16 << 20
	maxTransactItems  = 100
	jsonContentType   = "application/x-amz-json-1.0"
	targetPrefix      = "DynamoDB_20120810."
	typeValidation    = "com.amazon.coral.validate#ValidationException"
	typeSerialization = "com.amazon.coral.service#SerializationException"
	typeInternal      = "com.amazonaws.dynamodb.v20120810#InternalServerError"
	typeCancelled     = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
)

// proxy forwards requests to dynalite and emulates the operations it lacks.
// Transactions hold mu exclusively; every other request holds it shared, so
// no request observes a transaction half applied.
type proxy struct {
	upstream string
	client   *http.Client
	mu       sync.RWMutex
	reqID    atomic.Uint64
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		p.writeJSON(w, http.StatusBadRequest, errorBody(typeSerialization, err.Error()))
		return
	}
	if len(body) > maxRequestBytes {
		p.writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(typeValidation, "request too large"))
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	switch {
	case r.Method == http.MethodPost && op == "TransactWriteItems":
		p.mu.Lock()
		defer p.mu.Unlock()
		status, resp := p.transactWriteItems(r.Context(), body)
		p.writeJSON(w, status, resp)
	case r.Method == http.MethodPost && op == "UpdateTimeToLive":
		p.mu.RLock()
		defer p.mu.RUnlock()
		status, resp := p.updateTimeToLive(r.Context(), body)
		p.writeJSON(w, status, resp)
	default:
		p.mu.RLock()
		defer p.mu.RUnlock()
		p.forward(w, r, body)
	}
}

var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *proxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		p.writeJSON(w, http.StatusInternalServerError, errorBody(typeInternal, err.Error()))
		return
	}
	out.Header = r.Header.Clone()
	for _, h := range hopByHop {
		out.Header.Del(h)
	}
	resp, err := p.client.Do(out)
	if err != nil {
		p.writeJSON(w, http.StatusBadGateway, errorBody(typeInternal, "dynalitetest proxy: "+err.Error()))
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopByHop {
		w.Header().Del(h)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// writeJSON answers like DynamoDB: JSON body, CRC32 of the body in a header.
func (p *proxy) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"` + typeInternal + `","message":"encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	h.Set("X-Amzn-Requestid", "dynalitetest-"+strconv.FormatUint(p.reqID.Add(1), 10))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func errorBody(typ, msg string) map[string]any {
	return map[string]any{"__type": typ, "message": msg}
}

// upstreamError is an error answer from dynalite, passed on unchanged.
type upstreamError struct {
	status int
	typ    string // the part of __type after '#'
	body   json.RawMessage
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("dynalite answered %d %s", e.status, e.body)
}

// call sends one operation to dynalite and decodes its successful answer
// into out (if non-nil). Error answers come back as *upstreamError.
func (p *proxy) call(ctx context.Context, op string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.upstream+"/", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	// dynalite checks the presence and shape of a SigV4 header, not the signature.
	req.Header.Set("X-Amz-Date", "20200101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=dynalitetest/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxRequestBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(rb, &eb)
		typ := eb.Type
		if i := strings.LastIndexByte(typ, '#'); i >= 0 {
			typ = typ[i+1:]
		}
		if !json.Valid(rb) {
			rb, _ = json.Marshal(errorBody(typeInternal, string(rb)))
		}
		return &upstreamError{status: resp.StatusCode, typ: typ, body: rb}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rb, out)
}

// answerError turns an error from call into a response.
func answerError(err error) (int, any) {
	var ue *upstreamError
	if errors.As(err, &ue) {
		return ue.status, ue.body
	}
	return http.StatusInternalServerError, errorBody(typeInternal, "dynalitetest proxy: "+err.Error())
}

type attrs = map[string]json.RawMessage

// action is one element of TransactItems, lowered to a single-item operation.
type action struct {
	kind   string // Put, Update, Delete or ConditionCheck
	op     string // the dynalite operation applying it
	params map[string]json.RawMessage
	table  string
	key    attrs
}

// applied remembers how to undo one applied action.
type applied struct {
	table string
	key   attrs
	old   attrs // nil if the item did not exist
}

type cancellationReason struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
}

func (p *proxy) transactWriteItems(ctx context.Context, body []byte) (int, any) {
	var req struct {
		TransactItems []map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, errorBody(typeSerialization, err.Error())
	}
	n := len(req.TransactItems)
	if n == 0 || n > maxTransactItems {
		return http.StatusBadRequest, errorBody(typeValidation,
			fmt.Sprintf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and %d", maxTransactItems))
	}
	schemas := map[string][]string{}
	seen := map[string]bool{}
	actions := make([]action, 0, n)
	for _, item := range req.TransactItems {
		a, status, resp := p.lower(ctx, item, schemas)
		if resp != nil {
			return status, resp
		}
		id, err := itemIdentity(a.table, a.key)
		if err != nil {
			return http.StatusBadRequest, errorBody(typeValidation, err.Error())
		}
		if seen[id] {
			return http.StatusBadRequest, errorBody(typeValidation, "Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		actions = append(actions, a)
	}

	reasons := make([]cancellationReason, n)
	var done []applied
	failed := false
	for i, a := range actions {
		var out struct{ Attributes attrs }
		err := p.call(ctx, a.op, a.params, &out)
		var ue *upstreamError
		switch {
		case err == nil:
			reasons[i] = cancellationReason{Code: "None"}
			if len(out.Attributes) == 0 {
				out.Attributes = nil
			}
			if a.kind == "ConditionCheck" {
				// The check was a conditional delete: put the item back.
				if out.Attributes != nil {
					if err := p.call(ctx, "PutItem", map[string]any{"TableName": a.table, "Item": out.Attributes}, nil); err != nil {
						return p.abort(ctx, done, fmt.Errorf("restore after condition check: %w", err))
					}
				}
				continue
			}
			done = append(done, applied{table: a.table, key: a.key, old: out.Attributes})
		case errors.As(err, &ue) && ue.typ == "ConditionalCheckFailedException":
			reasons[i] = cancellationReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
			failed = true
		default:
			if status, resp := p.rollback(ctx, done); resp != nil {
				return status, resp
			}
			return answerError(err)
		}
	}
	if !failed {
		return http.StatusOK, map[string]any{}
	}
	if status, resp := p.rollback(ctx, done); resp != nil {
		return status, resp
	}
	codes := make([]string, n)
	for i, r := range reasons {
		codes[i] = r.Code
	}
	return http.StatusBadRequest, map[string]any{
		"__type":              typeCancelled,
		"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		"CancellationReasons": reasons,
	}
}

// abort rolls back and reports err as an internal error.
func (p *proxy) abort(ctx context.Context, done []applied, err error) (int, any) {
	if status, resp := p.rollback(ctx, done); resp != nil {
		return status, resp
	}
	return answerError(err)
}

// rollback undoes applied actions in reverse order. It returns a response
// only if undoing failed, leaving the table inconsistent.
func (p *proxy) rollback(ctx context.Context, done []applied) (int, any) {
	ctx = context.WithoutCancel(ctx)
	for i := len(done) - 1; i >= 0; i-- {
		d := done[i]
		var err error
		if d.old != nil {
			err = p.call(ctx, "PutItem", map[string]any{"TableName": d.table, "Item": d.old}, nil)
		} else {
			err = p.call(ctx, "DeleteItem", map[string]any{"TableName": d.table, "Key": d.key}, nil)
		}
		if err != nil {
			return http.StatusInternalServerError, errorBody(typeInternal,
				"dynalitetest proxy: transaction rollback failed, table "+d.table+" is inconsistent: "+err.Error())
		}
	}
	return 0, nil
}

// lower turns one TransactItems element into a single-item operation that
// returns the old image. A non-nil response means the request is invalid.
func (p *proxy) lower(ctx context.Context, item map[string]json.RawMessage, schemas map[string][]string) (action, int, any) {
	invalid := func(msg string) (action, int, any) {
		return action{}, http.StatusBadRequest, errorBody(typeValidation, msg)
	}
	var a action
	for _, kind := range []string{"Put", "Update", "Delete", "ConditionCheck"} {
		raw, ok := item[kind]
		if !ok || string(raw) == "null" {
			continue
		}
		if a.kind != "" {
			return invalid("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		a.kind = kind
		if err := json.Unmarshal(raw, &a.params); err != nil || a.params == nil {
			return invalid("invalid " + kind)
		}
	}
	if a.kind == "" {
		return invalid("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	if err := json.Unmarshal(a.params["TableName"], &a.table); err != nil || a.table == "" {
		return invalid("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	delete(a.params, "ReturnValuesOnConditionCheckFailure")
	a.params["ReturnValues"] = json.RawMessage(`"ALL_OLD"`)

	switch a.kind {
	case "Put":
		a.op = "PutItem"
		var it attrs
		if err := json.Unmarshal(a.params["Item"], &it); err != nil || it == nil {
			return invalid("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
		}
		names, ok := schemas[a.table]
		if !ok {
			var out struct {
				Table struct {
					KeySchema []struct{ AttributeName string }
				}
			}
			if err := p.call(ctx, "DescribeTable", map[string]any{"TableName": a.table}, &out); err != nil {
				s, r := answerError(err)
				return action{}, s, r
			}
			for _, k := range out.Table.KeySchema {
				names = append(names, k.AttributeName)
			}
			schemas[a.table] = names
		}
		a.key = attrs{}
		for _, name := range names {
			v, ok := it[name]
			if !ok {
				return invalid("One or more parameter values were invalid: Missing the key " + name + " in the item")
			}
			a.key[name] = v
		}
	case "Update", "Delete", "ConditionCheck":
		if err := json.Unmarshal(a.params["Key"], &a.key); err != nil || len(a.key) == 0 {
			return invalid("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
		}
		a.op = a.kind + "Item"
		if a.kind == "ConditionCheck" {
			if _, ok := a.params["ConditionExpression"]; !ok {
				return invalid("1 validation error detected: Value null at 'conditionExpression' failed to satisfy constraint: Member must not be null")
			}
			// Evaluate the condition with a conditional delete; the item is
			// restored right after.
			a.op = "DeleteItem"
		}
	}
	return a, 0, nil
}

// itemIdentity names an item independently of JSON formatting.
func itemIdentity(table string, key attrs) (string, error) {
	canon := map[string]any{}
	for k, v := range key {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return "", fmt.Errorf("invalid key attribute %s", k)
		}
		canon[k] = x
	}
	b, err := json.Marshal(canon)
	if err != nil {
		return "", err
	}
	return table + "\x00" + string(b), nil
}

func (p *proxy) updateTimeToLive(ctx context.Context, body []byte) (int, any) {
	var req struct {
		TableName               string
		TimeToLiveSpecification json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, errorBody(typeSerialization, err.Error())
	}
	if req.TableName == "" || len(req.TimeToLiveSpecification) == 0 {
		return http.StatusBadRequest, errorBody(typeValidation, "TableName and TimeToLiveSpecification are required")
	}
	if err := p.call(ctx, "DescribeTable", map[string]any{"TableName": req.TableName}, nil); err != nil {
		return answerError(err)
	}
	return http.StatusOK, map[string]any{"TimeToLiveSpecification": req.TimeToLiveSpecification}
}
