// Package awsapi is a minimal client for the few AWS operations the functions call besides
// DynamoDB: SES v2 SendEmail, SNS Publish, Secrets Manager GetSecretValue, EventBridge PutEvents,
// and Cognito AdminUpdateUserAttributes, GetUser, AdminSetUserPassword and AdminUserGlobalSignOut. Each full
// SDK service client adds megabytes to a binary for one operation; this package signs requests
// with the SDK core's SigV4 signer (which DynamoDB links anyway) and speaks the three wire
// protocols (restJson1, awsQuery, awsJson1.1) for just those operations.
//
// Endpoints follow the region's partition (DNSSuffix): amazonaws.com, amazonaws.com.cn in the
// China regions, and the suffixes of the other partitions in the SDK's table.
//
// Errors from the services implement smithy.APIError (ErrorCode, ErrorMessage, ErrorFault) and
// HTTPStatusCode, so callers and the SDK's retryers classify them as they would the SDK's own.
// Their Error text holds the operation, status and code only, never the service's message (which
// can quote an address), and no request or response body is ever logged.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// Client calls SES v2, SNS and Cognito user pools with the region, credentials, HTTP client,
// retryer and BaseEndpoint of an aws.Config. It is safe for concurrent use.
type Client struct {
	region  string
	creds   aws.CredentialsProvider
	http    aws.HTTPClient
	retryer aws.Retryer
	base    *url.URL // nil: the regional endpoint of each service
	signer  *v4.Signer
	now     func() time.Time
}

// New returns a Client for cfg. A BaseEndpoint in cfg sends every call to that URL (the local
// harness); otherwise each service's regional endpoint is used,
// https://<service>.<region>.<DNSSuffix(region)> (amazonaws.com.cn in China). Requests are signed
// for cfg.Region either way. It makes no network call.
func New(cfg aws.Config) (*Client, error) {
	if cfg.Region == "" {
		return nil, errors.New("awsapi: no region")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("awsapi: no credentials provider")
	}
	c := &Client{region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner(), now: time.Now}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Retryer != nil {
		c.retryer = cfg.Retryer()
	}
	if c.retryer == nil {
		c.retryer = retry.NewStandard()
	}
	if cfg.BaseEndpoint != nil {
		u, err := url.Parse(*cfg.BaseEndpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("awsapi: bad BaseEndpoint %q", *cfg.BaseEndpoint)
		}
		c.base = u
	}
	return c, nil
}

// call is one operation's request.
type call struct {
	service string // SigV4 signing name and endpoint prefix ("ses" signs for host "email")
	host    string // regional endpoint host prefix
	op      string // operation name, for errors
	path    string
	header  map[string]string
	body    []byte
	parse   func(*http.Response, []byte) *APIError
}

func (c *Client) endpoint(host, path string) string {
	if c.base == nil {
		return "https://" + host + "." + c.region + "." + DNSSuffix(c.region) + path
	}
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}

// do sends k, retrying what the retryer deems retryable up to its MaxAttempts.
func (c *Client) do(ctx context.Context, k *call) ([]byte, error) {
	sum := sha256.Sum256(k.body)
	hash := hex.EncodeToString(sum[:])
	target := c.endpoint(k.host, k.path)
	maxAttempts := max(c.retryer.MaxAttempts(), 1)
	for attempt := 1; ; attempt++ {
		out, err := c.attempt(ctx, k, target, hash)
		if err == nil {
			return out, nil
		}
		if attempt >= maxAttempts || ctx.Err() != nil || !c.retryer.IsErrorRetryable(err) {
			return nil, err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("awsapi: %s %s: %w", k.service, k.op, ctx.Err())
			case <-t.C:
			}
		}
	}
}

// maxBody bounds what is read of a response.
const maxBody = 1 << 20

func (c *Client) attempt(ctx context.Context, k *call, target, hash string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(k.body))
	if err != nil {
		return nil, fmt.Errorf("awsapi: %s %s: %w", k.service, k.op, err)
	}
	for h, v := range k.header {
		req.Header.Set(h, v)
	}
	req.Header.Set("User-Agent", "passwordless-go-awsapi")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("awsapi: %s %s: credentials: %w", k.service, k.op, err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, hash, k.service, c.region, c.now()); err != nil {
		return nil, fmt.Errorf("awsapi: %s %s: sign: %w", k.service, k.op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("awsapi: %s %s: %w", k.service, k.op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("awsapi: %s %s: read response: %w", k.service, k.op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	e := k.parse(resp, body)
	e.Service, e.Operation, e.StatusCode = k.service, k.op, resp.StatusCode
	e.RequestID = resp.Header.Get("X-Amzn-Requestid")
	if e.Code == "" {
		e.Code = "HTTP" + strconv.Itoa(resp.StatusCode)
	}
	if e.Fault == smithy.FaultUnknown {
		e.Fault = smithy.FaultClient
		if resp.StatusCode >= 500 {
			e.Fault = smithy.FaultServer
		}
	}
	return nil, e
}

// APIError is an error answer from a service. It implements smithy.APIError.
type APIError struct {
	Service, Operation string
	StatusCode         int
	Code, Message      string
	Fault              smithy.ErrorFault
	RequestID          string
}

var _ smithy.APIError = (*APIError)(nil)

// Error names the operation, status and code; the service's message is left out because it can
// quote the recipient (ErrorMessage returns it).
func (e *APIError) Error() string {
	return "awsapi: " + e.Service + " " + e.Operation + ": HTTP " + strconv.Itoa(e.StatusCode) + " " + e.Code
}

func (e *APIError) ErrorCode() string             { return e.Code }
func (e *APIError) ErrorMessage() string          { return e.Message }
func (e *APIError) ErrorFault() smithy.ErrorFault { return e.Fault }
func (e *APIError) HTTPStatusCode() int           { return e.StatusCode }

// sanitizeType reduces an error type such as "com.amazonaws.x#Code:http://..." to "Code".
func sanitizeType(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
