#!/usr/bin/env python3
"""make_tokenizer_fixtures.py — fixtures for tests/test_hf_tokenizer.c.

Trains a tiny byte-level BPE with the Hugging Face `tokenizers` library
(Llama-3's split regex, then ByteLevel; a few hundred merges; <s>, </s> and
<pad> as special tokens) on a generated multilingual corpus, writes it in four
variants that differ in what slm must reproduce, and encodes a test text with
each:

  llama3  Split(Llama-3 regex) + ByteLevel(use_regex=False), ignore_merges,
          merges as ["a", "b"] pairs, a non-special added token <sep> with
          lstrip, rstrip and normalized (found in a second pass)
  gpt2    ByteLevel(add_prefix_space=True, use_regex=True) alone (GPT-2's
          regex), merges as "a b" strings
  smollm  Digits(individual_digits=True) + ByteLevel(use_regex=True)
  splits  every Split behaviour, a String pattern, invert, and a Split after
          ByteLevel (over the byte-level characters)
  qwen2   the NFC normalizer, Qwen2's split regex (single digits), and a
          normalized added token whose content is not in NFC

The test text (text.txt) holds English with contractions, accents, CJK,
Arabic, Hebrew, emoji (ZWJ sequences, flags, skin tones), runs of spaces, tabs
and other Unicode spaces (NBSP, U+3000, U+180E, NEL), runs of digits (ASCII,
Arabic-Indic, fullwidth, superscript), the special tokens written in the
text, text not in NFC (decomposed accents, Hangul jamo, the Angstrom sign),
NULs, and invalid UTF-8. Python decodes it with errors="replace" (each
maximal ill-formed subpart becomes U+FFFD), which is how slm reads such bytes.

Each DIR/ids.txt has one line per line of text.txt (the line with its "\\n",
encoded alone), then one line for the whole text encoded at once: the ids of
Tokenizer.encode(text, add_special_tokens=False), space-separated.

    python3 tests/reference/make_tokenizer_fixtures.py   # writes tests/data/hf_tokenizer/

Made with tokenizers 0.23.3 (Python 3.11); rerunning it gives the same bytes.
"""
import argparse
import json
import os
import random

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SEED = 20240611
VOCAB_SIZE = 600  # 256 bytes, 3 special tokens, the rest merges
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = LLAMA3_REGEX.replace(r"\p{N}{1,3}", r"\p{N}")

WORDS = ("the of and to in is was he for it with as his on be at by had are but from or have an they which one "
         "you were all we when there can said who will more if no out so what up about time into than them "
         "don't I'm they're she'll we've it's isn't WON'T They'D").split()
FOREIGN = ("café crème naïve façade Müller über straße niño año señor être à déjà où Ångström smörgåsbord "
           "Żółć gęślą jaźń Ελληνικά κόσμε Русский язык").split()
CJK = ["你好", "世界", "日本語", "テキスト", "カタカナ", "ひらがな", "한국어", "문장", "中文", "汉字", "。", "、", "！"]
ARABIC = ["مرحبا", "بالعالم", "اللغة", "العربية", "שלום", "עולם"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🎉", "🤖"]


def corpus(rng):
    """Training lines: words of every kind, numbers, a little punctuation."""
    lines = []
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(3, 14)):
            r = rng.random()
            pool = WORDS if r < 0.55 else FOREIGN if r < 0.7 else CJK if r < 0.8 else ARABIC if r < 0.88 else EMOJI
            parts.append(rng.choice(pool))
            if rng.random() < 0.1:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 7))))
        lines.append(" ".join(parts) + rng.choice([".", ",", "!", "?", "", ":"]))
    return lines


def test_text():
    """The text encoded by the fixtures, as bytes (some of them invalid UTF-8)."""
    lines = [
        "The quick brown fox jumps over the lazy dog.",
        "I'm sure they're fine; she'll come, WE'VE SEEN IT'S done, don't worry, it'S ok, x'ſ.",
        "café crème, naïve façade — Müller über die Straße; niño, año, déjà vu.",
        "Ελληνικά: καλημέρα κόσμε. Русский: Съешь же ещё этих мягких французских булок.",
        "你好，世界。日本語のテキスト、カタカナとひらがな。한국어 문장입니다.",
        "مرحبا بالعالم! اللغة العربية جميلة. שלום עולם.",
        "emoji: 😀😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇩🇪 ❤️ 🎉🤖",
        "digits: 1234567890 3.14159 1,000,000 007 ٣٤٥٦ １２３ x²³ ½",
        "spaces:  two   three    four     five",
        "\ttab\t\ttabs\t \t mixed",
        "trailing spaces   ",
        "    ",
        "",
        "unicode spaces:\u00a0nbsp\u3000ideographic\u2009thin\u180emongolian\u0085nel\u2028ls end",
        "windows line\r",
        "<s>hello</s> <s> bye </s><s></s>",
        "text <sep> more text<sep>end   <sep>   spaced",
        "<pad><pad> not special: <s <s/> </ s> <ss>",
        "longword" * 20,
        "9" * 40 + " " + "12" * 15,
        "mixed123abc456def 3rd 21st 2024-06-11T12:00:00Z",
        "punctuation!!! ??? ... --- ((( ))) [] {} <> @#$%^&*_+=~`|\\",
        "a\u0000NUL\u0000\u0000byte",
        "nfc: cafe\u0301 A\u030a \u212b \u1112\u1161\u11ab\u1100\u1173\u11af o\u0308\u0304 q\u0323\u0307 <sép> <se\u0301p>",
        "the of and to in is was he for it with as his on be at by had are but from or",
    ]
    text = "\n".join(lines).encode("utf-8") + b"\n"
    invalid = (b"invalid: \xff\xfe | \xc3( | \xe2\x82 | \xed\xa0\x80 | \xf0\x9f\x98 | \xc0\x80 | \x80\x80 | "
               b"\xf4\x90\x80\x80 | ok \xe2\x82\xac\n")
    return text + invalid + b"end of text\xf0\x9f\x98\x80\n"


def train(rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(LLAMA3_REGEX), "isolated"),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(rng), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 0)])
    return tok


def byte_level(add_prefix_space, use_regex):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True, "use_regex": use_regex}


def split(pattern, behavior, invert=False, kind="Regex"):
    return {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}


def variants(base):
    """name → tokenizer.json object, each a change of the trained one."""
    out = {}
    j = json.loads(base.to_str())
    j["model"]["ignore_merges"] = True
    out["llama3"] = j

    j = json.loads(base.to_str())
    j["pre_tokenizer"] = byte_level(True, True)
    j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
    j["post_processor"] = None
    out["gpt2"] = j

    j = json.loads(base.to_str())
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, byte_level(False, True)]}
    out["smollm"] = j

    j = json.loads(base.to_str())
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        split("\n", "MergedWithPrevious", kind="String"),
        {"type": "Sequence", "pretokenizers": [split(r"\s+", "MergedWithNext"), split(r"[.,;:!?]", "Contiguous")]},
        split(r"\p{N}+", "MergedWithNext", invert=True),
        byte_level(False, False),
        split("\u0120", "MergedWithNext"),  # 'Ġ', the space after ByteLevel
        split(r"[\u0100-\u0120]{2}", "Removed"),  # pairs of control or space bytes
    ]}
    out["splits"] = j

    j = json.loads(base.to_str())
    j["normalizer"] = {"type": "NFC"}
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = QWEN2_REGEX
    out["qwen2"] = j
    return out


def add_sep(tok):
    tok.add_tokens([AddedToken("<sep>", lstrip=True, rstrip=True, normalized=True, special=False)])


def add_sep_nfd(tok):  # "<sép>" written decomposed: found in the NFC text as "<sép>" composed
    tok.add_tokens([AddedToken("<se\u0301p>", normalized=True, special=False)])


def ids_lines(tok, text):
    lines = text.split(b"\n")[:-1]
    rows = [tok.encode((line + b"\n").decode("utf-8", errors="replace"), add_special_tokens=False).ids
            for line in lines]
    rows.append(tok.encode(text.decode("utf-8", errors="replace"), add_special_tokens=False).ids)
    return "".join(" ".join(map(str, r)) + "\n" for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "hf_tokenizer"))
    args = ap.parse_args()
    base = train(random.Random(SEED))
    text = test_text()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "text.txt"), "wb") as f:
        f.write(text)
    for name, j in variants(base).items():
        tok = Tokenizer.from_str(json.dumps(j))
        if name == "llama3":
            add_sep(tok)
        if name == "qwen2":
            add_sep_nfd(tok)
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(tok.to_str())
            f.write("\n")
        with open(os.path.join(d, "ids.txt"), "w") as f:
            f.write(ids_lines(tok, text))
    print("wrote %s (tokenizers %s, %d merges)" % (args.out, tokenizers.__version__,
                                                   len(json.loads(base.to_str())["model"]["merges"])))


if __name__ == "__main__":
    main()
