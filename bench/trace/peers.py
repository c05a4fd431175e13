"""Python peers for bench/trace: the same (module, call) runs as a `tracecode
trace --replay` output, executed (a) untraced, (b) under a minimal
sys.settrace harness recording the same data as tracecode (line sequence and
bounded reprs of variables written on each line, user frames only), or
(c) under pysnooper (the tracer SemCoder used), output to a null sink.

Usage: peers.py CORPUS.jsonl TRACES.jsonl MODE RUNS [TIMEOUT_S]
TIMEOUT_S caps each call's wall time (SIGALRM): pysnooper formats the full
repr of every local on every line before truncating it, so a call on a large
input can take minutes under it. A capped call counts with the time it was
given, so a capped side's runs/s is an upper bound on its real rate.
Prints one JSON line: {"mode", "runs", "events", "timeouts", "seconds": [...]}.
"""
import contextlib
import io
import json
import reprlib
import signal
import sys
import time

FILENAME = "<tracecode>"
REPR = reprlib.Repr()
REPR.maxstring = REPR.maxother = 60
REPR.maxlist = REPR.maxtuple = REPR.maxdict = REPR.maxset = 8


def load(corpus_path, traces_path):
    corpus = {}
    for line in open(corpus_path):
        r = json.loads(line)
        if r["status"] == "ok":
            corpus[r["id"]] = r
    jobs = []
    for line in open(traces_path):
        t = json.loads(line)
        rec = corpus[t["id"]]
        source = rec["context"] + rec["code"] + "\n"
        for run in t["runs"]:
            jobs.append((compile(source, FILENAME, "exec"), rec["name"], run["call"]))
    return jobs


class Recorder:
    """sys.settrace harness: line events + bounded reprs of written locals."""

    def __init__(self):
        self.lines = []
        self.values = []
        self.snapshots = {}

    def global_trace(self, frame, event, arg):
        if frame.f_code.co_filename != FILENAME:
            return None
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if event in ("line", "return"):
            prev = self.snapshots.get(id(frame), {})
            now = {}
            for name, value in frame.f_locals.items():
                text = REPR.repr(value)
                now[name] = text
                if prev.get(name) != text:
                    self.values.append((len(self.lines), name, text, type(value).__name__))
            self.snapshots[id(frame)] = now
            if event == "line":
                self.lines.append(frame.f_lineno)
        return self.local_trace


class NullSink:
    def write(self, s):
        pass


class CallTimeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise CallTimeout()


def run_once(jobs, mode, timeout):
    """Runs every job once; returns (line events recorded, calls capped)."""
    events, timeouts = 0, 0
    signal.signal(signal.SIGALRM, on_alarm)
    for code, name, call in jobs:
        ns = {"__name__": "__tracecode__"}
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(code, ns)
                if mode == "pysnooper":
                    import pysnooper
                    ns[name] = pysnooper.snoop(output=NullSink(), max_variable_length=60)(ns[name])
                if mode in ("settrace", "pysnooper"):
                    rec = Recorder()
                    if mode == "settrace":
                        sys.settrace(rec.global_trace)
                        try:
                            eval(call, ns)
                        finally:
                            sys.settrace(None)
                    else:
                        eval(call, ns)
                    events += len(rec.lines)
                else:
                    eval(call, ns)
            except CallTimeout:
                sys.settrace(None)
                timeouts += 1
            except BaseException:
                sys.settrace(None)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    return events, timeouts


def main():
    corpus_path, traces_path, mode, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    jobs = load(corpus_path, traces_path)
    seconds, events, timeouts = [], 0, 0
    for _ in range(runs):
        start = time.perf_counter()
        events, timeouts = run_once(jobs, mode, timeout)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"mode": mode, "runs": len(jobs), "events": events, "timeouts": timeouts, "seconds": seconds}))


if __name__ == "__main__":
    main()
