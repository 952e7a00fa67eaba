// hf_tokenizer.h — a Hugging Face tokenizer.json of the GPT-2 family
// (byte-level BPE: GPT-2, SmolLM, Llama-3, Qwen2), encoding exactly as the
// tokenizers library's Tokenizer.encode(text, add_special_tokens=False):
// added tokens first (hf_added.h), then the pre-tokenizer (hf_pretok.h), then
// the BPE model (hf_bpe.h). The normalizer is none or NFC (hf_normalizer.h:
// Lowercase, NFKC, … are refused by name), the post-processor is not applied (a corpus is one text:
// BOS/EOS are wherever the text spells them), truncation and padding are
// ignored. Text that is not valid UTF-8 is first repaired as Python's
// bytes.decode("utf-8", errors="replace") does (utf8.h), so the ids are those
// tokenizers gives for that decoded string.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct slm_hftok slm_hftok;

// path: a tokenizer.json, or a directory holding one. -1 with err (one line
// naming the file and what is wrong or not supported).
int slm_hftok_load(slm_hftok **out, const char *path, slm_err *err);
void slm_hftok_free(slm_hftok *t);
// One more than the largest id (vocabulary and added tokens).
uint32_t slm_hftok_vocab_size(const slm_hftok *t);
// The ids of text[0..n): malloc'd, *n_tokens of them; *n_repaired: the ill-formed
// UTF-8 subparts replaced by U+FFFD. NULL with err when a regex gave up.
uint32_t *slm_hftok_encode(slm_hftok *t, const unsigned char *text, size_t n, size_t *n_tokens, size_t *n_repaired,
                           slm_err *err);
// The bytes of one token as tokenizers' ByteLevel decoder gives them (an added
// token's content as it is); NULL and *len = 0 for an id that names no token.
const unsigned char *slm_hftok_token_bytes(const slm_hftok *t, uint32_t id, size_t *len);
