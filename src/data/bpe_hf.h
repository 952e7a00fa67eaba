// bpe_hf.h — slm's own byte-level BPE (bpe.h) written as a Hugging Face
// tokenizer: DIR/tokenizer.json and DIR/tokenizer_config.json, which the
// tokenizers library and transformers' AutoTokenizer load, and which encode
// every valid UTF-8 text to the same ids as slm_bpe_encode. The vocabulary is
// in the byte-level alphabet (byte_level.h): ids 0–255 the bytes, 256+i the
// merge i; the merges in slm's order; no added tokens. slm's pre-splitting is
// written as a ByteLevel step (no regex, no prefix space) and then one Split
// whose regex, over the byte-level characters (one per byte, so that counts
// are in bytes as slm counts them), cuts exactly slm's chunks.
#pragma once
#include "core/err.h"
#include "data/bpe.h"

// Makes dir when missing; each file is written atomically. A tokenizer with
// two tokens of the same bytes (possible only in a hand-made file: a
// tokenizer.json vocabulary maps each spelling to one id) is refused. 0, or
// -1 with err.
int slm_bpe_write_hf(const slm_bpe *bpe, const char *dir, slm_err *err);
