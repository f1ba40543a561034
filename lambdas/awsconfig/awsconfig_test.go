package awsconfig

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNew(t *testing.T) {
	if _, err := New(env(map[string]string{})); err == nil {
		t.Fatal("no region accepted")
	}
	vars := map[string]string{"AWS_REGION": "eu-west-1"}
	cfg, err := New(env(vars))
	if err != nil || cfg.Region != "eu-west-1" || cfg.BaseEndpoint != nil {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := cfg.Credentials.Retrieve(context.Background()); err == nil {
		t.Error("empty credentials accepted")
	}
	vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], vars["AWS_SESSION_TOKEN"] = "AKID", "SECRET", "TOKEN"
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKID" || c.SessionToken != "TOKEN" {
		t.Errorf("credentials %+v %v", c, err)
	}
	if r := cfg.Retryer(); r.MaxAttempts() != MaxAttempts {
		t.Errorf("retryer attempts %d", r.MaxAttempts())
	}
}

// TestHangingDependencyFailsInBudget: a server that never answers makes a DynamoDB call fail
// within MaxAttempts * AttemptTimeout (+ backoff), well inside Cognito's 5 s.
func TestHangingDependencyFailsInBudget(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg, err := New(env(map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a",
		"AWS_SECRET_ACCESS_KEY": "b", EnvEndpoint: srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = dynamodb.NewFromConfig(cfg).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
	})
	took := time.Since(start)
	if err == nil {
		t.Fatal("a hanging server answered")
	}
	if limit := MaxAttempts*AttemptTimeout + MaxBackoff + 500*time.Millisecond; took > limit {
		t.Errorf("call took %v, budget %v", took, limit)
	}
	if got := calls.Load(); got != MaxAttempts {
		t.Errorf("%d attempts, want %d", got, MaxAttempts)
	}
}
