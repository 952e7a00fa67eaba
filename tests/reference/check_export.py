#!/usr/bin/env python3
"""check_export.py — transformers loads what `slm export` writes, and computes slm.c's logits.

Not part of `make check` (it needs torch and transformers); run it once after
a change to the export or to the config writer, with the venv of
tests/reference/README.md (torch 2.15.0, transformers 5.23.0):

    python3 tests/reference/check_export.py [--build build] [--out /tmp/slm-check-export]

For each case it trains a few steps with slm (so the weights are slm's, not a
fixture's), exports the checkpoint in fp32 (one file) and in bf16 (sharded, with
an index), loads each directory with
AutoModelForCausalLM.from_pretrained(dir, dtype=torch.float32,
attn_implementation="eager"), and compares transformers' logits on a fixed
batch with slm's (build/bench/hf_logits) on the same weights:

  llama3   slm train --init-from tests/data/hf/llama3 (llama3 RoPE scaling, GQA, untied)
  tied     slm train --init-from tests/data/hf/tied (tied head)
  tiny     slm train --model tiny (slm's own preset: 4 layers, d 128, vocab 512)

fp32 exports must match slm's logits on the checkpoint within 1e-5 relative
(max|a - b| / max|b|); bf16 exports must match slm's logits on the bf16 export
within 1e-5, and the script prints how far bf16 rounding moved them from the
checkpoint's. It also checks that transformers reads the written config.json
into the expected rope_parameters.
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
B, T = 2, 16
RUN = ["--seq-len", "16", "--micro-batch", "2", "--global-batch", "2", "--steps", "5", "--lr", "1e-2",
       "--eval-every", "0", "--eval-batches", "1"]
CASES = [  # name, how slm trains it, the rope_parameters transformers must read, the bf16 export's shard size
    ("llama3", ["--init-from", os.path.join(ROOT, "tests/data/hf/llama3")],
     {"rope_type": "llama3", "rope_theta": 100.0, "factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
      "original_max_position_embeddings": 32}, "16KB"),
    ("tied", ["--init-from", os.path.join(ROOT, "tests/data/hf/tied")], {"rope_type": "default", "rope_theta": 10000.0},
     "16KB"),
    ("tiny", ["--model", "tiny"], {"rope_type": "default", "rope_theta": 10000.0}, "1MB"),
]


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit("failed (%d): %s\n%s%s" % (out.returncode, " ".join(cmd), out.stdout, out.stderr))
    return out.stdout


def slm_logits(build, source, tokens):
    text = ";".join(",".join(str(t) for t in row) for row in tokens.tolist())
    got = json.loads(run([os.path.join(build, "bench", "hf_logits"), source, text]))
    return torch.tensor(got["logits"], dtype=torch.float32).view(got["batch"], got["seq"], got["vocab"])


def hf_logits(directory, tokens):
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager")
    with torch.no_grad():
        return model, model(input_ids=tokens).logits


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def check_case(build, out, name, source_flags, rope, shard, gen):
    ckpt = os.path.join(out, name + ".ckpt")
    f32, b16 = os.path.join(out, name + "-fp32"), os.path.join(out, name + "-bf16")
    slm = os.path.join(build, "slm")
    run([slm, "train"] + source_flags + RUN + ["--save", ckpt])
    run([slm, "export", ckpt, "--out", f32])
    run([slm, "export", ckpt, "--out", b16, "--dtype", "bf16", "--shard-size", shard])
    ok = True
    model, _ = hf_logits(f32, torch.zeros(1, 1, dtype=torch.long))
    vocab = model.config.vocab_size
    tokens = torch.randint(0, vocab, (B, T), generator=gen)
    want = slm_logits(build, ckpt, tokens)
    for directory, against, what in ((f32, want, "fp32"), (b16, slm_logits(build, b16, tokens), "bf16")):
        model, got = hf_logits(directory, tokens)
        params = model.config.rope_parameters
        rope_ok = all(params.get(k) == v for k, v in rope.items())
        err = rel(got, against)
        shards = len([f for f in os.listdir(directory) if f.endswith(".safetensors")])
        line = "%-7s %s export (%d file%s): %s, rope %s; max rel err %.2e against slm's logits" % (
            name, what, shards, "s" if shards > 1 else "", type(model).__name__, params["rope_type"], err)
        if what == "bf16":
            line += "; %.2e from the fp32 checkpoint's (bf16 rounding)" % rel(got, want)
        good = err <= 1e-5 and rope_ok and type(model).__name__ == "LlamaForCausalLM"
        print(("ok   " if good else "FAIL ") + line)
        ok = ok and good
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default="/tmp/slm-check-export")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    print("torch %s, transformers %s" % (torch.__version__, transformers.__version__))
    gen = torch.Generator().manual_seed(7)
    results = [check_case(args.build, args.out, *case, gen) for case in CASES]
    print("check_export: %d of %d cases passed" % (sum(results), len(results)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
