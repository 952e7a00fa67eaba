// hf_pretok.h — the pre-tokenizer of a byte-level tokenizer.json: a sequence
// of steps, each cutting every piece of text into smaller ones, as tokenizers
// runs them. Split (a regex or a string; behavior Removed, Isolated,
// MergedWithPrevious, MergedWithNext or Contiguous; invert), Digits (a Split
// on \p{N}: Rust's char::is_numeric) and ByteLevel (add_prefix_space; with
// use_regex, a Split on GPT-2's regex; then each byte becomes one character
// of the byte-level alphabet, which later Splits see), in any nesting of
// Sequence. Exactly one ByteLevel step is required; any other type is
// refused by name.
#pragma once
#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/err.h"

typedef struct slm_hf_pretok slm_hf_pretok;

// node: the "pre_tokenizer" value; path names the file in messages. NULL with err.
slm_hf_pretok *slm_hf_pretok_parse(const cJSON *node, const char *path, slm_err *err);
void slm_hf_pretok_free(slm_hf_pretok *p);

// Called with each piece, in order, as the bytes it stands for.
typedef void (*slm_hf_piece_fn)(void *ctx, const unsigned char *bytes, size_t n);
// Cuts the valid UTF-8 s[0..n) into pieces; 0, or -1 with err (a regex gave
// up). Not for two threads at once.
int slm_hf_pretok_run(slm_hf_pretok *p, const unsigned char *s, size_t n, slm_hf_piece_fn emit, void *ctx,
                      slm_err *err);
