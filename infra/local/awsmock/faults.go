package awsmock

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes calls to a service (or one of its operations) fail or slow down.
type Fault struct {
	Service   string        // "dynamodb", "ses", "sns", "cognito", "secretsmanager", "events", "sts", "ssm", "cloudformation"
	Operation string        // e.g. "GetItem", "SendEmail", "Publish"; "" = every operation of Service
	Kind      FaultKind     // what happens to a call it hits
	Delay     time.Duration // for Latency
	Count     int           // how many calls it hits; 0 = until cleared
}

// FaultKind is what a Fault does to a call. Every faulted call is counted by Calls.
//
// The errors, per service (each as the real service sends it, so the SDK builds its usual error):
//
//	            Throttle                                          ServerError                    AccessDenied
//	dynamodb    400 ProvisionedThroughputExceededException         500 InternalServerError        400 AccessDeniedException
//	ses         429 TooManyRequestsException (x-amzn-ErrorType)   500 InternalFailure            403 AccessDeniedException
//	sns         400 Throttling (awsQuery XML, Sender)              500 InternalError (Receiver)   403 AuthorizationError
//	cognito     400 TooManyRequestsException                       500 InternalErrorException     400 AccessDeniedException
//	secrets...  400 ThrottlingException                            500 InternalServiceError       400 AccessDeniedException
//	events      400 ThrottlingException                            500 InternalException          400 AccessDeniedException
//	sts         400 Throttling (awsQuery XML)                      500 InternalFailure            403 AccessDenied
//	ssm         400 ThrottlingException                            500 InternalServerError        400 AccessDeniedException
//	cloudfor... 400 Throttling (awsQuery XML)                      500 InternalFailure            403 AccessDenied
//
// An AccessDenied message reads like IAM's: "User: arn:aws:iam::<account>:user/local is not
// authorized to perform: <prefix>:<Operation>".
type FaultKind int

// Fault kinds.
const (
	// Throttle answers with the service's throttling error (see FaultKind).
	Throttle FaultKind = iota + 1
	// ServerError answers with the service's HTTP 500 error (see FaultKind).
	ServerError
	// Hang sends no answer: the request is held until the client closes it (at most MaxHang,
	// then the connection is dropped), so client timeouts are exercised.
	Hang
	// Latency waits Fault.Delay, then serves the call normally.
	Latency
	// AccessDenied answers with the service's authorization error (see FaultKind), as when the
	// caller's IAM policy lacks the action.
	AccessDenied
	// FailEntries makes EventBridge take the PutEvents request but none of its events: HTTP 200
	// with every entry failed (ErrorCode "InternalFailure") and FailedEntryCount the number of
	// entries. On any other service it acts as ServerError.
	FailEntries
)

func (k FaultKind) String() string {
	switch k {
	case Throttle:
		return "Throttle"
	case ServerError:
		return "ServerError"
	case Hang:
		return "Hang"
	case Latency:
		return "Latency"
	case AccessDenied:
		return "AccessDenied"
	case FailEntries:
		return "FailEntries"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Inject adds a fault. When several match a call, the one injected first applies.
func (s *Server) Inject(f Fault) {
	f.Service = strings.ToLower(strings.TrimSpace(f.Service))
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns the fault that hits this call, consuming one of its Count.
func (s *Server) takeFault(svc, op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Service != svc || (f.Operation != "" && !strings.EqualFold(f.Operation, op)) {
			continue
		}
		hit := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return hit, true
	}
	return Fault{}, false
}

// applyFault acts out f; it reports whether the call should then be served normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, svc, op string) bool {
	switch f.Kind {
	case Latency:
		return s.wait(r.Context(), f.Delay)
	case Hang:
		s.wait(r.Context(), MaxHang)
		panic(http.ErrAbortHandler) // drop the connection without an answer
	case Throttle, ServerError:
		writeFault(w, svc, op, f.Kind)
		return false
	case FailEntries: // on a service other than events (ServeHTTP handles events itself)
		writeFault(w, svc, op, ServerError)
		return false
	case AccessDenied:
		s.mu.Lock()
		caller := s.account.CallerARN
		if caller == "" {
			id := s.account.ID
			if id == "" {
				id = DefaultAccountID
			}
			caller = "arn:aws:iam::" + id + ":user/local"
		}
		s.mu.Unlock()
		writeAccessDenied(w, svc, op, caller)
		return false
	}
	return true // unknown kind: no effect
}

func writeFault(w http.ResponseWriter, svc, op string, k FaultKind) {
	throttle := k == Throttle
	switch svc {
	case ServiceDynamoDB:
		if throttle {
			writeDynamoError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
				"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
		} else {
			writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		}
	case ServiceSES:
		if throttle {
			writeRestJSONError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded.")
		} else {
			writeRestJSONError(w, http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
		}
	case ServiceSNS:
		if throttle {
			writeSNSError(w, http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
		} else {
			writeSNSError(w, http.StatusInternalServerError, "Receiver", "InternalError", "Internal Error")
		}
	case ServiceCognito:
		if throttle {
			writeJSONError(w, "application/x-amz-json-1.1", http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded")
		} else {
			writeJSONError(w, "application/x-amz-json-1.1", http.StatusInternalServerError, "InternalErrorException", "Internal error")
		}
	case ServiceSecretsManager:
		if throttle {
			writeSMError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		} else {
			writeSMError(w, http.StatusInternalServerError, "InternalServiceError", "An error occurred on the server side.")
		}
	case ServiceEvents:
		if throttle {
			writeJSONError(w, eventsContentType, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		} else {
			writeJSONError(w, eventsContentType, http.StatusInternalServerError, "InternalException", "An internal error occurred.")
		}
	case ServiceSTS, ServiceCloudFormation:
		ns := nsSTS
		if svc == ServiceCloudFormation {
			ns = nsCFN
		}
		if throttle {
			writeQueryError(w, ns, http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
		} else {
			writeQueryError(w, ns, http.StatusInternalServerError, "Receiver", "InternalFailure", "An internal error occurred.")
		}
	case ServiceSSM:
		if throttle {
			writeJSONError(w, smContentType, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		} else {
			writeJSONError(w, smContentType, http.StatusInternalServerError, "InternalServerError", "An error occurred on the server side.")
		}
	default:
		http.Error(w, "awsmock: fault on "+svc+"."+op, http.StatusInternalServerError)
	}
}

// iamPrefix is each service's IAM action prefix.
var iamPrefix = map[string]string{
	ServiceDynamoDB: "dynamodb", ServiceSES: "ses", ServiceSNS: "SNS", ServiceCognito: "cognito-idp",
	ServiceSecretsManager: "secretsmanager", ServiceEvents: "events", ServiceSTS: "sts", ServiceSSM: "ssm",
	ServiceCloudFormation: "cloudformation",
}

func writeAccessDenied(w http.ResponseWriter, svc, op, caller string) {
	msg := "User: " + caller + " is not authorized to perform: " + iamPrefix[svc] + ":" + op
	switch svc {
	case ServiceDynamoDB:
		writeDynamoError(w, http.StatusBadRequest, "AccessDeniedException", msg)
	case ServiceSES:
		writeRestJSONError(w, http.StatusForbidden, "AccessDeniedException", msg)
	case ServiceSNS:
		writeSNSError(w, http.StatusForbidden, "Sender", "AuthorizationError", msg)
	case ServiceCognito:
		writeJSONError(w, "application/x-amz-json-1.1", http.StatusBadRequest, "AccessDeniedException", msg)
	case ServiceSecretsManager:
		writeSMError(w, http.StatusBadRequest, "AccessDeniedException", msg)
	case ServiceSSM:
		writeJSONError(w, smContentType, http.StatusBadRequest, "AccessDeniedException", msg)
	case ServiceEvents:
		writeJSONError(w, eventsContentType, http.StatusBadRequest, "AccessDeniedException", msg)
	case ServiceSTS:
		writeQueryError(w, nsSTS, http.StatusForbidden, "Sender", "AccessDenied", msg)
	case ServiceCloudFormation:
		writeQueryError(w, nsCFN, http.StatusForbidden, "Sender", "AccessDenied", msg)
	default:
		http.Error(w, "awsmock: "+msg, http.StatusForbidden)
	}
}

// writeDynamoError answers in DynamoDB's awsJson1.0 error format.
func writeDynamoError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSONError(w, "application/x-amz-json-1.0", status, "com.amazonaws.dynamodb.v20120810#"+typ, msg)
}

// writeJSONError answers {"__type": typ, "message": msg} (awsJson1.0/1.1 errors).
func writeJSONError(w http.ResponseWriter, contentType string, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeRestJSONError answers in the restJson1 error format (SES v2): the type in the
// x-amzn-ErrorType header, {"message": ...} in the body.
func writeRestJSONError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.Header().Set("x-amzn-RequestId", newID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeSNSError answers in SNS's awsQuery XML error format.
func writeSNSError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeQueryError(w, nsSNS, status, typ, code, msg)
}

// writeQueryError answers in the awsQuery XML error format of the service with namespace ns.
func writeQueryError(w http.ResponseWriter, ns string, status int, typ, code, msg string) {
	var b strings.Builder
	b.WriteString(`<ErrorResponse xmlns="` + ns + `"><Error><Type>`)
	xmlText(&b, typ)
	b.WriteString(`</Type><Code>`)
	xmlText(&b, code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, msg)
	b.WriteString(`</Message></Error><RequestId>`)
	id := newID()
	b.WriteString(id)
	b.WriteString(`</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", id)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func xmlText(b *strings.Builder, s string) { _ = xml.EscapeText(b, []byte(s)) }
