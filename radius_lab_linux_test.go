package main

// FreeRADIUS for the RADIUS integration tests: Debian's freeradius, run by
// the test in a namespace of its own (192.0.2.10 on a bridge the server
// namespaces join as 192.0.2.1, .2, ...), with a configuration the test
// writes from Debian's: the pap, chap, mschap, files and sql modules, sql
// on sqlite with FreeRADIUS's own schema, so the radacct table is the one
// billing systems read. It is stopped and removed when the test ends.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const radiusSecret = "testing123"

type freeRADIUS struct {
	debug bool // -X: one thread, every request in the log
	t     *testing.T
	l     *lab
	ns    string
	dir   string
	db    string
	d     *daemon
}

// radiusSite is the virtual server: authorize and authenticate with the
// users file, accounting into sql.
const radiusSite = `server pppoed {
	listen {
		type = auth
		ipaddr = *
		port = 1812
	}
	listen {
		type = acct
		ipaddr = *
		port = 1813
	}
	authorize {
		preprocess
		chap
		mschap
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
	}
	preacct {
		preprocess
		acct_unique
	}
	accounting {
		# An Accounting-On or -Off that closes no row is sql's noop,
		# which alone would leave the request unanswered.
		sql
		ok
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
		}
	}
}
`

// startFreeRADIUS starts FreeRADIUS with users as its users file, in a
// namespace joined to each of the lab's server namespaces given (the
// first becomes 192.0.2.1, the next .2, ...).
func (l *lab) startFreeRADIUS(users string, srvNS ...string) *freeRADIUS {
	l.t.Helper()
	return l.startFreeRADIUSMode(false, users, srvNS...)
}

// startFreeRADIUSDebug is startFreeRADIUS with FreeRADIUS's -X, for a test
// that reads what FreeRADIUS received.
func (l *lab) startFreeRADIUSDebug(users string, srvNS ...string) *freeRADIUS {
	l.t.Helper()
	return l.startFreeRADIUSMode(true, users, srvNS...)
}

func (l *lab) startFreeRADIUSMode(debug bool, users string, srvNS ...string) *freeRADIUS {
	t := l.t
	t.Helper()
	fr := requireTool(t, "freeradius")
	requireTool(t, "sqlite3")
	r := &freeRADIUS{debug: debug, t: t, l: l, ns: l.radiusNet(srvNS...), dir: t.TempDir()}
	conf := filepath.Join(r.dir, "conf")
	if out, err := exec.Command("cp", "-a", "/etc/freeradius/3.0", conf).CombinedOutput(); err != nil {
		t.Fatalf("copying FreeRADIUS's configuration: %v\n%s", err, out)
	}
	for _, d := range []string{"sites-enabled", "mods-enabled"} {
		os.RemoveAll(filepath.Join(conf, d))
		os.Mkdir(filepath.Join(conf, d), 0o755)
	}
	for _, m := range []string{"always", "attr_filter", "chap", "expr", "files", "mschap", "pap", "preprocess", "sql"} {
		if err := os.Symlink("../mods-available/"+m, filepath.Join(conf, "mods-enabled", m)); err != nil {
			t.Fatal(err)
		}
	}
	r.db = filepath.Join(r.dir, "radacct.db")
	edit := func(file string, pairs ...string) {
		p := filepath.Join(conf, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("%s has no %q", file, pairs[i])
			}
			s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
		}
		writeTestFile(t, p, s)
	}
	// Root, in the test's own directories.
	edit("radiusd.conf", "\tuser = freerad", "#", "\tgroup = freerad", "#",
		"run_dir = ${localstatedir}/run/${name}", "run_dir = "+r.dir, "logdir = /var/log/freeradius", "logdir = "+r.dir)
	// sqlite takes one writer at a time: the threaded server's
	// connections wait their turn (as long as a billing system's would)
	// instead of failing with "database is locked" after 200 ms, which
	// leaves a record unanswered until pppoed sends it again.
	edit("mods-available/sql", `driver = "rlm_sql_null"`, `driver = "rlm_sql_${dialect}"`, `filename = "/tmp/freeradius.db"`, `filename = "`+r.db+`"`,
		"busy_timeout = 200", "busy_timeout = 10000")
	// radacct has a class column; the queries leave it out unless told.
	edit("mods-config/sql/main/sqlite/queries.conf", "column_name =\t# \", class\"", "column_name = \", class\"",
		"packet_xlat =\t# \", '%{Class}'\"", "packet_xlat = \", '%{Class}'\"")
	writeTestFile(t, filepath.Join(conf, "sites-enabled", "pppoed"), radiusSite)
	writeTestFile(t, filepath.Join(conf, "clients.conf"), "client lab {\n\tipaddr = 192.0.2.0/24\n\tsecret = "+radiusSecret+"\n}\n")
	writeTestFile(t, filepath.Join(conf, "mods-config", "files", "authorize"), users)
	schema, err := os.ReadFile(filepath.Join(conf, "mods-config", "sql", "main", "sqlite", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sqlite3", r.db)
	cmd.Stdin = strings.NewReader(string(schema))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 schema: %v\n%s", err, out)
	}
	r.start(fr)
	return r
}

// radiusNet makes the RADIUS namespace, 192.0.2.10 on a bridge, and joins
// each server namespace given to it (the first as 192.0.2.1, ...). It
// returns the namespace's name.
func (l *lab) radiusNet(srvNS ...string) string {
	l.t.Helper()
	ns := "pppoed-" + l.id + "-r"
	l.t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	l.ip("netns", "add", ns)
	l.ip("-n", ns, "link", "set", "lo", "up")
	l.ip("-n", ns, "link", "add", "br0", "type", "bridge")
	l.ip("-n", ns, "addr", "add", "192.0.2.10/24", "dev", "br0")
	l.ip("-n", ns, "link", "set", "br0", "up")
	for i, s := range srvNS {
		a, b := fmt.Sprintf("pd%sr%d", l.id, i), fmt.Sprintf("pd%sq%d", l.id, i)
		l.ip("link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", s)
		l.ip("-n", ns, "link", "set", a, "master", "br0", "up")
		l.ip("-n", s, "addr", "add", fmt.Sprintf("192.0.2.%d/24", i+1), "dev", b)
		l.ip("-n", s, "link", "set", b, "up")
	}
	return ns
}

func (r *freeRADIUS) start(fr string) {
	r.t.Helper()
	d := &daemon{t: r.t, log: &syncBuffer{}, done: make(chan struct{})}
	mode := []string{"-f", "-l", "stdout"}
	if r.debug {
		mode = []string{"-X"}
	}
	d.cmd = exec.Command("ip", append(append([]string{"netns", "exec", r.ns, fr}, mode...), "-d", filepath.Join(r.dir, "conf"))...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	r.d = d
	r.t.Cleanup(func() {
		r.kill()
		if r.t.Failed() {
			log := d.log.String()
			if len(log) > 20000 {
				log = "..." + log[len(log)-20000:]
			}
			r.t.Logf("FreeRADIUS log:\n%s", log)
		}
	})
	d.waitLog("Ready to process requests", 20*time.Second)
}

// kill stops FreeRADIUS, as a server that goes away.
func (r *freeRADIUS) kill() {
	select {
	case <-r.d.done:
		return
	default:
	}
	r.d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.d.done:
	case <-time.After(10 * time.Second):
		r.d.cmd.Process.Kill()
		<-r.d.done
	}
}

// restart starts FreeRADIUS again with the same configuration and
// database.
func (r *freeRADIUS) restart() {
	r.t.Helper()
	r.kill()
	r.start(requireTool(r.t, "freeradius"))
}

// query runs SQL on the accounting database and returns the rows, columns
// separated by |.
func (r *freeRADIUS) query(sql string) []string {
	r.t.Helper()
	// FreeRADIUS may hold the database a moment: wait for it.
	out, err := exec.Command("sqlite3", "-cmd", ".timeout 5000", "-separator", "|", r.db, sql).CombinedOutput()
	if err != nil {
		r.t.Fatalf("sqlite3 %q: %v\n%s", sql, err, out)
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// radclient runs FreeRADIUS's radclient in the RADIUS namespace with the
// attributes on stdin and returns its output.
func (r *freeRADIUS) radclient(attrs, to, kind, secret string, extra ...string) (string, error) {
	args := append([]string{"netns", "exec", r.ns, "radclient", "-x", "-r", "1", "-t", "2"}, extra...)
	args = append(args, to, kind, secret)
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(attrs)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// radiusTOML is a pppoed configuration for the RADIUS lab: the servers
// given (address:secret), the spool in dir, and extra lines.
func radiusTOML(t *testing.T, dir string, servers []string, extra string) string {
	return radiusTOMLTimeout(t, dir, servers, extra, "1s", 1)
}

func radiusTOMLTimeout(t *testing.T, dir string, servers []string, extra, timeout string, retries int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[radius]\nnas_identifier = \"pppoed-test\"\nacct_spool = %q\n", filepath.Join(dir, "acct.spool"))
	b.WriteString(extra)
	for _, s := range servers {
		a, sec, _ := strings.Cut(s, ":")
		fmt.Fprintf(&b, "\n[[radius.server]]\naddress = %q\nsecret = %q\ntimeout = %q\nretries = %d\n", a, sec, timeout, retries)
	}
	p := filepath.Join(dir, "pppoed.toml")
	writeTestFile(t, p, b.String())
	return p
}
