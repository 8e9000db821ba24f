"""Checks sample --json against the --trace JSON Lines of the same run (test_sample.cmake).

    check_json.py OUT.jsonl TRACE.jsonl [N]

Every line of OUT must parse, with the documented fields; its tokens must be the trace's records of
that sample in order, with logprob = ln prob_final, logprob_raw = ln prob_raw, rank_raw and the top
N (--top-logprobs, 5 by default; ids and ln p) as the trace has them ("top<N>"), N of them (fewer
only when the vocabulary has fewer tokens), and the chosen token in the top N at its rank when
rank_raw < N. Exits 1 with a message at the first difference.
"""

import json
import math
import sys

FIELDS = ["index", "prompt_index", "prompt", "text", "finish_reason", "stop", "seed", "decoder",
          "settings", "tokens"]
TOKEN_FIELDS = ["id", "text", "logprob", "logprob_raw", "rank_raw", "top_logprobs"]


def fail(message):
    print("check_json: " + message, file=sys.stderr)
    sys.exit(1)


def same_log(logprob, p, where):
    """logprob (None for -inf) against ln p, to a few ulps."""
    if p == 0.0:
        if logprob is not None:
            fail(f"{where}: p = 0 but logprob {logprob}")
        return
    want = math.log(p)
    if logprob is None or abs(logprob - want) > 1e-12 * max(1.0, abs(want)):
        fail(f"{where}: logprob {logprob}, ln p = {want}")


def main():
    out_path, trace_path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    key = f"top{n}"
    with open(trace_path, encoding="utf-8") as f:
        trace = [json.loads(line) for line in f]
    with open(out_path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    if not lines:
        fail("no JSON lines")
    for k, line in enumerate(lines):
        if list(line.keys()) != FIELDS:
            fail(f"line {k}: fields {list(line.keys())}, expected {FIELDS}")
        if line["index"] != k:
            fail(f"line {k}: index {line['index']}")
        records = [r for r in trace if r["sequence"] == k]
        tokens = line["tokens"]
        if len(tokens) != len(records):
            fail(f"line {k}: {len(tokens)} tokens, the trace has {len(records)}")
        for t, (tok, rec) in enumerate(zip(tokens, records)):
            where = f"line {k}, token {t}"
            keys = [key for key in tok.keys() if key != "bytes"]
            if keys != TOKEN_FIELDS:
                fail(f"{where}: fields {keys}")
            if tok["id"] != rec["token"] or tok["text"] != rec["text"]:
                fail(f"{where}: {tok['id']} '{tok['text']}', trace {rec['token']} '{rec['text']}'")
            same_log(tok["logprob"], rec["prob_final"], where + " (final)")
            same_log(tok["logprob_raw"], rec["prob_raw"], where + " (raw)")
            if tok["rank_raw"] != rec["rank_raw"]:
                fail(f"{where}: rank_raw {tok['rank_raw']}, trace {rec['rank_raw']}")
            top = tok["top_logprobs"]
            if key not in rec:
                fail(f"{where}: the trace has no '{key}'")
            if len(top) != n:
                fail(f"{where}: {len(top)} alternatives, --top-logprobs {n}")
            if [a["id"] for a in top] != [pair[0] for pair in rec[key]]:
                fail(f"{where}: top ids {[a['id'] for a in top]}, trace {rec[key]}")
            for a, pair in zip(top, rec[key]):
                same_log(a["logprob"], pair[1], where + f" (alternative {a['id']})")
            if tok["rank_raw"] < len(top) and top[tok["rank_raw"]]["id"] != tok["id"]:
                fail(f"{where}: rank {tok['rank_raw']} but not at that place in the top list")
            if sum(math.exp(a["logprob"]) for a in top if a["logprob"] is not None) > 1 + 1e-9:
                fail(f"{where}: the top probabilities sum to more than 1")
        if line["finish_reason"] == "stop_string":
            joined = "".join(tok["text"] for tok in tokens)
            if not joined.startswith(line["text"] + line["stop"]):
                fail(f"line {k}: text + stop is not where the tokens' text begins")
    print(f"check_json: {len(lines)} lines, {len(trace)} tokens agree with the trace")


main()
