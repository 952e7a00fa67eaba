#!/usr/bin/env python3
"""hf_tokenize_vs_tokenizers.py — `slm tokenize --hf-tokenizer` against the
Hugging Face `tokenizers` library on the same text and the same tokenizer.json,
in alternating rounds (slm, tokenizers, slm, …). slm encodes on one thread;
tokenizers three ways: encode(text) of the whole text (one thread: tokenizers
parallelises only over a batch), and encode_batch over the text cut into
pieces at each newline followed by a letter (where both pre-tokenizers below
cut anyway, so the ids are the same) on one thread and on two
(RAYON_NUM_THREADS).

The text is the fortunes corpus (scripts/corpus.sh) repeated to SIZE bytes.
The tokenizers, made here with fixed settings:

  llama3-32k  tokenizers' BpeTrainer, 32000 tokens, on the fortunes corpus, with
              Llama-3's split regex, ByteLevel and ignore_merges (as Llama-3)
  slm-32k     slm's own 32000-token BPE on the same corpus, written with
              --export-hf (its Split regex is long: slm's chunks byte for byte)

slm's time is its own "encoded … in S s" (encoding only, as tokenizers' is the
encode call alone, timed in a child process that has the text in memory); the
command's wall time, reading and writing included, is shown beside it. Each
round checks that every way gave the same ids. slm's own
encoder (--tokenizer) on slm-32k is timed too, for reference. A benchmark,
not a test: it prints figures and exits 0.

usage: bench/hf_tokenize_vs_tokenizers.py [--size BYTES] [--rounds N] [--build DIR] [--work DIR]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def run(*args):
    t0 = time.perf_counter()
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode:
        sys.exit("%s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout, time.perf_counter() - t0


def token_file(path):
    head = np.fromfile(path, dtype=np.uint8, count=32)
    width, count = int(head[12:16].view("<u4")[0]), int(head[16:24].view("<u8")[0])
    return np.fromfile(path, dtype="<u2" if width == 2 else "<u4", offset=32, count=count).astype(np.int64)


# The child that times tokenizers: argv = tokenizer.json, text, mode (whole | batch), ids out.
CHILD = r"""
import sys, time, re, numpy as np
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()
if sys.argv[3] == "whole":
    t0 = time.perf_counter(); ids = tok.encode(text, add_special_tokens=False).ids; s = time.perf_counter() - t0
else:
    pieces = re.split(r"(?<=\n)(?=[A-Za-z])", text)
    t0 = time.perf_counter(); enc = tok.encode_batch(pieces, add_special_tokens=False); s = time.perf_counter() - t0
    ids = [i for e in enc for i in e.ids]
np.save(sys.argv[4], np.asarray(ids, dtype=np.int64))
print(s)
"""


def tokenizers_round(tok_dir, text_path, mode, threads, out):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    r = subprocess.run([sys.executable, "-c", CHILD, os.path.join(tok_dir, "tokenizer.json"), text_path, mode, out],
                       capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit("tokenizers failed: " + r.stderr.strip())
    return float(r.stdout), np.load(out)


def make_text(work, size):
    corpus = os.path.join(work, "fortunes.txt")
    run("sh", "scripts/corpus.sh", corpus)
    data = open(corpus, "rb").read()
    path = os.path.join(work, "text.txt")
    with open(path, "wb") as f:
        f.write((data * (size // len(data) + 1))[:size])
    return corpus, path


def make_llama3(corpus, out_dir):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_REGEX), "isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=32000, special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([corpus], trainer)
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))


def slm_round(build, text_path, flag, tok_path, out):
    stdout, wall = run(os.path.join(build, "slm"), "tokenize", "--text", text_path, flag, tok_path, "--out", out)
    m = re.search(r"encoded (\d+) bytes into (\d+) tokens .* in ([0-9.]+) s", stdout)
    return int(m.group(2)), float(m.group(3)), wall


WAYS = (("whole", 1), ("batch", 1), ("batch", 2))


def bench(name, tok_dir, args, text_path, bpe=None):
    out, ids_out = os.path.join(args.work, name + ".tok"), os.path.join(args.work, name + ".npy")
    rates = {w: [] for w in ("slm", "slm --tokenizer") + WAYS}
    for r in range(args.rounds):
        n, slm_s, wall = slm_round(args.build, text_path, "--hf-tokenizer", tok_dir, out)
        mine = token_file(out)
        rates["slm"].append(n / slm_s)
        line = f"  {name} round {r + 1}: slm --hf-tokenizer {n / slm_s / 1e6:.2f} M tokens/s ({slm_s:.2f} s; command " \
               f"{wall:.2f} s)"
        for mode, threads in WAYS:
            hf_s, ids = tokenizers_round(tok_dir, text_path, mode, threads, ids_out)
            same = ids.shape == mine.shape and bool((ids == mine).all())
            rates[(mode, threads)].append(len(ids) / hf_s)
            line += f"; tokenizers {mode} {threads}t {len(ids) / hf_s / 1e6:.2f} ({hf_s:.2f} s, same ids: {same})"
        if bpe:
            native = slm_round(args.build, text_path, "--tokenizer", bpe, out)[1]
            rates["slm --tokenizer"].append(n / native)
            line += f"; slm --tokenizer {n / native / 1e6:.2f}"
        print(line, flush=True)
    med = {k: statistics.median(v) for k, v in rates.items() if v}
    print(f"{name}: {n} tokens, medians in M tokens/s: slm --hf-tokenizer (1 thread) {med['slm'] / 1e6:.2f}; "
          + "; ".join(f"tokenizers {m} {t} thread{'s' if t > 1 else ''} {med[(m, t)] / 1e6:.2f} "
                      f"(slm {med['slm'] / med[(m, t)]:.1f}x)" for m, t in WAYS)
          + (f"; slm --tokenizer {med['slm --tokenizer'] / 1e6:.2f}" if bpe else ""), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default="build/bench-hf-tokenize")
    args = ap.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    os.makedirs(args.work, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"CPU: {cpu}, {os.cpu_count()} cores; tokenizers {tokenizers.__version__}")
    corpus, text_path = make_text(args.work, args.size)
    print(f"text: {text_path}, {args.size} bytes (the fortunes corpus repeated)")
    make_llama3(corpus, os.path.join(args.work, "llama3-32k"))
    bpe, slm_dir = os.path.join(args.work, "slm-32k.bpe"), os.path.join(args.work, "slm-32k")
    run(os.path.join(args.build, "slm"), "tokenize", "--text", corpus, "--vocab", "32000", "--tokenizer", bpe,
        "--export-hf", slm_dir)
    bench("llama3-32k", os.path.join(args.work, "llama3-32k"), args, text_path)
    bench("slm-32k", slm_dir, args, text_path, bpe)


if __name__ == "__main__":
    main()
