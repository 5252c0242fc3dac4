package dbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster is a throwaway PostgreSQL server in a temp dir.
type Cluster struct {
	URL  string
	Dir  string
	Stop func() // stops the server for good and removes its files
	// pgctl runs pg_ctl on the cluster's data dir (as postgres when root).
	pgctl func(ctx context.Context, args ...string) ([]byte, error)
	opts  string // the server options it was started with (port included)
}

// Halt stops the server (fast shutdown: open connections are cut) and keeps
// its data, to test what clients do while the database is down.
func (c *Cluster) Halt(ctx context.Context) error {
	if out, err := c.pgctl(ctx, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Resume starts a halted server again on the same port and data.
func (c *Cluster) Resume(ctx context.Context) error {
	if out, err := c.pgctl(ctx, "-o", c.opts, "-l", filepath.Join(c.Dir, "log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// StartCluster runs initdb and pg_ctl in a new temp dir and starts a server
// on a free loopback port, tuned for tests (fsync off). As root it runs the
// binaries as the postgres OS user, because initdb refuses root.
func StartCluster(ctx context.Context) (*Cluster, error) {
	initdb, err := findPGBin("initdb")
	if err != nil {
		return nil, err
	}
	pgctl, err := findPGBin("pg_ctl")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "perch-pg-")
	if err != nil {
		return nil, err
	}
	asPostgres := os.Geteuid() == 0
	if asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, errors.New("running as root and there is no postgres OS user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	run := func(name string, args ...string) ([]byte, error) {
		if asPostgres {
			args = append([]string{"-u", "postgres", "--", name}, args...)
			name = "runuser"
		}
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	data := filepath.Join(dir, "data")
	if out, err := run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	var lastErr error
	for range 5 { // a free port can be taken between probing and binding
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", port, dir)
		out, err := run(pgctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
		if err != nil {
			lastErr = fmt.Errorf("pg_ctl start: %v: %s", err, strings.TrimSpace(string(out)))
			continue
		}
		c := &Cluster{
			URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
			Dir:  dir,
			opts: opts,
		}
		c.pgctl = func(ctx context.Context, args ...string) ([]byte, error) {
			args = append([]string{"-D", data}, args...)
			name := pgctl
			if asPostgres {
				args = append([]string{"-u", "postgres", "--", pgctl}, args...)
				name = "runuser"
			}
			cmd := exec.CommandContext(ctx, name, args...)
			cmd.Dir = dir
			return cmd.CombinedOutput()
		}
		c.Stop = func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := []string{"-D", data, "-m", "immediate", "-w", "stop"}
			name := pgctl
			if asPostgres {
				args = append([]string{"-u", "postgres", "--", pgctl}, args...)
				name = "runuser"
			}
			_ = exec.CommandContext(stopCtx, name, args...).Run()
			os.RemoveAll(dir)
		}
		return c, nil
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// findPGBin finds a PostgreSQL server binary on PATH or in Debian's place.
func findPGBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("%s not found (install PostgreSQL server binaries or set PERCH_TEST_DATABASE_URL)", name)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
