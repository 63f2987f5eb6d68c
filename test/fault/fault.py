#!/usr/bin/env python3
"""Fault injection on real processes, and a checker of SPEC section 4.

Starts a three-node cluster on 127.0.0.1 (three acceptors, proposers 1
and 2, learners 1 and 2) in a temporary directory, drives it with
concurrent paxos-submit -n clients, and meanwhile kills (-9), stops
(SIGSTOP), terminates and restarts its daemons, never more than one
acceptor or one proposer at a time.  At the end it lets every client
finish, waits until both learners have written every acknowledged
position, kills every process at once and has a fresh learner write the
log again, then checks the recorded history:

  agreement    the learners never hold two values at one position
  validity     every value written was submitted
  integrity    no value is written at two positions
  ack          every value paxos-submit -n reported is at its position
  order        one run's values in input order; each learner's output
               in increasing positions, rewriting after kill -9 only
               the lines after its saved position, and identically
  real-time    a value reported before another was submitted is before it
  durability   after kill -9 of everything, the same log, and new
               values after it
  exit         daemons end only when told, with 0 after SIGTERM

Values of a paxos-submit run that gave up (exit 75) and were never
reported may or may not be written, at most once and in order.
events.log holds every fault and daemon log line with a time stamp.

Exit 0 when every check passes (the directory is removed), 1 when one
fails (the directory is kept and named), 77 when --netns-loss cannot
run.  Python 3 standard library only.
"""

import argparse
import bisect
import heapq
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types

EX_SKIP = 77
SUBMIT_TIMEOUT_MS = 30000
MAX_SHOWN = 10          # violations printed


def now():
    return time.monotonic()


class Abort(Exception):
    pass


# ---------------------------------------------------------------- set-up

def free_base(rng):
    """A base port B such that the ports of three nodes are free, outside
    the ephemeral range: a daemon that is down must find its port free
    again when it restarts, not taken by some client's socket."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = map(int, f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    bases = [b for b in range(10000, 65500, 10)
             if b + 30 < lo or b > hi]
    if not bases:
        bases = list(range(20000, 60000, 10))
    for _ in range(500):
        b = rng.choice(bases)
        ok = True
        for n in range(3):
            for k in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.bind(("127.0.0.1", b + 10 * n + k))
                except OSError:
                    ok = False
                finally:
                    s.close()
        if ok:
            return b
    raise Abort("no free ports")


def write_conf(path, base, data_dir, persist="yes"):
    roles = {1: "acceptor proposer learner", 2: "acceptor proposer learner",
             3: "acceptor learner"}
    with open(path, "w") as f:
        f.write("[cluster]\nsecret_file = paxos.key\n"
                "timeout = 100\nlearning_interval = 100\n"
                "data_dir = %s\npersist = %s\n" % (data_dir, persist))
        for n in (1, 2, 3):
            f.write("\n[node %d]\nhost = 127.0.0.1\nport = %d\nroles = %s\n"
                    % (n, base + 10 * (n - 1), roles[n]))


# ------------------------------------------------------------- processes

class Daemon:
    """One daemon (acceptor, proposer or learner) and its incarnations."""

    def __init__(self, h, kind, ident):
        self.h = h
        self.kind = kind
        self.id = ident
        self.name = "%s-%d" % (kind, ident)
        self.log = os.path.join(h.dir, self.name + ".log")
        self.out = (os.path.join(h.dir, self.name + ".out")
                    if kind == "learner" else None)
        self.proc = None
        self.state = "down"         # up, stopped, down
        self.log_offset = 0         # where this incarnation's stderr starts
        # learners: (offset in .out, how the previous one ended, saved pos)
        self.segments = []
        self.last_end = None

    def argv(self):
        b = self.h.bindir
        if self.kind == "learner":
            return [os.path.join(b, "paxos-learner"), "-n", "-c",
                    self.h.conf, "-i", str(self.id)]
        return [os.path.join(b, "paxos-" + self.kind), "-c", self.h.conf,
                "-i", str(self.id)]

    def saved_position(self):
        path = os.path.join(self.h.dir, "data", "learner-%d.pos" % self.id)
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("position "):
                        return int(line.split()[1])
        except FileNotFoundError:
            return 0
        raise Abort("%s: no position line" % path)

    def start(self):
        assert self.state == "down"
        before = ready_count(self.log)
        self.log_offset = file_size(self.log)
        err = open(self.log, "ab")
        out = subprocess.DEVNULL
        if self.out is not None:
            self.segments.append((file_size(self.out), self.last_end,
                                  self.saved_position()))
            out = open(self.out, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err,
                                         start_new_session=True)
        finally:
            err.close()
            if out is not subprocess.DEVNULL:
                out.close()
        self.h.pgids.add(self.proc.pid)
        self.h.event("start %s pid %d" % (self.name, self.proc.pid))
        self.state = "up"
        deadline = now() + 10
        while ready_count(self.log) <= before:
            if self.proc.poll() is not None:
                raise Abort("%s exited (%s) before it was ready; see %s" %
                            (self.name, self.proc.returncode, self.log))
            if now() > deadline:
                raise Abort("%s not ready within 10 s; see %s" %
                            (self.name, self.log))
            time.sleep(0.01)

    def signal(self, sig):
        """Signal the process group, only while it is ours and not reaped."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        os.killpg(self.proc.pid, sig)
        return True

    def kill9(self):
        self.h.event("kill -9 %s" % self.name)
        self.signal(signal.SIGKILL)       # ends a stopped process too
        self.proc.wait()
        self.h.pgids.discard(self.proc.pid)
        self.state = "down"
        self.last_end = "kill"

    def term(self, limit=10):
        """SIGTERM, and the exit status SPEC 3 promises: 0."""
        self.h.event("SIGTERM %s" % self.name)
        if self.state == "stopped":
            self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        self.last_end = "term"
        try:
            rc = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.h.violation("exit", "%s did not exit within %d s of SIGTERM"
                             % (self.name, limit))
            self.signal(signal.SIGKILL)
            rc = self.proc.wait()
            self.last_end = "kill"
        if rc != 0:
            self.h.violation("exit", "%s exited %s after SIGTERM, not 0; "
                             "see %s" % (self.name, rc, self.log))
        self.h.pgids.discard(self.proc.pid)
        self.state = "down"

    def stop(self):
        self.h.event("SIGSTOP %s" % self.name)
        self.signal(signal.SIGSTOP)
        self.state = "stopped"

    def cont(self):
        self.h.event("SIGCONT %s" % self.name)
        self.signal(signal.SIGCONT)
        if self.state == "stopped":
            self.state = "up"

    def leading(self):
        """(round) when its latest state line says it leads, else None."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        last = None
        for m in re.finditer(r"leading ballot=(\d+)\.\d+|standing by", text):
            last = int(m.group(1)) if m.group(1) else None
        return last


def file_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def ready_count(path):
    try:
        with open(path, "rb") as f:
            return len(re.findall(rb"\bready\b", f.read()))
    except FileNotFoundError:
        return 0


# --------------------------------------------------------------- clients

class Value:
    __slots__ = ("value", "client", "run", "idx", "sub_t", "ack_t", "pos",
                 "status")

    def __init__(self, value, client, run, idx, sub_t):
        self.value = value
        self.client = client
        self.run = run
        self.idx = idx
        self.sub_t = sub_t
        self.ack_t = None
        self.pos = None
        self.status = "pending"     # acked, maybe


class Run:
    def __init__(self, client, run, window):
        self.client = client
        self.run = run
        self.window = window
        self.values = []
        self.rc = None
        self.end_t = None
        self.proc = None


class Client(threading.Thread):
    def __init__(self, h, k, seed):
        super().__init__(name="client-%d" % k, daemon=True)
        self.h = h
        self.k = k
        self.rng = random.Random(seed)
        self.log = os.path.join(h.dir, "client-%d.log" % k)
        self.runs = []

    def value(self, r, s):
        v = "c%d-%d-%d" % (self.k, r, s)
        x = self.rng.random()
        if x < 0.05:    # tabs, backslashes and non-UTF-8 bytes travel too
            v += " \t\\ \xe9" + "x" * self.rng.randint(1, 3000)
        elif x < 0.3:
            v += " " + "y" * self.rng.randint(1, 100)
        return v.encode("latin-1")

    def run(self):
        r = 0
        try:
            while not self.h.stop_clients.is_set():
                r += 1
                self.one_run(r)
        except Exception as e:      # reported, never silent
            self.h.violation("harness", "client %d: %r" % (self.k, e))

    def one_run(self, r):
        h = self.h
        run = Run(self.k, r, self.rng.randint(1, 16))
        n = self.rng.randint(10, 200)
        with open(self.log, "ab") as f:
            f.write(b"== run %d: -w %d, %d values\n" % (r, run.window, n))
        err = open(self.log, "ab")
        try:
            run.proc = subprocess.Popen(
                [os.path.join(h.bindir, "paxos-submit"), "-n", "-w",
                 str(run.window), "-t", str(SUBMIT_TIMEOUT_MS), "-c", h.conf],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                start_new_session=True)
        finally:
            err.close()
        with h.lock:
            h.pgids.add(run.proc.pid)
            self.runs.append(run)
        h.event("client %d run %d: paxos-submit pid %d -w %d, %d values" %
                (self.k, r, run.proc.pid, run.window, n))
        reader = threading.Thread(target=self.read_acks, args=(run,),
                                  daemon=True)
        reader.start()
        seq = 0
        while seq < n and not h.stop_clients.is_set():
            b = min(self.rng.randint(1, 8), n - seq)
            vals = [self.value(r, seq + i + 1) for i in range(b)]
            t = now()
            with h.lock:
                for i, v in enumerate(vals):
                    rec = Value(v, self.k, r, seq + i, t)
                    run.values.append(rec)
                    h.values[v] = rec
            seq += b
            try:
                run.proc.stdin.write(b"".join(v + b"\n" for v in vals))
                run.proc.stdin.flush()
            except BrokenPipeError:
                break
            time.sleep(self.rng.uniform(0, 0.03))
        try:
            run.proc.stdin.close()
        except BrokenPipeError:
            pass
        while True:
            try:
                run.rc = run.proc.wait(timeout=0.2)
                run.end_t = now()
                break
            except subprocess.TimeoutExpired:
                if h.hard_deadline is not None and now() > h.hard_deadline:
                    h.violation("liveness", "client %d run %d: paxos-submit "
                                "still running at the final deadline" %
                                (self.k, r))
                    os.killpg(run.proc.pid, signal.SIGKILL)
        with h.lock:
            h.pgids.discard(run.proc.pid)
        reader.join()
        h.event("client %d run %d: exit %s" % (self.k, r, run.rc))
        acked = 0
        with h.lock:
            for v in run.values:
                if v.ack_t is not None:
                    v.status = "acked"
                    acked += 1
                else:
                    v.status = "maybe"
        if run.rc == 0 and acked != len(run.values):
            h.violation("exit", "client %d run %d: paxos-submit exited 0 "
                        "with %d of %d values reported" %
                        (self.k, r, acked, len(run.values)))
        elif run.rc not in (0, 75, -signal.SIGKILL):
            h.violation("exit", "client %d run %d: paxos-submit exited %s; "
                        "see %s" % (self.k, r, run.rc, self.log))
        if run.rc == 75:
            h.note("client %d run %d: paxos-submit exited 75 after %d of %d "
                   "values" % (self.k, r, acked, len(run.values)))

    def read_acks(self, run):
        i = 0
        for line in run.proc.stdout:
            t = now()
            with self.h.lock:
                if i >= len(run.values):
                    self.h.violation("ack", "client %d run %d: paxos-submit "
                                     "reported more positions than values "
                                     "(%r)" % (self.k, run.run, line))
                    continue
                try:
                    pos = int(line)
                    if pos < 1:
                        raise ValueError
                except ValueError:
                    self.h.violation("ack", "client %d run %d: bad position "
                                     "line %r" % (self.k, run.run, line))
                    pos = None
                v = run.values[i]
                v.pos = pos
                v.ack_t = t
            i += 1


# ----------------------------------------------------------------- harness

class Harness:
    def __init__(self, args):
        self.args = args
        self.bindir = os.path.abspath(args.bindir)
        self.rng = random.Random(args.seed)
        self.dir = tempfile.mkdtemp(prefix="paxos-fault.")
        self.conf = os.path.join(self.dir, "paxos.conf")
        self.lock = threading.RLock()
        self.pgids = set()
        self.values = {}
        self.violations = []
        self.notes = []
        self.faults = {}
        self.stop_clients = threading.Event()
        self.hard_deadline = None
        self.daemons = {}
        self.clients = []
        self.events = []        # heap of (time, n, what, daemon)
        self.nevents = 0
        self.first_kinds = ["acceptor-kill", "proposer-kill", "learner-kill",
                            "learner-term", "sigstop"]
        self.rng.shuffle(self.first_kinds)
        self.rewritten = 0
        self.durability = None
        self.learner_logs = {}
        self.t0 = now()
        self.watch_stop = threading.Event()
        self.events_log = open(os.path.join(self.dir, "events.log"), "w")

    def violation(self, prop, msg):
        with self.lock:
            self.violations.append((prop, msg))

    def note(self, msg):
        with self.lock:
            self.notes.append(msg)

    def event(self, msg):
        """One line of events.log: seconds since the start, what happened."""
        with self.lock:
            self.events_log.write("%9.3f %s\n" % (now() - self.t0, msg))
            self.events_log.flush()

    def count(self, kind):
        self.faults[kind] = self.faults.get(kind, 0) + 1

    # --- cluster

    def setup(self):
        # Run copies, so that a rebuild during the run cannot change the
        # programs a restart starts.
        bindir = os.path.join(self.dir, "bin")
        os.mkdir(bindir)
        for p in ("paxos-acceptor", "paxos-proposer", "paxos-learner",
                  "paxos-submit", "paxos-keygen"):
            src = os.path.join(self.bindir, p)
            if not os.access(src, os.X_OK):
                raise Abort("%s missing; run make" % src)
            shutil.copy2(src, bindir)
        if self.args.status and os.access(os.path.join(
                self.bindir, "paxos-status"), os.X_OK):
            shutil.copy2(os.path.join(self.bindir, "paxos-status"), bindir)
        self.bindir = bindir
        key = os.path.join(self.dir, "paxos.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            subprocess.run([os.path.join(self.bindir, "paxos-keygen")],
                           stdout=f, check=True)
        self.base = free_base(self.rng)
        write_conf(self.conf, self.base, "data", self.args.persist)
        for kind, ids in (("acceptor", (1, 2, 3)), ("proposer", (1, 2)),
                          ("learner", (1, 2))):
            for i in ids:
                self.daemons[(kind, i)] = Daemon(self, kind, i)
        for kind in ("acceptor", "proposer", "learner"):
            for d in self.of(kind):
                d.start()

    def of(self, kind):
        return [d for (k, _), d in sorted(self.daemons.items()) if k == kind]

    def watch(self):
        """Copy new daemon log lines into events.log with a time stamp,
        and note clients that have waited long for a report."""
        offsets = {}
        stalled = set()
        status = os.path.join(self.bindir, "paxos-status")
        next_status = 0
        while not self.watch_stop.is_set():
            if self.args.status and now() >= next_status and \
                    os.access(status, os.X_OK):
                next_status = now() + self.args.status
                self.log_status(status)
            for d in list(self.daemons.values()):
                off = offsets.get(d.log, 0)
                try:
                    with open(d.log, "rb") as f:
                        f.seek(off)
                        data = f.read()
                except FileNotFoundError:
                    continue
                end = data.rfind(b"\n") + 1
                for line in data[:end].splitlines():
                    self.event("log %s" % line.decode("utf-8", "replace"))
                offsets[d.log] = off + end
            t = now()
            for c in self.clients:
                with self.lock:
                    run = c.runs[-1] if c.runs else None
                    if run is None or run.rc is not None:
                        continue
                    waiting = [v for v in run.values if v.ack_t is None]
                    last = max([v.ack_t for v in run.values
                                if v.ack_t is not None] + [0])
                if waiting and t - max(last, waiting[0].sub_t) > 2:
                    if (c.k, run.run) not in stalled:
                        stalled.add((c.k, run.run))
                        self.event("client %d run %d: nothing reported for "
                                   "2 s, %d values waiting" %
                                   (c.k, run.run, len(waiting)))
                elif (c.k, run.run) in stalled:
                    stalled.discard((c.k, run.run))
                    self.event("client %d run %d: reports again" %
                               (c.k, run.run))
            time.sleep(0.05)

    def log_status(self, status):
        """--status: what paxos-status says of the proposers, in
        events.log (written: the position its copy of the log reached)."""
        try:
            r = subprocess.run([status, "--json", "-c", self.conf],
                               capture_output=True, timeout=5)
            rows = json.loads(r.stdout)
        except (subprocess.TimeoutExpired, ValueError) as e:
            self.event("status: %r" % e)
            return
        self.event("status " + "; ".join(
            "%s %s %s%s" % (x.get("role"), x.get("node"), x.get("state"),
                            "".join(" %s=%s" % (k, x[k]) for k in
                                    ("ballot", "commit", "written") if k in x))
            for x in rows if x.get("role") != "learner"))

    def schedule(self, delay, what, d):
        self.nevents += 1
        heapq.heappush(self.events, (now() + delay, self.nevents, what, d))

    def run_event(self, what, d):
        if what == "start":
            d.start()
        elif what == "cont":
            d.cont()

    def check_exits(self):
        """A daemon that ends on its own is a failure; bring it back."""
        for d in self.daemons.values():
            if d.state == "down" or d.proc.poll() is None:
                continue
            self.violation("exit", "%s exited on its own with status %s; see "
                           "%s" % (d.name, d.proc.returncode, d.log))
            self.pgids.discard(d.proc.pid)
            d.state = "down"
            d.last_end = "kill"
            d.start()

    # --- faults

    def unavailable(self, kind):
        return [d for d in self.of(kind) if d.state != "up"]

    def inject(self):
        rng = self.rng
        acc_ok = not self.unavailable("acceptor")
        prop_ok = not self.unavailable("proposer")
        learners = [d for d in self.of("learner") if d.state == "up"]
        choices = []
        if acc_ok:
            choices += ["acceptor-kill"] * 3
        if prop_ok:
            choices += ["proposer-kill"] * 2
        if learners:
            choices += ["learner-kill", "learner-term"]
        stoppable = [d for d in self.daemons.values() if d.state == "up" and
                     (d.kind == "learner" or
                      (d.kind == "acceptor" and acc_ok) or
                      (d.kind == "proposer" and prop_ok))]
        if stoppable:
            choices += ["sigstop"] * 2
        if not choices:
            return
        # every kind early on, so that even a short run has each
        first = [k for k in self.first_kinds if k in choices]
        kind = first[0] if first else rng.choice(choices)
        if kind in self.first_kinds:
            self.first_kinds.remove(kind)
        if kind == "acceptor-kill":
            d = rng.choice(self.of("acceptor"))
            d.kill9()
            self.schedule(rng.uniform(0.1, 1.5), "start", d)
        elif kind == "proposer-kill":
            props = self.of("proposer")
            lead = [(p.leading(), i) for i, p in enumerate(props)
                    if p.leading() is not None]
            d = props[max(lead)[1]] if lead else rng.choice(props)
            if not lead:
                kind = "proposer-kill-noleader"
            d.kill9()
            self.schedule(rng.uniform(0.1, 1.5), "start", d)
        elif kind in ("learner-kill", "learner-term"):
            d = rng.choice(sorted(learners, key=lambda x: x.id))
            if kind == "learner-kill":
                d.kill9()
            else:
                d.term()
            self.schedule(rng.uniform(0, 1.0), "start", d)
        else:
            d = rng.choice(sorted(stoppable, key=lambda x: x.name))
            d.stop()
            self.schedule(rng.uniform(0.5, 2.0), "cont", d)
            kind = "sigstop-" + d.kind
        self.count(kind)

    def fault_loop(self, seconds):
        end = now() + seconds
        next_fault = now() + self.rng.uniform(0.3, 1.0)
        while now() < end:
            while self.events and self.events[0][0] <= now():
                _, _, what, d = heapq.heappop(self.events)
                self.run_event(what, d)
            self.check_exits()
            if now() >= next_fault:
                self.inject()
                next_fault = now() + self.rng.uniform(0.3, 1.2)
            time.sleep(0.01)
        # Stop faults: bring everything back now.
        while self.events:
            _, _, what, d = heapq.heappop(self.events)
            self.run_event(what, d)
        self.check_exits()

    # --- the end

    def finish_clients(self, limit):
        self.stop_clients.set()
        self.hard_deadline = now() + limit
        for c in self.clients:
            while c.is_alive():
                c.join(0.2)
                self.check_exits()

    def wait_learners(self, limit):
        """Wait until both learners wrote every acknowledged position."""
        want = {v.pos for v in self.values.values()
                if v.status == "acked" and v.pos is not None}
        deadline = now() + limit
        while True:
            self.check_exits()
            missing = {}
            for d in self.of("learner"):
                have = set()
                with open(d.out, "rb") as f:
                    for line in f.read().split(b"\n")[:-1]:   # whole lines
                        p = line.split(b"\t", 1)[0]
                        if p.isdigit():
                            have.add(int(p))
                m = want - have
                if m:
                    missing[d.name] = m
            if not missing:
                return
            if now() > deadline:
                for name, m in missing.items():
                    self.violation("liveness", "%s has not written %d "
                                   "acknowledged positions within %d s, "
                                   "e.g. %s" % (name, len(m), limit,
                                                sorted(m)[:5]))
                return
            time.sleep(0.2)

    def durability_phase(self):
        """SPEC 4.5: kill -9 everything at once, restart, learn again."""
        self.event("kill -9 every daemon")
        for d in self.daemons.values():
            d.signal(signal.SIGKILL)
        for d in self.daemons.values():
            if d.proc is not None:
                d.proc.wait()
                self.pgids.discard(d.proc.pid)
            d.state = "down"
            d.last_end = "kill"
        self.count("kill-all")
        for d in self.of("acceptor"):
            d.start()
        prop = self.rng.choice(self.of("proposer"))
        prop.start()
        l1 = learner_log(self, self.daemons[("learner", 1)])
        n = len(l1.entries)
        dconf = os.path.join(self.dir, "durability.conf")
        write_conf(dconf, self.base, "data-durability")
        out = os.path.join(self.dir, "learner-3-durability.out")
        log = os.path.join(self.dir, "learner-3-durability.log")
        with open(out, "wb") as fo, open(log, "ab") as fe:
            proc = subprocess.Popen(
                [os.path.join(self.bindir, "paxos-learner"), "-n", "-c", dconf,
                 "-i", "3", "--from", "1", "--count", str(n)],
                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                start_new_session=True)
        self.pgids.add(proc.pid)
        limit = max(60, n // 2000)
        try:
            rc = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
            self.violation("durability", "fresh learner 3 did not write %d "
                           "values within %d s; see %s" % (n, limit, log))
        self.pgids.discard(proc.pid)
        if rc not in (0, -signal.SIGKILL):
            self.violation("durability", "fresh learner 3 exited %s; see %s"
                           % (rc, log))
        got = []
        with open(out, "rb") as f:
            for line in f:
                p, _, v = line.rstrip(b"\n").partition(b"\t")
                got.append((int(p) if p.isdigit() else p, v))
        want = [(e[0], e[1]) for e in l1.entries]
        if got != want:
            first = next((i for i in range(min(len(got), len(want)))
                          if got[i] != want[i]), min(len(got), len(want)))
            self.violation("durability", "after kill -9 of every process, "
                           "fresh learner 3 wrote %d lines, learner 1 %d; "
                           "first difference at line %d: %r vs %r" %
                           (len(got), len(want), first + 1,
                            got[first] if first < len(got) else None,
                            want[first] if first < len(want) else None))
        self.durability = (n, len(got), prop.name)
        self.after_restart(dconf, l1.entries[-1][0] if l1.entries else 0)
        for d in self.daemons.values():
            if d.state != "down":
                d.term()

    def after_restart(self, dconf, top):
        """The restarted cluster goes on, after what was written before."""
        val = b"after-restart-%d" % self.args.seed
        r = subprocess.run([os.path.join(self.bindir, "paxos-submit"), "-n",
                            "-t", str(SUBMIT_TIMEOUT_MS), "-c", self.conf],
                           input=val + b"\n", capture_output=True,
                           timeout=SUBMIT_TIMEOUT_MS / 1000 + 10)
        pos = r.stdout.strip()
        if r.returncode != 0 or not pos.isdigit():
            self.violation("durability", "after the restart, paxos-submit "
                           "exited %d (%r)" % (r.returncode, r.stderr))
            return
        if int(pos) <= top:
            self.violation("durability", "after the restart, a new value got "
                           "position %s, at or below %d that learner 1 had "
                           "written" % (pos.decode(), top))
        r = subprocess.run([os.path.join(self.bindir, "paxos-learner"), "-n",
                            "-c", dconf, "-i", "3", "--from", pos.decode(),
                            "--count", "1"], capture_output=True, timeout=60)
        if r.stdout != pos + b"\t" + val + b"\n":
            self.violation("durability", "after the restart, %r reported at "
                           "%s, learner 3 wrote %r" % (val, pos.decode(),
                                                        r.stdout[:80]))

    def stop_all(self):
        for d in self.daemons.values():
            if d.state != "down":
                d.term()

    def kill_everything(self):
        """Last resort on any exit path: SIGKILL every group we started."""
        with self.lock:
            groups = list(self.pgids)
            self.pgids.clear()
        for g in groups:
            try:
                os.killpg(g, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for d in self.daemons.values():
            if d.proc is not None:
                try:
                    d.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass


# ---------------------------------------------------------------- checker

class LearnerLog:
    """A learner's output file, merged over its incarnations."""

    def __init__(self, name):
        self.name = name
        self.entries = []       # (pos, value), strictly increasing pos
        self.map = {}


def learner_log(h, d):
    """Parse once, after the learner's last incarnation has ended."""
    if d.name not in h.learner_logs:
        h.learner_logs[d.name] = parse_learner(h, d)
    return h.learner_logs[d.name]


def parse_learner(h, d):
    with open(d.out, "rb") as f:
        data = f.read()
    ll = LearnerLog(d.name)
    bounds = [s[0] for s in d.segments[1:]] + [len(data)]
    own_last = 0
    for i, (off, after, saved) in enumerate(d.segments):
        seg = data[off:bounds[i]]
        ended = d.segments[i + 1][1] if i + 1 < len(d.segments) \
            else d.last_end
        lines = seg.split(b"\n")
        if lines[-1]:
            if ended != "kill":
                h.violation("order", "%s incarnation %d ended by %s with a "
                            "partial line %r" % (d.name, i + 1, ended,
                                                 lines[-1][:60]))
        lines = lines[:-1]
        own_last = merge(h, ll, i + 1, after, saved, own_last, lines)
    return ll


def merge(h, ll, inc, after, saved, own_last, lines):
    """Append one incarnation's lines to ll, checking SPEC 3's rules.
    A learner resumes after its saved position, and rewrites, identical
    and in order, every line it had written after it: the lines written
    after the last save before a kill -9.  Nothing at or below the saved
    position is written again, and, after SIGTERM, nothing the stopped
    incarnation had written (own_last: the last position it wrote; what
    an earlier kill -9 left to rewrite may still come).  Returns this
    incarnation's own_last."""
    name = ll.name
    floor = saved
    if after == "term" and own_last > floor:
        floor = own_last
    k = bisect.bisect_right([e[0] for e in ll.entries], floor)
    expect = ll.entries[k:]
    j = 0
    prev = floor
    mine = 0
    for line in lines:
        p, tab, v = line.partition(b"\t")
        if not tab or not p.isdigit() or int(p) < 1:
            h.violation("order", "%s incarnation %d: malformed line %r" %
                        (name, inc, line[:60]))
            continue
        pos = int(p)
        if pos <= prev:
            if mine:
                what = "position %d after %d" % (pos, prev)
            elif after == "term" and pos <= own_last:
                what = ("after SIGTERM, wrote again position %d (the "
                        "stopped learner had written up to %d)" %
                        (pos, own_last))
            else:
                what = ("wrote again position %d, at or below its saved "
                        "position %d" % (pos, saved))
            h.violation("order", "%s incarnation %d: %s" % (name, inc, what))
            continue
        prev = mine = pos
        if j < len(expect):
            while j < len(expect) and expect[j][0] < pos:
                h.violation("order", "%s incarnation %d: resuming after %d, "
                            "skipped position %d it had written before" %
                            (name, inc, floor, expect[j][0]))
                j += 1
            if j < len(expect) and expect[j][0] == pos:
                if expect[j][1] != v:
                    h.violation("agreement", "%s incarnation %d rewrote "
                                "position %d as %r, had %r" %
                                (name, inc, pos, v[:60], expect[j][1][:60]))
                h.rewritten += 1
                j += 1
                continue
            if j < len(expect):
                h.violation("order", "%s incarnation %d: resuming after %d, "
                            "wrote position %d it had skipped before" %
                            (name, inc, floor, pos))
                continue
        ll.entries.append((pos, v))
        ll.map[pos] = v
    return mine


def check(h):
    logs = [learner_log(h, d) for d in h.of("learner")]
    values = h.values
    # (1) agreement
    a, b = logs
    for pos in sorted(set(a.map) & set(b.map)):
        if a.map[pos] != b.map[pos]:
            h.violation("agreement", "position %d: %s wrote %r, %s wrote %r"
                        % (pos, a.name, a.map[pos][:60], b.name,
                           b.map[pos][:60]))
    # every learner writes every position another wrote before its last
    for x, y in ((a, b), (b, a)):
        top = x.entries[-1][0] if x.entries else 0
        for pos in sorted(set(y.map) - set(x.map)):
            if pos < top:
                h.violation("order", "%s skipped position %d (%r, written "
                            "by %s)" % (x.name, pos, y.map[pos][:60], y.name))
    union = {}
    for ll in logs:
        for pos, v in ll.entries:
            union.setdefault(pos, v)
    # (2) validity, (3) integrity
    where = {}
    for ll in logs:
        seen = {}
        for pos, v in ll.entries:
            if v not in values:
                h.violation("validity", "%s wrote %r at %d, never submitted"
                            % (ll.name, v[:60], pos))
            if v in seen:
                h.violation("integrity", "%s wrote %r at %d and %d" %
                            (ll.name, v[:60], seen[v], pos))
            seen[v] = pos
            where.setdefault(v, set()).add(pos)
    for v, ps in where.items():
        if len(ps) > 1:
            h.violation("integrity", "%r written at positions %s" %
                        (v[:60], sorted(ps)))
    pos_of = {v: min(ps) for v, ps in where.items()}
    # (4) acknowledged values are where paxos-submit said
    for v in values.values():
        if v.status != "acked" or v.pos is None:
            continue
        for ll in logs:
            got = ll.map.get(v.pos)
            if got != v.value:
                h.violation("ack", "%r acknowledged at %d; %s has %r there%s"
                            % (v.value[:60], v.pos, ll.name,
                               got[:60] if got is not None else None,
                               " and it at %s" % sorted(where[v.value])
                               if v.value in where else ""))
    # (5) per-run order (and, as a note, no holes in a run)
    for c in h.clients:
        for run in c.runs:
            prev, holes = None, False
            for v in run.values:
                p = pos_of.get(v.value)
                if p is None:
                    holes = True
                    continue
                if holes:
                    h.note("client %d run %d: %r written although an earlier "
                           "value of the run was not" %
                           (run.client, run.run, v.value[:40]))
                    holes = False
                if prev is not None and p <= prev[1]:
                    h.violation("order", "client %d run %d: %r (input %d) at "
                                "%d, after %r (input %d) at %d" %
                                (run.client, run.run, v.value[:40], v.idx + 1,
                                 p, prev[0].value[:40], prev[0].idx + 1,
                                 prev[1]))
                prev = (v, p)
    # (6) real-time order
    acked = sorted((v for v in values.values() if v.status == "acked" and
                    v.value in pos_of), key=lambda v: v.ack_t)
    times = [v.ack_t for v in acked]
    best = []       # prefix maximum of positions, with its value
    for v in acked:
        p = pos_of[v.value]
        best.append((p, v) if not best or p > best[-1][0] else best[-1])
    for v in values.values():
        p = pos_of.get(v.value)
        if p is None:
            continue
        k = bisect.bisect_left(times, v.sub_t)
        if k and best[k - 1][0] >= p and best[k - 1][1] is not v:
            a = best[k - 1][1]
            h.violation("real-time", "%r was reported committed at %d %.3f s "
                        "before %r was submitted, which is at %d" %
                        (a.value[:40], best[k - 1][0], v.sub_t - a.ack_t,
                         v.value[:40], p))
    return logs


# -------------------------------------------------------------- self-test

class Fake:
    """A made-up history for the checker: learner files and values."""

    def __init__(self, tmp, learners, runs):
        self.violations, self.notes = [], []
        self.rewritten = 0
        self.learner_logs = {}
        self.values = {}
        self.daemons = {}
        for i, segs in enumerate(learners, 1):
            d = types.SimpleNamespace(name="learner-%d" % i, segments=[],
                                      last_end="term",
                                      out=os.path.join(tmp, "l%d.out" % i))
            data = b""
            for after, saved, text in segs:
                d.segments.append((len(data), after, saved))
                data += text
            with open(d.out, "wb") as f:
                f.write(data)
            self.daemons[("learner", i)] = d
        c = types.SimpleNamespace(k=1, runs=[])
        for r, vals in enumerate(runs, 1):
            run = Run(1, r, 1)
            for i, (v, sub, ack, pos) in enumerate(vals):
                rec = Value(v, 1, r, i, sub)
                rec.ack_t, rec.pos = ack, pos
                rec.status = "acked" if ack is not None else "maybe"
                run.values.append(rec)
                self.values[v] = rec
            c.runs.append(run)
        self.clients = [c]

    violation = Harness.violation
    note = Harness.note
    of = Harness.of
    lock = threading.RLock()


def self_test():
    """The checker must pass good histories and catch bad ones."""
    abc = [[(b"a", 0, 1, 1), (b"b", 0, 2, 2), (b"c", 3, 4, 3)]]
    log = b"1\ta\n2\tb\n3\tc\n"
    cases = [
        ("good", [[(None, 0, log)], [(None, 0, log)]], abc, None),
        ("two learners differ", [[(None, 0, log)],
                                 [(None, 0, log.replace(b"c", b"x"))]],
         abc, "agreement"),
        ("never submitted", [[(None, 0, log + b"4\tz\n")],
                             [(None, 0, log)]], abc, "validity"),
        ("written twice", [[(None, 0, log + b"4\ta\n")], [(None, 0, log)]],
         abc, "integrity"),
        ("not where reported", [[(None, 0, b"1\ta\n2\tc\n3\tb\n")]] * 2,
         [[(b"a", 0, 1, 1), (b"b", 0, 2, 2), (b"c", 0, 2, 3)]], "ack"),
        ("run out of order", [[(None, 0, b"1\tb\n2\ta\n")]] * 2,
         [[(b"a", 0, None, None), (b"b", 0, None, None)]], "order"),
        ("real time", [[(None, 0, b"1\tb\n2\ta\n")]] * 2,
         [[(b"a", 0, 1, None)], [(b"b", 2, None, None)]], "real-time"),
        ("kill -9, rewrite", [[(None, 0, log), ("kill", 1, log[4:])],
                              [(None, 0, log)]], abc, None),
        ("kill -9, then SIGTERM before the rewrite",
         [[(None, 0, log), ("kill", 1, b""), ("term", 1, log[4:])],
          [(None, 0, log)]], abc, None),
        ("kill -9, rewrite below the saved position",
         [[(None, 0, log), ("kill", 2, log[4:])], [(None, 0, log)]],
         abc, "order"),
        ("kill -9, rewrite differs",
         [[(None, 0, log), ("kill", 1, b"2\tc\n3\tb\n")],
          [(None, 0, log)]], abc, "agreement"),
        ("SIGTERM, written again", [[(None, 0, log), ("term", 3, b"3\tc\n")],
                                    [(None, 0, log)]], abc, "order"),
        ("a learner skips", [[(None, 0, b"1\ta\n3\tc\n")],
                             [(None, 0, log)]], abc, "order"),
    ]
    tmp = tempfile.mkdtemp(prefix="paxos-fault-self.")
    bad = 0
    try:
        for name, learners, runs, want in cases:
            f = Fake(tmp, learners, runs)
            check(f)
            got = sorted({p for p, _ in f.violations})
            ok = (not got) if want is None else want in got
            print("%s %s: %s" % ("ok" if ok else "NOT OK", name,
                                 ", ".join(got) or "no violation"))
            bad += not ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("FAIL" if bad else "PASS")
    return 1 if bad else 0


# ------------------------------------------------------------------- main

def summary(h, logs, started):
    vs = list(h.values.values())
    acked = sum(v.status == "acked" for v in vs)
    maybe = [v for v in vs if v.status != "acked"]
    union = set()
    for ll in logs:
        union |= set(ll.map.values())
    runs = [r for c in h.clients for r in c.runs]
    print("values: %d submitted, %d acknowledged, %d maybe (%d of them "
          "written)" % (len(vs), acked, len(maybe),
                        sum(v.value in union for v in maybe)))
    print("runs: %d paxos-submit runs by %d clients, %d exited 75" %
          (len(runs), len(h.clients), sum(r.rc == 75 for r in runs)))
    print("faults: " + (", ".join("%s %d" % kv for kv in sorted(
        h.faults.items())) or "none"))
    print("learners: " + ", ".join("%s %d lines (%d incarnations)" % (
        ll.name, len(ll.entries), len(h.daemons[("learner", int(
            ll.name.split("-")[1]))].segments)) for ll in logs) +
        "; %d lines rewritten after kill -9" % h.rewritten)
    if h.durability:
        print("durability: fresh learner 3 wrote %d of %d lines after kill "
              "-9 of every process (restarted %s)" % (h.durability[1],
                                                       h.durability[0],
                                                       h.durability[2]))
    lat = sorted(v.ack_t - v.sub_t for v in vs if v.status == "acked")
    if lat:
        print("latency from submission to report: median %.3f s, 99%% %.3f "
              "s, max %.3f s; %d values over 5 s" % (
                  lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1],
                  sum(x > 5 for x in lat)))
    # a run that gave up counts as a report when it ends, so a stall
    # that lasted until the end shows
    acks = sorted([v.ack_t for v in vs if v.ack_t is not None] +
                  [r.end_t for r in runs if r.rc != 0 and r.end_t])
    if len(acks) > 1:
        gap, i = max((acks[i + 1] - acks[i], i) for i in range(len(acks) - 1))
        print("longest time without any report: %.2f s (from %.1f s to %.1f "
              "s of events.log)" % (gap, acks[i] - h.t0, acks[i + 1] - h.t0))
    stalled = [r for r in runs if r.rc == 75]
    if stalled:
        print("liveness warning: %d paxos-submit runs waited %d s for a "
              "commit and exited 75, with at most one acceptor and one "
              "proposer down at a time" % (len(stalled),
                                           SUBMIT_TIMEOUT_MS // 1000))
    print("duration: %.1f s, seed %d, dir %s" % (now() - started, h.args.seed,
                                                  h.dir))
    for n in h.notes[:MAX_SHOWN]:
        print("note: " + n)


def save_history(h):
    with open(os.path.join(h.dir, "history.json"), "w") as f:
        json.dump({
            "seed": h.args.seed,
            "faults": h.faults,
            "runs": [{"client": r.client, "run": r.run, "window": r.window,
                      "rc": r.rc,
                      "values": [[v.value.decode("latin-1"), v.sub_t, v.ack_t,
                                  v.pos, v.status] for v in r.values]}
                     for c in h.clients for r in c.runs],
            "learners": {d.name: d.segments + [d.last_end]
                         for d in h.of("learner")},
            "violations": h.violations,
        }, f)


def netns_reexec(args):
    """Run this script again inside a fresh network namespace whose
    loopback drops args.netns_loss percent of UDP datagrams."""
    if os.geteuid() != 0:
        return skip("--netns-loss needs root")
    for tool in ("nft", "ip"):
        if shutil.which(tool) is None:
            return skip("--netns-loss needs %s, which is not installed" % tool)
    ns = "paxos-fault-%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True)
    if r.returncode != 0:
        return skip("ip netns add failed: %s" % r.stderr.decode().strip())
    try:
        pct = int(args.netns_loss)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["nft", "add", "table", "inet", "t"],
                    ["nft", "add", "chain", "inet", "t", "c",
                     "{ type filter hook input priority 0; }"],
                    ["nft", "add", "rule", "inet", "t", "c", "meta", "l4proto",
                     "udp", "numgen", "random", "mod", "100", "<", str(pct),
                     "counter", "drop"]):
            r = subprocess.run(["ip", "netns", "exec", ns] + cmd,
                               capture_output=True)
            if r.returncode != 0:
                return skip("%s failed in the namespace: %s" %
                            (" ".join(cmd), r.stderr.decode().strip()))
        print("netns %s: dropping %d%% of UDP datagrams on lo" % (ns, pct),
              flush=True)
        env = dict(os.environ, PAXOS_FAULT_NETNS=ns)
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable,
                              os.path.abspath(__file__)] + sys.argv[1:] +
                             ["--seed", str(args.seed)],
                             env=env)
        try:
            rc = p.wait()
        except BaseException:
            p.send_signal(signal.SIGTERM)
            p.wait()
            raise
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "chain",
                            "inet", "t", "c"], capture_output=True, text=True)
        m = re.search(r"counter packets (\d+)", r.stdout)
        if m:
            print("netns %s: dropped %s UDP datagrams" % (ns, m.group(1)))
        return rc
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def skip(reason):
    print("skip: " + reason)
    return EX_SKIP


def on_signal(sig, frame):
    raise Abort("interrupted by signal %d" % sig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bindir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".."),
        help="where the programs are (default: the top directory)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--seconds", type=float, default=25,
                   help="how long to inject faults (default 25)")
    g.add_argument("--minutes", type=float, help="the same, in minutes")
    ap.add_argument("--clients", type=int, default=4,
                    help="concurrent paxos-submit clients (default 4)")
    ap.add_argument("--seed", type=int,
                    help="for every random choice (default: a random one)")
    ap.add_argument("--netns-loss", type=int, metavar="PCT",
                    help="run in a new network namespace whose loopback "
                    "drops PCT%% of UDP datagrams (root, ip, nft)")
    ap.add_argument("--durability", action=argparse.BooleanOptionalAction,
                    default=True, help="end with kill -9 of every process "
                    "and a fresh learner (default yes)")
    ap.add_argument("--persist", choices=("yes", "no"), default="yes",
                    help="no: acceptors keep nothing on disk, so the "
                    "durability phase must fail (a test of the checker)")
    ap.add_argument("--status", type=float, metavar="SEC",
                    help="log paxos-status every SEC seconds in events.log")
    ap.add_argument("--self-test", action="store_true",
                    help="run the checker on made-up histories, good and bad")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory on success")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds
    if args.netns_loss is not None and "PAXOS_FAULT_NETNS" not in os.environ:
        if not 0 <= args.netns_loss < 100:
            ap.error("--netns-loss: a percentage from 0 to 99")
        return netns_reexec(args)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    h = Harness(args)
    print("fault.py: seed %d, %g s of faults, %d clients, dir %s%s" % (
        args.seed, seconds, args.clients, h.dir,
        ", netns %s" % os.environ["PAXOS_FAULT_NETNS"]
        if "PAXOS_FAULT_NETNS" in os.environ else ""), flush=True)
    started = now()
    logs = []
    try:
        h.setup()
        watcher = threading.Thread(target=h.watch, daemon=True)
        watcher.start()
        for k in range(1, args.clients + 1):
            c = Client(h, k, args.seed * 1000 + k)
            h.clients.append(c)
            c.start()
        h.fault_loop(seconds)
        h.finish_clients(3 * SUBMIT_TIMEOUT_MS / 1000)
        h.wait_learners(30)
        if args.durability:
            h.durability_phase()
        else:
            h.stop_all()
        logs = check(h)
    except Abort as e:
        h.violation("harness", str(e))
    except Exception:
        h.violation("harness", traceback.format_exc())
    finally:
        h.watch_stop.set()
        h.stop_clients.set()
        h.kill_everything()
    try:
        save_history(h)
    except Exception as e:
        print("could not save the history: %r" % e)
    summary(h, logs, started)
    if h.violations:
        print("FAIL: %d violations" % len(h.violations))
        for prop, msg in h.violations[:MAX_SHOWN]:
            print("  %s: %s" % (prop, msg))
        print("logs and history.json kept in %s" % h.dir)
        return 1
    print("PASS")
    if not args.keep:
        shutil.rmtree(h.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
