// bpe_hf.c — slm's BPE as a Hugging Face tokenizer (bpe_hf.h). The split
// regex is built from slm_bpe_byte_class, byte by byte, so that it follows
// the pre-splitting of bpe.c wherever that goes. With S, L, D, P the sets of
// the byte-level characters of each class, Ġ the space and M the longest
// chunk, a chunk of bpe.c is the first of
//   Ġ L{1,M-1} | Ġ D{1,M-1} | Ġ P{1,M-1}       one leading space and a run
//   L{1,M} | D{1,M} | P{1,M}                     a run
//   S{1,M-1}(?=Ġ[^S])                            whitespace that leaves its last space to the next run
//   S{1,M}                                       whitespace
// that matches, matched where the last chunk ended: the same cut as
// chunk_len, which counts bytes as these count characters.
#include "data/bpe_hf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/json_file.h"
#include "data/byte_level.h"
#include "data/u64map.h"

// The class's characters as the inside of a [...] class, in ranges; returns its length.
static size_t class_set(char *out, int cls) {
    size_t k = 0;
    uint32_t cps[256];
    int n = 0;
    for (int cp = 0; cp < 0x200; cp++) {
        int b = slm_byte_level_byte((uint32_t)cp);
        if (b >= 0 && slm_bpe_byte_class((unsigned char)b) == cls) cps[n++] = (uint32_t)cp;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && cps[j + 1] == cps[j] + 1) j++;
        k += (size_t)sprintf(out + k, j > i ? "\\x{%X}-\\x{%X}" : "\\x{%X}", cps[i], cps[j]);
        i = j + 1;
    }
    out[k] = 0;
    return k;
}

// The Split regex of the header comment: malloc'd.
static char *split_regex(void) {
    char set[SLM_BPE_CLASSES][2048];
    for (int c = 0; c < SLM_BPE_CLASSES; c++) class_set(set[c], c);
    const char *L = set[SLM_BPE_LETTER], *D = set[SLM_BPE_DIGIT], *P = set[SLM_BPE_PUNCT], *S = set[SLM_BPE_SPACE];
    const int M = SLM_BPE_MAX_CHUNK;
    const unsigned sp = slm_byte_level_char(' ');
    char *rx = slm_xmalloc(16 * 2048);
    snprintf(rx, 16 * 2048,
             "\\x{%X}[%s]{1,%d}|\\x{%X}[%s]{1,%d}|\\x{%X}[%s]{1,%d}|[%s]{1,%d}|[%s]{1,%d}|[%s]{1,%d}|"
             "[%s]{1,%d}(?=\\x{%X}[^%s])|[%s]{1,%d}",
             sp, L, M - 1, sp, D, M - 1, sp, P, M - 1, L, M, D, M, P, M, S, M - 1, sp, S, S, M);
    return rx;
}

static cJSON *byte_level(void) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", 0);
    cJSON_AddBoolToObject(o, "trim_offsets", 0);
    cJSON_AddBoolToObject(o, "use_regex", 0);
    return o;
}

static cJSON *pre_tokenizer(void) {
    cJSON *seq = cJSON_CreateObject(), *steps = cJSON_CreateArray(), *split = cJSON_CreateObject();
    cJSON *pattern = cJSON_CreateObject();
    char *rx = split_regex();
    cJSON_AddStringToObject(pattern, "Regex", rx);
    free(rx);
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddItemToObject(split, "pattern", pattern);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddStringToObject(seq, "type", "Sequence");
    cJSON_AddItemToArray(steps, byte_level());
    cJSON_AddItemToArray(steps, split);
    cJSON_AddItemToObject(seq, "pretokenizers", steps);
    return seq;
}

// Token id's spelling in the byte-level alphabet, NUL-terminated, in buf (room for 2 × its bytes + 1).
static const char *spelling(const slm_bpe *bpe, uint32_t id, char *buf) {
    size_t len;
    const unsigned char *b = slm_bpe_token_bytes(bpe, id, &len);
    buf[slm_byte_level_map(b, len, (unsigned char *)buf)] = 0;
    return buf;
}

// -1 with err when two tokens have the same bytes (a vocabulary maps a spelling to one id).
static int check_distinct(const slm_bpe *bpe, slm_err *err) {
    const uint32_t V = (uint32_t)slm_bpe_vocab_size(bpe);
    slm_u64map seen;  // hash of the bytes → id; a taken hash moves on to hash+1, …
    slm_u64map_init(&seen, 1024);
    int rc = 0;
    for (uint32_t id = 0; id < V && !rc; id++) {
        size_t len, len2;
        const unsigned char *b = slm_bpe_token_bytes(bpe, id, &len);
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001b3ull;
        for (;; h++) {
            int isnew;
            uint32_t *slot = slm_u64map_get(&seen, h, &isnew);
            if (isnew) {
                *slot = id;
                break;
            }
            const unsigned char *b2 = slm_bpe_token_bytes(bpe, *slot, &len2);
            if (len2 == len && !memcmp(b, b2, len)) {
                rc = slm_fail(err,
                              "cannot write the tokenizer for Hugging Face: tokens %u and %u have the same %zu "
                              "bytes, and a tokenizer.json vocabulary gives each spelling one id",
                              *slot, id, len);
                break;
            }
        }
    }
    slm_u64map_free(&seen);
    return rc;
}

static cJSON *model(const slm_bpe *bpe) {
    const int V = slm_bpe_vocab_size(bpe);
    cJSON *m = cJSON_CreateObject(), *vocab = cJSON_CreateObject(), *merges = cJSON_CreateArray();
    char *a = slm_xmalloc(2 * SLM_BPE_MAX_CHUNK + 1), *b = slm_xmalloc(2 * SLM_BPE_MAX_CHUNK + 1);
    for (int id = 0; id < V; id++) cJSON_AddNumberToObject(vocab, spelling(bpe, (uint32_t)id, a), id);
    for (int i = 0; i + 256 < V; i++) {
        uint32_t x, y;
        slm_bpe_merge(bpe, i, &x, &y);
        const char *pair[2] = {spelling(bpe, x, a), spelling(bpe, y, b)};
        cJSON_AddItemToArray(merges, cJSON_CreateStringArray(pair, 2));
    }
    free(a);
    free(b);
    cJSON_AddStringToObject(m, "type", "BPE");
    cJSON_AddNullToObject(m, "dropout");
    cJSON_AddNullToObject(m, "unk_token");
    cJSON_AddNullToObject(m, "continuing_subword_prefix");
    cJSON_AddNullToObject(m, "end_of_word_suffix");
    cJSON_AddBoolToObject(m, "fuse_unk", 0);
    cJSON_AddBoolToObject(m, "byte_fallback", 0);
    cJSON_AddBoolToObject(m, "ignore_merges", 0);
    cJSON_AddItemToObject(m, "vocab", vocab);
    cJSON_AddItemToObject(m, "merges", merges);
    return m;
}

static cJSON *tokenizer_json(const slm_bpe *bpe) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON_AddItemToObject(root, "added_tokens", cJSON_CreateArray());
    cJSON_AddNullToObject(root, "normalizer");
    cJSON_AddItemToObject(root, "pre_tokenizer", pre_tokenizer());
    cJSON_AddNullToObject(root, "post_processor");
    cJSON_AddItemToObject(root, "decoder", byte_level());
    cJSON_AddItemToObject(root, "model", model(bpe));
    return root;
}

// What transformers' AutoTokenizer reads beside tokenizer.json.
static cJSON *tokenizer_config(void) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "tokenizer_class", "PreTrainedTokenizerFast");
    cJSON_AddBoolToObject(c, "clean_up_tokenization_spaces", 0);
    cJSON_AddItemToObject(c, "added_tokens_decoder", cJSON_CreateObject());
    return c;
}

static int write_json(const char *dir, const char *name, cJSON *root, slm_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = slm_json_write_file(path, "Hugging Face tokenizer file", root, err);
    cJSON_Delete(root);
    return rc;
}

int slm_bpe_write_hf(const slm_bpe *bpe, const char *dir, slm_err *err) {
    if (check_distinct(bpe, err)) return -1;
    if (mkdir(dir, 0777) && errno != EEXIST)
        return slm_fail(err, "cannot make the directory %s for the Hugging Face tokenizer: %s", dir, strerror(errno));
    if (write_json(dir, "tokenizer.json", tokenizer_json(bpe), err)) return -1;
    return write_json(dir, "tokenizer_config.json", tokenizer_config(), err);
}
