// hf_added.h — the added tokens of a tokenizer.json (BOS, EOS and other
// special tokens), found in the text before the pre-tokenizer runs, as
// tokenizers' AddedVocabulary does: first the tokens with normalized false
// over the whole text, then those with normalized true over what lies
// between; each time the leftmost match, the longest there, then on from its
// end (Aho-Corasick, leftmost-longest). lstrip and rstrip take the
// White_Space beside a match into it. Ids are given as tokenizers gives them
// (the vocabulary's id of the same string, else the next past the
// vocabulary's size, in list order), and a file whose ids disagree is
// refused, as is single_word.
#pragma once
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/hf_bpe.h"

typedef struct slm_hf_added slm_hf_added;

// list: the "added_tokens" value (NULL: none); with nfc, the contents of the
// normalized tokens are matched (and decode) in NFC, as tokenizers' normalized
// cache has them; path names the file. NULL with err.
slm_hf_added *slm_hf_added_parse(const cJSON *list, const slm_hf_bpe *model, int nfc, const char *path, slm_err *err);
void slm_hf_added_free(slm_hf_added *a);
// One more than the largest added id (0 without any).
uint32_t slm_hf_added_id_limit(const slm_hf_added *a);
// The content of the added token id, or NULL when id is not one.
const char *slm_hf_added_content(const slm_hf_added *a, uint32_t id);

typedef struct {
    int (*text)(void *ctx, const unsigned char *s, size_t n);  // text between matches; 0 or -1 to stop
    void (*token)(void *ctx, uint32_t id);                     // a match
    void *ctx;
} slm_hf_added_out;

// The matches of the tokens with the given normalized flag in the valid UTF-8
// s[0..n), and the text around them, in order; -1 when out->text stopped.
int slm_hf_added_split(const slm_hf_added *a, int normalized, const unsigned char *s, size_t n,
                       const slm_hf_added_out *out);
