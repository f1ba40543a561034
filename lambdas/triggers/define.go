package triggers

import "github.com/passwordless-go/cognito/lambdas/triggers/define"

// Define is the DefineAuthChallenge trigger (package define, where it lives so that the define
// binary links neither package triggers' dependencies nor the AWS SDK). It only applies
// authflow.Plan and calls nothing outside the process.
type Define = define.Define
