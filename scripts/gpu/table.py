#!/usr/bin/env python3
"""table.py — the table of a `make gpu-check` results folder: for each training
shape (model, T, micro batch, attention) slm's tokens/s, MFU and peak memory
beside PyTorch eager and torch.compile on the same GPU, and slm / compile;
for each attention shape slm's FlashAttention-2 kernels beside PyTorch SDPA
flash (forward + backward ms); and where slm ran one shape under several
strategies, a row per strategy. Prints it and writes it as table.md in the folder.

Records are read from every *.jsonl in the folder: a line with "kernel" is an
attention figure, one with "framework" a PyTorch run, any other record with
"backend": "cuda" slm's own. Where a configuration ran more than once, the
last line counts. A run that did not finish shows its status (oom, error).
"""
import glob
import json
import os
import sys

import pandas as pd

SHAPE = ["model", "seq_len", "micro_batch", "global_batch", "attention"]
FRAMEWORKS = [("slm", "slm"), ("pytorch-eager", "eager"), ("pytorch-compile", "compile")]


def load(folder):
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        sys.exit(f"table.py: {path}:{n}: not a JSON line ({e})")
    return pd.DataFrame(rows)


def fmt(v, spec):
    return "" if v is None or pd.isna(v) else format(v, spec)


def cell(r, field, spec, scale=1.0):
    """A figure of one run, or its status when it did not finish; '—' when it did not run."""
    if r is None:
        return "—"
    status = r.get("status")
    if isinstance(status, str) and status != "ok":  # attention lines have no status
        return status
    return fmt(r[field] * scale if pd.notna(r.get(field)) else None, spec)


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def strategy_of(runs):
    return runs["strategy"].fillna("single") if "strategy" in runs else pd.Series("single", index=runs.index)


def slm_runs(df):
    """slm's own training records on cuda (no PyTorch run, no attention figure)."""
    if "backend" not in df:
        return df.iloc[0:0]
    runs = df[df["backend"] == "cuda"]
    for col in ("kernel", "framework"):
        if col in runs:
            runs = runs[runs[col].isna()]
    return runs


def strategy_table(df):
    """Each shape that ran under a strategy other than single: every strategy's
    tokens/s, step time, peak memory and share of the step waiting on
    communication, and its tokens/s over single's at the same shape."""
    runs = slm_runs(df).copy()
    if runs.empty:
        return None
    runs["strat"] = strategy_of(runs)
    last = {(tuple(r[k] for k in SHAPE), r["strat"], int(r.get("world_size") or 1)): r
            for r in runs.to_dict("records")}
    shown = sorted({k[0] for k in last if k[1] != "single"}, key=str)
    if not shown:
        return None
    header = ["model", "T", "micro", "global", "attention", "strategy", "world", "tok/s", "step ms",
              "peak GiB", "comm %", "/ single tok/s"]
    rows = []
    for s in shown:
        single = last.get((s, "single", 1))
        for key in sorted((k for k in last if k[0] == s), key=lambda k: (k[2], k[1] != "single", k[1])):
            r = last[key]
            ok = r.get("status") == "ok" and single is not None and single.get("status") == "ok"
            ratio = fmt(r["tokens_per_s"] / single["tokens_per_s"], ".3f") if ok else "—"
            rows.append([s[0]] + [int(x) for x in s[1:4]] + [s[4], key[1], key[2]] +
                        [cell(r, "tokens_per_s", ",.0f"), cell(r, "step_time_s", ".1f", 1000),
                         cell(r, "peak_mem_bytes", ".1f", 1 / 2**30), cell(r, "comm_time_frac", ".1f", 100), ratio])
    return markdown(header, rows)


def training_table(df):
    if "backend" not in df:
        return None
    runs = df[df["backend"] == "cuda"].copy()
    if "kernel" in runs:
        runs = runs[runs["kernel"].isna()]
    if runs.empty:
        return None
    runs["fw"] = runs["framework"] if "framework" in runs else None
    runs["fw"] = runs["fw"].fillna("slm")
    runs = runs[strategy_of(runs) == "single"]
    last = {(tuple(r[k] for k in SHAPE), r["fw"]): r for r in runs.to_dict("records")}
    order = {"100m": 0, "500m": 1, "1b": 2, "2b": 3}
    shapes = sorted({k for k, _ in last}, key=lambda s: (order.get(s[0], 9), str(s[0])) + s[1:])
    header = ["model", "T", "micro", "global", "attention"]
    header += [f"{n} tok/s" for _, n in FRAMEWORKS] + [f"{n} MFU %" for _, n in FRAMEWORKS]
    header += [f"{n} peak GiB" for _, n in FRAMEWORKS] + ["slm / compile tok/s"]
    rows = []
    for s in shapes:
        rs = [last.get((s, fw)) for fw, _ in FRAMEWORKS]
        ok = [r is not None and r.get("status") == "ok" for r in rs]
        ratio = fmt(rs[0]["tokens_per_s"] / rs[2]["tokens_per_s"], ".2f") if ok[0] and ok[2] else "—"
        rows.append([s[0]] + [int(x) for x in s[1:4]] + [s[4]] + [cell(r, "tokens_per_s", ",.0f") for r in rs] +
                    [cell(r, "mfu", ".1f", 100) for r in rs] +
                    [cell(r, "peak_mem_bytes", ".1f", 1 / 2**30) for r in rs] + [ratio])
    return markdown(header, rows)


def attention_table(df):
    if "kernel" not in df:
        return None
    k = df[df["kernel"].notna()]
    last = {(r["B"], r["T"], r["H"], r["hd"], r["kernel"]): r for r in k.to_dict("records")}
    shapes = sorted({key[:4] for key in last}, key=lambda s: (s[3], s[1], s[0], s[2]))
    header = ["B", "T", "H", "hd", "slm fwd ms", "slm bwd ms", "SDPA fwd ms", "SDPA bwd ms",
              "slm TFLOP/s", "SDPA TFLOP/s", "slm / SDPA time"]
    rows = []
    for s in shapes:
        ours, sdpa = last.get(s + ("slm-flash",)), last.get(s + ("torch-sdpa-flash",))
        figs = [cell(r, f, ".3f") for r in (ours, sdpa) for f in ("fwd_ms", "bwd_ms")]
        figs += [cell(r, "fwd_bwd_tflops", ".1f") for r in (ours, sdpa)]
        ratio = (fmt((ours["fwd_ms"] + ours["bwd_ms"]) / (sdpa["fwd_ms"] + sdpa["bwd_ms"]), ".2f")
                 if ours is not None and sdpa is not None else "—")
        rows.append([int(x) for x in s] + figs + [ratio])
    return markdown(header, rows)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: table.py RESULTS_FOLDER")
    folder = sys.argv[1]
    df = load(folder)
    parts = [f"# make gpu-check: {os.path.basename(os.path.normpath(folder))}"]
    devices = sorted(set(df["device"].dropna())) if "device" in df else []
    parts.append("device: " + (", ".join(devices) if devices else "none recorded"))
    train, attn = (training_table(df), attention_table(df)) if not df.empty else (None, None)
    parts += ["## Training step (tokens/s, MFU, peak memory; slm / compile > 1: slm is faster)",
              train or "no training records"]
    strat = strategy_table(df) if not df.empty else None
    if strat:
        parts += ["## slm under each strategy (the NCCL communicator; / single > 1: faster than single)", strat]
    parts += ["## Attention, causal, bf16, forward + backward (slm / SDPA time < 1: slm is faster)",
              attn or "no attention records"]
    text = "\n\n".join(parts) + "\n"
    print(text)
    with open(os.path.join(folder, "table.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
