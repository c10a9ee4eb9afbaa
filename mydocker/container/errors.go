//book:file namespaces

package container

// Exit codes that Docker uses when the container's own command never ran.
const (
	ExitRuntimeError = 125 // mydocker itself failed
	ExitCannotInvoke = 126 // the command exists but cannot be executed
	ExitNotFound     = 127 // the command does not exist
)

// Error is a failure that carries the exit code mydocker should end with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
