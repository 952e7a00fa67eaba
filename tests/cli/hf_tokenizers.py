#!/usr/bin/env python3
"""hf_tokenizers.py — slm's tokenizers against Hugging Face's `tokenizers`.

Run by tests/cli/hf_tokenizers.sh with a Python that has tokenizers and numpy:

    hf_tokenizers.py SLM DIR

On one text (the fortunes corpus where installed, else generated English; the
fixture text of tests/data/hf_tokenizer; a line for every assigned code point
of the Basic Multilingual Plane, each in a few contexts):

1. slm trains a 2048-token BPE on the text and writes it with --export-hf;
   tokenizers loads that tokenizer.json and encodes the text to the ids slm
   encodes (and transformers' AutoTokenizer too, where it is installed), and
   decodes them back to the text.
2. slm tokenize --hf-tokenizer encodes the text with each fixture tokenizer
   (tests/data/hf_tokenizer/*) to the ids tokenizers gives.

Prints "ok …" or "FAIL …" per check; exits 1 if any failed.
"""
import os
import subprocess
import sys

import numpy as np
import tokenizers
from tokenizers import Tokenizer

FIXTURES = "tests/data/hf_tokenizer"
# Assigned in the BMP after Unicode 14.0, the tables of PCRE2 10.42: its \p{L}
# does not know them, Oniguruma's (Unicode 16) does (docs/hf.md).
NEWER = set(range(0x1C89, 0x1C8B)) | set(range(0xA7CB, 0xA7CE)) | set(range(0xA7DA, 0xA7DD))
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    failures += not ok


def code_point_lines():
    out = []
    for c in range(0x10000):
        if 0xD800 <= c <= 0xDFFF or c == 0x0A or c in NEWER:
            continue
        ch = chr(c)
        out.append(f"a{ch}b {ch}{ch}1{ch} {ch}'S{ch}x'{ch}{ch}  {ch}\t{ch}.\n")
    return "".join(out)


def english(slm_dir):
    path = os.path.join(slm_dir, "english.txt")
    if subprocess.run(["sh", "scripts/corpus.sh", path, "1000000"], capture_output=True).returncode == 0:
        return open(path, encoding="utf-8").read()
    return "".join(f"The cat {i % 97} sat on the mat, and then it ran away.\n" for i in range(20000))


def slm(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode:
        sys.exit("FAIL %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def token_file(path):
    head = np.fromfile(path, dtype=np.uint8, count=32)
    width, count = int(head[12:16].view("<u4")[0]), int(head[16:24].view("<u8")[0])
    return np.fromfile(path, dtype="<u2" if width == 2 else "<u4", offset=32, count=count).astype(np.int64)


def compare(what, got, want, text_of):
    want = np.asarray(want, dtype=np.int64)
    same = got.shape == want.shape and bool((got == want).all())
    detail = f"{len(got)} tokens"
    if not same:
        n = min(len(got), len(want))
        first = int(np.argmax(got[:n] != want[:n])) if (got[:n] != want[:n]).any() else n
        detail += f" against {len(want)}, first differing at {first}, near {text_of(want[max(0, first - 3):first + 3])!r}"
    check(same, f"{what}: {detail}")


def exported(slm_bin, work, text_path, text):
    out = os.path.join(work, "hf")
    slm(slm_bin, "tokenize", "--text", text_path, "--vocab", "2048", "--tokenizer", os.path.join(work, "t.bpe"),
        "--export-hf", out, "--out", os.path.join(work, "slm.tok"))
    ids = token_file(os.path.join(work, "slm.tok"))
    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    want = tok.encode(text, add_special_tokens=False).ids
    compare("tokenizers encodes the text with slm's exported tokenizer as slm does", ids, want, tok.decode)
    check(tok.decode(ids.tolist()) == text, "tokenizers decodes slm's ids back to the text")
    try:
        from transformers import AutoTokenizer
    except ImportError:
        print("skipped: AutoTokenizer (transformers is not installed)")
        return
    auto = AutoTokenizer.from_pretrained(out)
    compare(f"transformers' AutoTokenizer ({type(auto).__name__}) encodes it as slm does", ids,
            auto(text, add_special_tokens=False)["input_ids"], tok.decode)


def imported(slm_bin, work, text_path, text):
    for name in sorted(os.listdir(FIXTURES)):
        d = os.path.join(FIXTURES, name)
        if not os.path.isdir(d):
            continue
        out = os.path.join(work, name + ".tok")
        slm(slm_bin, "tokenize", "--text", text_path, "--hf-tokenizer", d, "--out", out)
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        compare(f"slm tokenize --hf-tokenizer {d} encodes the text as tokenizers does", token_file(out),
                tok.encode(text, add_special_tokens=False).ids, tok.decode)


def main():
    slm_bin, work = sys.argv[1], sys.argv[2]
    fixture = open(os.path.join(FIXTURES, "text.txt"), "rb").read().decode("utf-8", errors="replace")
    text = english(work) + fixture + code_point_lines()
    text_path = os.path.join(work, "text.txt")
    with open(text_path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    print(f"tokenizers {tokenizers.__version__}, numpy {np.__version__}; a text of {len(text.encode())} bytes")
    exported(slm_bin, work, text_path, text)
    imported(slm_bin, work, text_path, text)
    print(f"hf_tokenizers: {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
