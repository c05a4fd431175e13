"""bench/clones helpers: lay a clone-groups JSONL out as Python files, and
score canonical tracing and behavioural mining against its problem ids.

  clones.py layout GROUPS.jsonl DIR     one .py per solution: DIR/p<problem>_<k>.py,
                                        with the imports LeetCode's judge provides
  clones.py score GROUPS.jsonl CORPUS.jsonl TRACES.jsonl MINED.jsonl
  clones.py table RESULTS.json          MAP@R and AUROC per encoder of `eval clone-groups`
"""
import itertools
import json
import os
import sys
from collections import defaultdict

# The names LeetCode's judge puts in scope (spelled out: the corpus resolves
# explicit imports, not star imports), shared with `tracecode eval clone-groups`.
PRELUDE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates",
                            "tracecode", "src", "commands", "eval", "judge_prelude.py")).read()


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def layout(groups_path, out_dir):
    n = 0
    for row in rows(groups_path):
        for k, sol in enumerate(row["solutions"]):
            with open(f"{out_dir}/p{row['problem_id']}_{k}.py", "w") as f:
                f.write(PRELUDE + sol["code"])
            n += 1
    print(f"{n} solutions laid out", file=sys.stderr)


def entry_methods(corpus_path):
    """Per solution file, its entry: the first public method of Solution."""
    entry = {}
    for r in rows(corpus_path):
        if r.get("status") != "ok" or not r["qualname"].startswith("Solution."):
            continue
        if r["name"].startswith("_"):
            continue
        entry.setdefault(r["path"], r)
    return entry


def score(groups_path, corpus_path, traces_path, mined_path):
    solutions = sum(len(r["solutions"]) for r in rows(groups_path))
    entry = entry_methods(corpus_path)
    problem_of = {}
    for path, r in entry.items():
        problem_of[r["id"]] = path.split("/")[-1].split("_")[0]
    traced = {t["id"]: t for t in rows(traces_path)}
    canonical = {
        i: sum(1 for run in traced[i]["runs"] if run["strategy"] == "canonical")
        for i in problem_of
        if i in traced
    }
    with3 = sum(1 for c in canonical.values() if c >= 3)
    print(f"solutions: {solutions}; entry methods extracted: {len(entry)}; "
          f"standalone and traced: {len(canonical)}; with >=3 valid canonical runs: "
          f"{with3} ({100 * with3 / solutions:.1f}% of all solutions)")
    # Same-problem pairs among the entry methods that have canonical runs.
    by_problem = defaultdict(list)
    for i, c in canonical.items():
        if c > 0:
            by_problem[problem_of[i]].append(i)
    positives = sum(len(v) * (len(v) - 1) // 2 for v in by_problem.values())
    all_positives = sum(
        len(r["solutions"]) * (len(r["solutions"]) - 1) // 2 for r in rows(groups_path)
    )
    mined_pairs = set()
    for g in rows(mined_path):
        ids = sorted(s["id"] for s in g["solutions"] if s["id"] in problem_of)
        mined_pairs.update(itertools.combinations(ids, 2))
    correct = sum(1 for a, b in mined_pairs if problem_of[a] == problem_of[b])
    precision = correct / len(mined_pairs) if mined_pairs else float("nan")
    print(f"mined pairs among entry methods: {len(mined_pairs)}; same problem: {correct}; "
          f"precision {precision:.3f}")
    print(f"recall: {correct / max(positives, 1):.3f} of {positives} same-problem pairs with "
          f"canonical runs; {correct / max(all_positives, 1):.3f} of all {all_positives}")


def table(results_path):
    with open(results_path) as f:
        results = json.load(f)
    print(f"{'encoder':<16} {'MAP@R':>15} {'AUROC random':>15} {'AUROC same-tag':>15}  notes")
    for r in results:
        if r["task"] != "clone-groups":
            continue
        s = r["scores"]

        def cell(k):
            return f"{s[k]['value']:.3f} ± {s[k]['se']:.3f}" if k in s else "-"

        notes = "; ".join(n for n in r["notes"] if "embedded with" in n or "canonical runs" in n)
        print(f"{r['encoder']:<16} {cell('map_at_r'):>15} {cell('auroc_random'):>15} "
              f"{cell('auroc_same_tag'):>15}  {notes}")


if __name__ == "__main__":
    if sys.argv[1] == "layout":
        layout(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "score":
        score(*sys.argv[2:6])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
