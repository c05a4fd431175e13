"""Python peers for bench/trace: the same (module, call) runs as a `tracecode
trace --replay` output, executed (a) untraced, (b) under a minimal
sys.settrace harness recording the same data as tracecode (line sequence and
bounded reprs of variables written on each line, user frames only), or
(c) under pysnooper (the tracer SemCoder used), output to a null sink; the
pysnooper mode does not yet finish on every MBPP run, so bench/trace/run
leaves it out.

Usage: peers.py CORPUS.jsonl TRACES.jsonl MODE RUNS [MAX_JOBS]
MAX_JOBS keeps only the first jobs (pysnooper is too slow for all of them);
compare sides by rate (runs/s), not by total time.
Prints one JSON line: {"mode", "runs", "events", "seconds": [...]}.
"""
import contextlib
import io
import json
import reprlib
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


def run_once(jobs, mode):
    events = 0
    for code, name, call in jobs:
        ns = {"__name__": "__tracecode__"}
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
            except BaseException:
                sys.settrace(None)
    return events


def main():
    corpus_path, traces_path, mode, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    jobs = load(corpus_path, traces_path)
    if len(sys.argv) > 5:
        jobs = jobs[: int(sys.argv[5])]
    seconds, events = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        events = run_once(jobs, mode)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"mode": mode, "runs": len(jobs), "events": events, "seconds": seconds}))


if __name__ == "__main__":
    main()
