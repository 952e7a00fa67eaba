// tokenizer.c — one set of calls over the two tokenizers (tokenizer.h).
#include "data/tokenizer.h"

uint32_t slm_tokenizer_vocab(const slm_tokenizer *t) {
    return t->hf ? slm_hftok_vocab_size(t->hf) : (uint32_t)slm_bpe_vocab_size(t->bpe);
}

uint32_t *slm_tokenizer_encode(const slm_tokenizer *t, const unsigned char *text, size_t n, size_t *n_tokens,
                               size_t *n_repaired, slm_err *err) {
    *n_repaired = 0;
    if (t->hf) return slm_hftok_encode(t->hf, text, n, n_tokens, n_repaired, err);
    return slm_bpe_encode(t->bpe, text, n, n_tokens);
}

const unsigned char *slm_tokenizer_token_bytes(const slm_tokenizer *t, uint32_t id, size_t *len) {
    return t->hf ? slm_hftok_token_bytes(t->hf, id, len) : slm_bpe_token_bytes(t->bpe, id, len);
}

void slm_tokenizer_free(slm_tokenizer *t) {
    slm_bpe_free(t->bpe);
    slm_hftok_free(t->hf);
    t->bpe = NULL;
    t->hf = NULL;
}
