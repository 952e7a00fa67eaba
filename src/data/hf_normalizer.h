// hf_normalizer.h — the normalizer of a tokenizer.json: none, or NFC (as
// Qwen2's), through utf8proc. tokenizers applies it to the text between the
// added tokens that are not normalized, before looking for the normalized
// ones there (tokenizers' own NFC tables are older than utf8proc's: 108
// combining marks of later Unicode versions reorder differently when they
// follow another mark, docs/hf.md). Any other normalizer is refused by name.
#pragma once
#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/err.h"

// node: the "normalizer" value (NULL: none); *nfc says whether it is NFC
// (alone, or a Sequence of NFCs and nothing else). 0, or -1 with err.
int slm_hf_normalizer_parse(const cJSON *node, const char *path, int *nfc, slm_err *err);
// The NFC of the valid UTF-8 s[0..n) (NULs kept): malloc'd, *out_n bytes.
unsigned char *slm_hf_nfc(const unsigned char *s, size_t n, size_t *out_n);
