package store_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// TestFromConfig: the Store uses the given aws.Config, including its HTTP client (here wrapped by
// metrics.Recorder.Transport, which then times every DynamoDB call), and the table from the
// environment.
func TestFromConfig(t *testing.T) {
	srv := dynalitetest.Shared(t)
	table := dynalitetest.NewTable(t, srv.Client(), store.TableDefinition("keys"))
	var out bytes.Buffer
	rec := metrics.New(&out, "Test")
	cfg := aws.Config{
		Region: dynalitetest.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:   rec.Transport(&http.Client{}),
		BaseEndpoint: aws.String(srv.Endpoint),
	}
	getenv := func(k string) string {
		if k == store.EnvTableName {
			return table
		}
		return ""
	}
	s, err := store.FromConfig(getenv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutDeviceKey(context.Background(), key("owner", "k1"), 5); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListDeviceKeys(context.Background(), "owner")
	if err != nil || len(keys) != 1 || keys[0].ID != "k1" {
		t.Fatalf("%v %v", keys, err)
	}
	rec.Flush()
	if !strings.Contains(out.String(), `"Dependency":"dynamodb","DependencyLatency":[`) {
		t.Errorf("the config's HTTP client was not used: %q", out.String())
	}

	if _, err := store.FromConfig(func(string) string { return "" }, cfg); !errors.Is(err, store.ErrNoTable) {
		t.Errorf("no table: %v", err)
	}
	if _, err := store.FromConfig(getenv, aws.Config{}); err == nil {
		t.Error("a config without a region was accepted")
	}
}
