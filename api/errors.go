package api

import (
	"context"
	"encoding/json"
	"errors"

	"connectrpc.com/connect"

	"github.com/rootfsd/rootfsd/repo"
)

// Errors callers branch on.
var (
	// ErrOtherCache is a request naming a cache the daemon does not serve.
	// Clients that may run in-process do so instead.
	ErrOtherCache = errors.New("the daemon serves another cache")
	// ErrUnavailable is a request no daemon took: none answered, or it
	// is shutting down. The work did not run.
	ErrUnavailable = errors.New("the daemon is not available")
	// ErrRunLocally is a request the daemon will not run for this caller:
	// one that writes files or reads key files, from a member of an
	// allowed group rather than the daemon's own user (the daemon would do
	// it with its own rights). Clients run it in their own process.
	ErrRunLocally = errors.New("the daemon runs this only for its own user")
	// ErrNoResult is a stream that ended without its result message.
	ErrNoResult = errors.New("the daemon's answer ended without a result")
)

// errorKey is the binary error metadata that carries the typed errors the
// CLI maps to exit codes, so that they survive the socket.
const errorKey = "Rootfsd-Error-Bin"

// wireError is the content of errorKey.
type wireError struct {
	Unsatisfiable  *repo.UnsatisfiableError  `json:"unsatisfiable,omitempty"`
	UnknownPackage *repo.UnknownPackageError `json:"unknownPackage,omitempty"`
	OtherCache     bool                      `json:"otherCache,omitempty"`
	Unavailable    bool                      `json:"unavailable,omitempty"`
	RunLocally     bool                      `json:"runLocally,omitempty"`
}

// toConnect turns a service error into a connect error with a code and,
// for typed errors, the metadata that rebuilds them on the client.
func toConnect(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	var (
		we      wireError
		unsat   *repo.UnsatisfiableError
		unknown *repo.UnknownPackageError
		code    = connect.CodeUnknown
	)
	switch {
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	case errors.As(err, &unsat):
		code, we.Unsatisfiable = connect.CodeFailedPrecondition, unsat
	case errors.As(err, &unknown):
		code, we.UnknownPackage = connect.CodeNotFound, unknown
	case errors.Is(err, ErrOtherCache):
		code, we.OtherCache = connect.CodeFailedPrecondition, true
	case errors.Is(err, ErrRunLocally):
		code, we.RunLocally = connect.CodeFailedPrecondition, true
	case errors.Is(err, ErrUnavailable):
		code, we.Unavailable = connect.CodeUnavailable, true
	}
	out := connect.NewError(code, err)
	if we != (wireError{}) {
		if b, merr := json.Marshal(we); merr == nil {
			out.Meta().Set(errorKey, connect.EncodeBinaryHeader(b))
		}
	}
	return out
}

// RemoteError is an error the daemon returned. Its text is the daemon's,
// unchanged; Unwrap gives the typed error it stood for, if any, so that
// errors.As finds a *repo.UnsatisfiableError as it would in-process.
type RemoteError struct {
	Code connect.Code
	Msg  string
	err  error
}

func (e *RemoteError) Error() string { return e.Msg }
func (e *RemoteError) Unwrap() error { return e.err }

// fromConnect turns what a call returned into the error the service would
// have returned in-process.
func fromConnect(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return err
	}
	re := &RemoteError{Code: ce.Code(), Msg: ce.Message()}
	switch ce.Code() {
	case connect.CodeCanceled:
		re.err = context.Canceled
	case connect.CodeDeadlineExceeded:
		re.err = context.DeadlineExceeded
	case connect.CodeUnavailable:
		// Also what a socket that does not answer looks like.
		re.err = ErrUnavailable
	default:
		re.err = errors.Unwrap(ce)
	}
	if v := ce.Meta().Get(errorKey); v != "" {
		var we wireError
		if b, derr := connect.DecodeBinaryHeader(v); derr == nil && json.Unmarshal(b, &we) == nil {
			switch {
			case we.Unsatisfiable != nil:
				re.err = we.Unsatisfiable
			case we.UnknownPackage != nil:
				re.err = we.UnknownPackage
			case we.OtherCache:
				re.err = ErrOtherCache
			case we.RunLocally:
				re.err = ErrRunLocally
			case we.Unavailable:
				re.err = ErrUnavailable
			}
		}
	}
	if re.Msg == "" {
		re.Msg = ce.Error()
	}
	return re
}
