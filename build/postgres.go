package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// postgresEnv names the variable that points the tests (and the bench) at a
// PostgreSQL server: a URL of a role that may create databases. The tests of
// the PostgreSQL store skip when it is empty.
const postgresEnv = "CONSENT_TEST_POSTGRES"

// postgresBin finds the directory of Debian's PostgreSQL binaries, the
// newest version installed; "" when there is none.
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if exists(filepath.Join(d, "initdb")) && exists(filepath.Join(d, "postgres")) {
			found = append(found, d)
		}
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// startPostgres starts a throwaway PostgreSQL cluster for one run and
// returns the URL of its superuser and how to stop it (which deletes the
// cluster). When postgresEnv is already set, it uses that server instead and
// starts nothing. The cluster lives in a temporary directory, listens on a
// free loopback port and on a unix socket in that directory, trusts local
// connections, and runs as the "postgres" user when this runs as root
// (PostgreSQL refuses to run as root).
func startPostgres() (dsn string, stop func(), err error) {
	if dsn := os.Getenv(postgresEnv); dsn != "" {
		return dsn, func() {}, nil
	}
	bin := postgresBin()
	if bin == "" {
		return "", nil, fmt.Errorf("no PostgreSQL under /usr/lib/postgresql/*/bin; install it with: sudo apt-get install -y postgresql")
	}
	dir, err := os.MkdirTemp("", "consent-postgres-")
	if err != nil {
		return "", nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("postgres runs as a user of its own, and there is no user postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
	}
	as := func(cmd *exec.Cmd) *exec.Cmd {
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	initdb := as(exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"))
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logFile, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	server := as(exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=on"))
	server.Stdout, server.Stderr = logFile, logFile
	if err := server.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { server.Wait(); close(exited) }()
	stop = func() {
		server.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			server.Process.Kill()
			<-exited
		}
		logFile.Close()
		os.RemoveAll(dir)
	}
	dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		ready := exec.Command(filepath.Join(bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(port))
		if ready.Run() == nil {
			return dsn, stop, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			stop()
			return "", nil, fmt.Errorf("postgres exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("postgres did not accept connections within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postgresShell starts a throwaway cluster and keeps it until interrupted.
func postgresShell() error {
	if err := ensureDebian(); err != nil {
		return err
	}
	dsn, stop, err := startPostgres()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("PostgreSQL is up; in another shell:\n\n  export %s='%s'\n  go test ./server/...\n\nCtrl-C stops it and deletes the cluster.\n", postgresEnv, dsn)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
