#!/usr/bin/env python3
"""Build cases-extra.jsonl (beside this script) from LocalStack's AWS-recorded Step Functions snapshots.

How: the LocalStack test functions themselves are run under pytest with *fake* fixtures and
stubbed `localstack*` modules (conftest_capture.py). Nothing talks to AWS: the fakes only record,
per pytest node id, the state machine definition each test created, the input it started the
execution with, and the snapshot key under which the history was recorded. That reproduces
the definition exactly as the test built it (template + json edits + parametrize values).
Then, for every captured execution:
  * the snapshot entry <nodeid> / <key> is looked up in the sibling *.snapshot.json;
  * input is taken from the recorded ExecutionStarted event (cross-checked with the captured
    input), the outcome from the recorded ExecutionSucceeded / ExecutionFailed event
    (choice_operators tests record a `cases` list of input/output instead);
  * only JSONPath machines made of Pass/Choice/Map(inline)/Parallel/Wait/Succeed/Fail are kept;
  * ids already in the shared corpus ($POWERSWEEP_ASL_CASES_SEEN, else
    /work/shared/asl-conformance/cases.jsonl) are skipped.

Usage (from the folder holding this script and src/):  python3 extract.py
Requires: venv with pytest, json5, pyyaml; source tree under src/ (git archive of
tests/aws/services/stepfunctions from localstack/localstack).
"""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
CAPTURED = os.path.join(HERE, "captured.jsonl")
OUT = os.path.join(HERE, "cases-extra.jsonl")
SKIPPED = os.path.join(HERE, "skipped.txt")
EXISTING = os.environ.get(
    "POWERSWEEP_ASL_CASES_SEEN", "/work/shared/asl-conformance/cases.jsonl"
)
V2 = "tests/aws/services/stepfunctions/v2"

# test files/folders run through the capture harness
TARGETS = [
    "assign",
    "base",
    "choice_operators",
    "comments",
    "context_object",
    "error_handling/test_states_errors.py",
    "evaluate_jsonata",
    "intrinsic_functions",
    "outputdecl",
    "query_language",
    "scenarios",
]

# executions left out on purpose (see NOTES.md)
SKIP = {
    # input is now()+24856 days: whether it is "too far in the future" depends on when it runs
    "tests/aws/services/stepfunctions/v2/base/test_wait.py::TestSfnWait::test_timestamp_too_far_in_future_boundary[24856]":
        "time-dependent input",
}
# tests whose snapshot masks the output with a test-specific, non-<...> placeholder
SKIP_PREFIX = {
    "tests/aws/services/stepfunctions/v2/intrinsic_functions/test_math_operations.py::TestMathOperations::test_math_random":
        "random output masked as 'RandomNumberGenerated'",
}

ALLOWED_TYPES = {"Pass", "Choice", "Map", "Parallel", "Wait", "Succeed", "Fail"}


def run_capture():
    for d in ("tests", "tests/aws", "tests/aws/services"):
        open(os.path.join(SRC, d, "__init__.py"), "a").close()
    shutil.copy(os.path.join(HERE, "conftest_capture.py"), os.path.join(SRC, "conftest.py"))
    if os.path.exists(CAPTURED):
        os.remove(CAPTURED)
    env = dict(os.environ, CAPTURE_OUT=CAPTURED)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "ignore"]
    cmd += [f"{V2}/{t}" for t in TARGETS]
    r = subprocess.run(cmd, cwd=SRC, env=env, capture_output=True, text=True)
    with open(os.path.join(HERE, "pytest_run.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    print("pytest:", (r.stdout.strip().splitlines() or ["?"])[-1])


def iter_states(states):
    """Yield every state dict of a States map, recursing into Map and Parallel."""
    for name, st in states.items():
        yield name, st
        if st.get("Type") == "Map":
            proc = st.get("ItemProcessor") or st.get("Iterator") or {}
            yield from iter_states(proc.get("States", {}))
        if st.get("Type") == "Parallel":
            for br in st.get("Branches", []):
                yield from iter_states(br.get("States", {}))


def history_mismatch(events, defn):
    """Every state entered in the recorded history must exist in the definition with that type."""
    types = {}
    for name, st in iter_states(defn["States"]):
        types.setdefault(name, set()).add(st.get("Type"))
    for e in events:
        t = e.get("type", "")
        if t.endswith("StateEntered"):
            name = e["stateEnteredEventDetails"]["name"]
            kind = t[: -len("StateEntered")]
            if name not in types:
                return f"state {name!r} not in definition"
            if kind not in types[name]:
                return f"state {name!r} is {types[name]}, history says {kind}"
    return None


def has_jsonata(obj):
    if isinstance(obj, dict):
        if obj.get("QueryLanguage") == "JSONata":
            return True
        return any(has_jsonata(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_jsonata(v) for v in obj)
    return False


def reject_reason(defn):
    if not isinstance(defn, dict) or "States" not in defn:
        return "definition not a state machine"
    if has_jsonata(defn):
        return "JSONata"
    for name, st in iter_states(defn["States"]):
        t = st.get("Type")
        if t not in ALLOWED_TYPES:
            return f"state type {t}"
        if t == "Map":
            if "ItemReader" in st or "ResultWriter" in st:
                return "distributed Map (ItemReader/ResultWriter)"
            # DISTRIBUTED mode without ItemReader/ResultWriter is kept (it is where the
            # ToleratedFailure*Path fields live); the existing corpus keeps such cases too.
    return None


PLACEHOLDERS = {"date", "timestamp", "start-time", "entered-time", "datetime"}


def is_placeholder(v):
    return isinstance(v, str) and (v in PLACEHOLDERS or (v.startswith("<") and v.endswith(">")))


def placeholder_only_diff(snap, cap):
    """True when snap equals cap except where snap holds a snapshot placeholder string."""
    if is_placeholder(snap) and isinstance(cap, str):
        return True
    if isinstance(snap, dict) and isinstance(cap, dict):
        return snap.keys() == cap.keys() and all(placeholder_only_diff(snap[k], cap[k]) for k in snap)
    if isinstance(snap, list) and isinstance(cap, list):
        return len(snap) == len(cap) and all(placeholder_only_diff(a, b) for a, b in zip(snap, cap))
    return snap == cap


def maybe_parse(v):
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def main():
    if "--no-run" not in sys.argv:
        run_capture()
    existing = set()
    with open(EXISTING) as f:
        for line in f:
            existing.add(json.loads(line)["id"])

    outcome = {}
    caps = defaultdict(list)
    with open(CAPTURED) as f:
        for line in f:
            rec = json.loads(line)
            if "outcome" in rec:
                outcome[rec["nodeid"]] = rec["outcome"]
            else:
                caps[rec["nodeid"]].append(rec)

    snap_cache = {}

    def snapshot_for(nodeid):
        py = nodeid.split("::")[0]
        p = os.path.join(SRC, py[: -len(".py")] + ".snapshot.json")
        if p not in snap_cache:
            snap_cache[p] = json.load(open(p)) if os.path.exists(p) else {}
        return snap_cache[p].get(nodeid)

    cases, skipped, from_test = [], [], []
    regenerated = {}
    stats = Counter()
    for nodeid, recs in caps.items():
        if outcome.get(nodeid) != "passed":
            skipped.append((nodeid, f"capture run did not pass ({outcome.get(nodeid)})"))
            continue
        entry = snapshot_for(nodeid)
        if entry is None:
            skipped.append((nodeid, "no snapshot entry"))
            continue
        content = entry["recorded-content"]
        n_hist = sum(1 for r in recs if "other" not in r)
        for rec in recs:
            if rec.get("other"):
                continue
            key = rec["match"]
            cid = nodeid if (key == "get_execution_history" and n_hist == 1) else f"{nodeid}#{key}"
            if cid in SKIP or any(cid.startswith(p) for p in SKIP_PREFIX):
                why = SKIP.get(cid) or next(v for p, v in SKIP_PREFIX.items() if cid.startswith(p))
                skipped.append((cid, why))
                continue
            in_corpus = cid in existing or (nodeid in existing and n_hist == 1)
            try:
                defn = json.loads(rec["definition"])
            except (TypeError, ValueError):
                skipped.append((cid, "definition not JSON"))
                continue
            why = reject_reason(defn)
            if why:
                skipped.append((cid, why))
                stats[f"rejected: {why}"] += 1
                continue
            cap_input = maybe_parse(rec["input"]) if rec["input"] is not None else {}

            if "list_name" in rec:  # choice_operators: recorded {"input", "output"} list
                item = content[rec["list_name"]][rec["list_index"]]
                inp = maybe_parse(item["input"])
                expected = {"status": "SUCCEEDED", "output": maybe_parse(item["output"])}
            else:
                hist = content.get(key)
                if not hist or "events" not in hist:
                    skipped.append((cid, f"snapshot key {key} missing"))
                    continue
                evs = hist["events"]
                started = [e for e in evs if e["type"] == "ExecutionStarted"]
                ends = [e for e in evs if e["type"] in ("ExecutionSucceeded", "ExecutionFailed")]
                if len(started) != 1 or len(ends) != 1:
                    skipped.append((cid, "no single start/terminal event"))
                    continue
                bad = history_mismatch(evs, defn)
                if bad:
                    skipped.append((cid, f"history does not fit the definition ({bad}); stale snapshot?"))
                    continue
                inp = maybe_parse(started[0]["executionStartedEventDetails"].get("input"))
                end = ends[0]
                if end["type"] == "ExecutionSucceeded":
                    d = end.get("executionSucceededEventDetails", {})
                    if d.get("outputDetails", {}).get("truncated"):
                        skipped.append((cid, "output truncated"))
                        continue
                    expected = {"status": "SUCCEEDED", "output": maybe_parse(d.get("output"))}
                else:
                    d = end.get("executionFailedEventDetails", {})
                    cause = d.get("cause")
                    if cause is not None and not isinstance(cause, str):
                        skipped.append((cid, "cause was parsed into JSON by the snapshot; exact text lost"))
                        continue
                    expected = {"status": "FAILED", "error": d.get("error"), "cause": cause}
            if inp != cap_input:
                if placeholder_only_diff(inp, cap_input):
                    # the snapshot masked a timestamp in the input; the value the test really
                    # sent is the captured one (same convention as the existing corpus)
                    stats["input: snapshot placeholder replaced by the test's literal value"] += 1
                    from_test.append(cid)
                    inp = cap_input
                else:
                    stats["input differs from captured (snapshot value kept)"] += 1
                    print(f"NOTE input differs {cid}: snapshot={json.dumps(inp)[:200]} captured={json.dumps(cap_input)[:200]}")
            case = {"id": cid, "query_language": "JSONPath", "definition": defn, "input": inp, "expected": expected}
            if in_corpus:
                stats["already in corpus"] += 1
                regenerated[cid if cid in existing else nodeid] = case
                continue
            cases.append(case)

    # stable order: by id
    cases.sort(key=lambda c: c["id"])
    ids = Counter(c["id"] for c in cases)
    assert all(v == 1 for v in ids.values()), [k for k, v in ids.items() if v > 1]
    with open(OUT, "w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    with open(SKIPPED, "w") as f:
        for cid, why in sorted(skipped):
            f.write(f"{why}\t{cid}\n")
    with open(os.path.join(HERE, "input-from-test.txt"), "w") as f:
        for cid in sorted(from_test):
            f.write(cid + "\n")
    # self-check: the cases of the existing corpus, regenerated the same way, must agree
    old = {}
    with open(EXISTING) as f:
        for line in f:
            c = json.loads(line)
            old[c["id"]] = c
    agree = 0
    for cid, c in regenerated.items():
        o = old.get(cid)
        if o and o["definition"] == c["definition"] and o["input"] == c["input"] and o["expected"] == c["expected"]:
            agree += 1
        else:
            for fld in ("definition", "input", "expected"):
                if o is None or o[fld] != c[fld]:
                    print(f"SELF-CHECK {cid}: {fld} differs\n   corpus={json.dumps(o and o[fld])[:300]}\n   ours  ={json.dumps(c[fld])[:300]}")
    missing = set(old) - set(regenerated)
    for cid in sorted(missing):
        if old[cid]["query_language"] == "JSONPath":
            print(f"SELF-CHECK not regenerated (JSONPath): {cid}")
    print(f"self-check vs existing corpus: {agree}/{len(old)} identical, {len(missing)} not regenerated")
    per_file = Counter(c["id"].split("::")[0].rsplit("/", 1)[-1] for c in cases)
    st = Counter(c["expected"]["status"] for c in cases)
    print(f"cases: {len(cases)} {dict(st)}")
    for k, v in sorted(per_file.items()):
        print(f"  {v:4d} {k}")
    for k, v in stats.items():
        print(f"  [{v}] {k}")


if __name__ == "__main__":
    main()
