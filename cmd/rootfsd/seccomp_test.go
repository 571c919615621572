package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A machine where user namespaces are forbidden, without changing the
// machine: the test binary started with denyUsernsEnv=1 installs a seccomp
// filter that refuses them and executes its arguments under it (a filter is
// inherited across exec and by every thread and child created later), as a
// container runtime's default seccomp profile does for unprivileged users.
const denyUsernsEnv = "ROOTFSD_TEST_DENY_USERNS"

// cloneProbeEnv makes the test binary start `true` in a new user namespace
// with clone(2) (where unshare(1) uses unshare(2)) and print what happened.
const cloneProbeEnv = "ROOTFSD_TEST_CLONE_NEWUSER"

// denyUsernsFilter is a classic BPF seccomp program: unshare(2) and clone(2)
// with CLONE_NEWUSER fail with EPERM, clone3(2) with ENOSYS (its flags sit
// in memory, out of a filter's reach; callers fall back to clone), the
// rest is allowed. Another architecture's system calls (x32 on amd64) are
// refused with ENOSYS.
func denyUsernsFilter() ([]unix.SockFilter, error) {
	var arch uint32
	switch runtime.GOARCH {
	case "amd64":
		arch = unix.AUDIT_ARCH_X86_64
	case "arm64":
		arch = unix.AUDIT_ARCH_AARCH64
	default:
		return nil, fmt.Errorf("seccomp filter: no audit architecture for %s", runtime.GOARCH)
	}
	const (
		offNr    = 0  // offsetof(struct seccomp_data, nr)
		offArch  = 4  // offsetof(struct seccomp_data, arch)
		offFlags = 16 // args[0], low half on little-endian: the flags of unshare and clone
		x32Bit   = 0x40000000
	)
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	jump := func(op uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	var (
		allow = ret(unix.SECCOMP_RET_ALLOW)
		eperm = ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
		enosy = ret(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	)
	return []unix.SockFilter{
		/* 0 */ ld(offArch),
		/* 1 */ jump(unix.BPF_JEQ, arch, 0, 9), // -> 11 enosys
		/* 2 */ ld(offNr),
		/* 3 */ jump(unix.BPF_JGE, x32Bit, 7, 0), // -> 11 enosys
		/* 4 */ jump(unix.BPF_JEQ, unix.SYS_CLONE3, 6, 0), // -> 11 enosys
		/* 5 */ jump(unix.BPF_JEQ, unix.SYS_UNSHARE, 1, 0), // -> 7
		/* 6 */ jump(unix.BPF_JEQ, unix.SYS_CLONE, 0, 3), // -> 10 allow
		/* 7 */ ld(offFlags),
		/* 8 */ jump(unix.BPF_JSET, unix.CLONE_NEWUSER, 0, 1), // -> 9 eperm, 10 allow
		/* 9 */ eperm,
		/* 10 */ allow,
		/* 11 */ enosy,
	}, nil
}

// denyUserNamespaces installs denyUsernsFilter on every thread of this
// process. no_new_privs lets an unprivileged process do it; it also means
// that set-user-id programs started later (newuidmap) gain nothing.
func denyUserNamespaces() error {
	filter, err := denyUsernsFilter()
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("seccomp filter: no_new_privs: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("seccomp filter: install: %w", errno)
	}
	runtime.KeepAlive(filter)
	return nil
}

// execWithoutUserns is the test binary's job under denyUsernsEnv=1: it
// installs the filter and executes args (the program found in $PATH),
// without denyUsernsEnv in its environment.
func execWithoutUserns(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, denyUsernsEnv+": no program to run")
		return 2
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := denyUserNamespaces(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, denyUsernsEnv+"=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(path, args, env)
	fmt.Fprintf(os.Stderr, "exec %s: %v\n", path, err)
	return 2
}

// cloneNewUser is the test binary's job under cloneProbeEnv=1.
func cloneNewUser() int {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	if err := cmd.Run(); err != nil {
		fmt.Printf("clone(CLONE_NEWUSER): %v\n", err)
		return 1
	}
	fmt.Println("clone(CLONE_NEWUSER): ok")
	return 0
}

// withoutUserns returns a command that runs args under the filter.
func withoutUserns(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), denyUsernsEnv+"=1")
	return cmd
}

// TestSeccompDeniesUserNamespaces proves the filter the tests without user
// namespaces rely on: unshare(2) and clone(2) into a new user namespace
// work without it and fail with EPERM under it.
func TestSeccompDeniesUserNamespaces(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("SKIP: unshare(1) is not installed (util-linux): the seccomp filter was not proven")
	}
	if out, err := exec.Command(unshare, "--user", "true").CombinedOutput(); err != nil {
		t.Skipf("SKIP: this machine already forbids user namespaces (unshare --user true: %v %s): the filter cannot be told apart", err, out)
	}
	out, err := withoutUserns(unshare, "--user", "true").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "Operation not permitted") {
		t.Errorf("unshare --user true under the filter: %v, want a failure with EPERM:\n%s", err, out)
	}
	t.Logf("unshare --user true under the filter: %v: %s", err, strings.TrimSpace(string(out)))
	// Everything else still works under it.
	if out, err := withoutUserns("sh", "-c", "echo ok").CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Errorf("sh under the filter: %v %q", err, out)
	}

	probe := func(filter bool) string {
		cmd := exec.Command(os.Args[0])
		cmd.Env = os.Environ()
		if filter {
			cmd = withoutUserns(os.Args[0])
		}
		cmd.Env = append(cmd.Env, cloneProbeEnv+"=1")
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	if got := probe(false); got != "clone(CLONE_NEWUSER): ok" {
		t.Errorf("clone without the filter: %s", got)
	}
	if got := probe(true); !strings.Contains(got, "operation not permitted") {
		t.Errorf("clone under the filter: %s, want EPERM", got)
	}
}
