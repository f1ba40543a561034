package testkit

import (
	"context"
	"maps"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// DefineHandler, CreateHandler and VerifyHandler are the custom-auth trigger handlers a SignIn
// drives; *triggers.Define, *triggers.Create and *triggers.Verify satisfy them.
type (
	DefineHandler interface {
		Handle(context.Context, events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error)
	}
	CreateHandler interface {
		Handle(context.Context, events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error)
	}
	VerifyHandler interface {
		Handle(context.Context, events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error)
	}
)

// SignIn plays one custom-auth sign-in through the trigger handlers, sending each the event
// Cognito would send (trigger source, region eu-west-1, pool, client, user name, a copy of the
// attributes, the session so far). It only sends: what a result or an error means is the
// caller's to judge, as is when to call which trigger.
type SignIn struct {
	Define DefineHandler
	Create CreateHandler
	Verify VerifyHandler

	PoolID, ClientID, UserName string
	Attrs                      map[string]string // the user's attributes as the pool holds them now
	UserNotFound               bool

	// Session lists the rounds answered so far, as Define and Create see them.
	Session []*events.CognitoEventUserPoolsChallengeResult
	// Round is the round being answered (the caller stores Create's response here).
	Round events.CognitoEventUserPoolsCreateAuthChallengeResponse
}

func (s *SignIn) header(trigger string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{Version: "1", TriggerSource: trigger, Region: "eu-west-1", UserPoolID: s.PoolID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{ClientID: s.ClientID}, UserName: s.UserName}
}

// DoDefine runs Define for the session so far with the client metadata meta.
func (s *SignIn) DoDefine(ctx context.Context, meta map[string]string) (events.CognitoEventUserPoolsDefineAuthChallengeResponse, error) {
	out, err := s.Define.Handle(ctx, events.CognitoEventUserPoolsDefineAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("DefineAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsDefineAuthChallengeRequest{UserAttributes: maps.Clone(s.Attrs), Session: s.Session,
			ClientMetadata: meta, UserNotFound: s.UserNotFound},
	})
	return out.Response, err
}

// DoCreate runs Create for the next round with the client metadata meta. It does not store the
// round (a caller simulating Cognito retrying Create compares the two).
func (s *SignIn) DoCreate(ctx context.Context, meta map[string]string) (events.CognitoEventUserPoolsCreateAuthChallengeResponse, error) {
	out, err := s.Create.Handle(ctx, events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("CreateAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{UserAttributes: maps.Clone(s.Attrs), ChallengeName: authflow.ChallengeName,
			Session: s.Session, ClientMetadata: meta, UserNotFound: s.UserNotFound},
	})
	return out.Response, err
}

// DoVerify runs Verify on answer to Round with the client metadata meta and, when Verify
// answers, adds the round and its result to Session. An error adds nothing (Cognito fails the
// sign-in).
func (s *SignIn) DoVerify(ctx context.Context, answer string, meta map[string]string) (bool, error) {
	out, err := s.Verify.Handle(ctx, events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("VerifyAuthChallengeResponse_Authentication"),
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: maps.Clone(s.Attrs),
			PrivateChallengeParameters: s.Round.PrivateChallengeParameters, ChallengeAnswer: answer, ClientMetadata: meta,
			UserNotFound: s.UserNotFound},
	})
	if err != nil {
		return false, err
	}
	s.Session = append(s.Session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: authflow.ChallengeName,
		ChallengeResult: out.Response.AnswerCorrect, ChallengeMetadata: s.Round.ChallengeMetadata})
	return out.Response.AnswerCorrect, nil
}
