// checkpoint.c — the checkpoint file (checkpoint.h): explicit little-endian
// fields, never a struct written raw, so padding and layout cannot leak in.
#include "train/checkpoint.h"

#include "core/atomic_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER_BYTES = 256, VERSION = 1, N_ARRAYS = 3, CHUNK_FLOATS = 1 << 22 };
static const char MAGIC[8] = {'S', 'L', 'M', 'C', 'K', 'P', 'T', '1'};

typedef struct {
    unsigned char *p;
    size_t off;
} cursor;

static void put(cursor *c, const void *v, size_t n) {
    memcpy(c->p + c->off, v, n);
    c->off += n;
}
static void get(cursor *c, void *v, size_t n) {
    memcpy(v, c->p + c->off, n);
    c->off += n;
}

static uint64_t hash_bytes(uint64_t h, const void *x, size_t n) {
    const unsigned char *b = x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

typedef struct {
    slm_model_config cfg;
    slm_ckpt_meta meta;
    uint64_t n_floats, n_arrays, checksum;
} header;

static void encode(unsigned char *buf, const header *h) {
    cursor c = {buf, 0};
    memset(buf, 0, HEADER_BYTES);
    uint32_t version = VERSION, hb = HEADER_BYTES;
    int32_t shape[] = {h->cfg.n_layers, h->cfg.d_model, h->cfg.n_heads, h->cfg.n_kv_heads,
                       h->cfg.ffn_dim,  h->cfg.vocab,   h->cfg.seq_len, h->cfg.tie_embeddings};
    int32_t run[] = {h->meta.seq_len, h->meta.micro_batch, h->meta.global_batch};
    put(&c, MAGIC, 8);
    put(&c, &version, 4);
    put(&c, &hb, 4);
    put(&c, shape, sizeof shape);
    put(&c, &h->cfg.rope_theta, 4);
    put(&c, &h->cfg.norm_eps, 4);
    put(&c, h->cfg.name, sizeof h->cfg.name);
    put(&c, run, sizeof run);
    put(&c, &h->meta.step, 8);
    put(&c, &h->meta.rng_state, 8);
    put(&c, &h->meta.data_pos, 8);
    put(&c, &h->n_floats, 8);
    put(&c, &h->n_arrays, 8);
    put(&c, &h->checksum, 8);
}

static int decode(const char *path, unsigned char *buf, header *h, slm_err *err) {
    cursor c = {buf, 0};
    char magic[8];
    uint32_t version, hb;
    int32_t shape[8], run[3];
    get(&c, magic, 8);
    if (memcmp(magic, MAGIC, 8)) return slm_fail(err, "%s: not a slm checkpoint (bad magic)", path);
    get(&c, &version, 4);
    get(&c, &hb, 4);
    if (version != VERSION || hb != HEADER_BYTES)
        return slm_fail(err, "%s: checkpoint version %u is not supported (expected %d)", path, version, VERSION);
    memset(h, 0, sizeof *h);
    get(&c, shape, sizeof shape);
    get(&c, &h->cfg.rope_theta, 4);
    get(&c, &h->cfg.norm_eps, 4);
    get(&c, h->cfg.name, sizeof h->cfg.name);
    h->cfg.name[sizeof h->cfg.name - 1] = 0;
    get(&c, run, sizeof run);
    get(&c, &h->meta.step, 8);
    get(&c, &h->meta.rng_state, 8);
    get(&c, &h->meta.data_pos, 8);
    get(&c, &h->n_floats, 8);
    get(&c, &h->n_arrays, 8);
    get(&c, &h->checksum, 8);
    int *dst[] = {&h->cfg.n_layers, &h->cfg.d_model, &h->cfg.n_heads, &h->cfg.n_kv_heads,
                  &h->cfg.ffn_dim,  &h->cfg.vocab,   &h->cfg.seq_len, &h->cfg.tie_embeddings};
    for (int i = 0; i < 8; i++) *dst[i] = shape[i];
    h->meta.seq_len = run[0];
    h->meta.micro_batch = run[1];
    h->meta.global_batch = run[2];
    if (h->meta.step > 0x7fffffff || h->meta.seq_len < 1 || h->meta.micro_batch < 1 || h->meta.global_batch < 1)
        return slm_fail(err, "%s: corrupt checkpoint header (step %llu, batch %d/%d, seq %d)", path,
                        (unsigned long long)h->meta.step, h->meta.micro_batch, h->meta.global_batch, h->meta.seq_len);
    slm_err why;
    if (slm_model_config_validate(&h->cfg, &why))
        return slm_fail(err, "%s: corrupt checkpoint header (%s)", path, why.msg);
    slm_param_layout lay;
    slm_param_layout_init(&lay, &h->cfg);
    uint64_t expect = lay.total;
    slm_param_layout_free(&lay);
    if (h->n_floats != expect || h->n_arrays != N_ARRAYS)
        return slm_fail(err, "%s: corrupt checkpoint header (%llu floats x %llu arrays, expected %llu x %d)", path,
                        (unsigned long long)h->n_floats, (unsigned long long)h->n_arrays, (unsigned long long)expect,
                        N_ARRAYS);
    return 0;
}

// The checksum covers the payload and then the header itself (encoded with a
// zero checksum), so a damaged step, RNG state or data position is caught too.
static uint64_t header_hash(uint64_t payload_hash, const header *h) {
    header zeroed = *h;
    unsigned char buf[HEADER_BYTES];
    zeroed.checksum = 0;
    encode(buf, &zeroed);
    return hash_bytes(payload_hash, buf, HEADER_BYTES);
}

static int write_array(FILE *f, const slm_model *m, const float *dev, float *chunk, uint64_t *hash) {
    for (size_t off = 0; off < m->layout.total; off += CHUNK_FLOATS) {
        size_t n = m->layout.total - off < CHUNK_FLOATS ? m->layout.total - off : CHUNK_FLOATS;
        m->be->to_host(chunk, dev + off, n * sizeof(float));
        *hash = hash_bytes(*hash, chunk, n * sizeof(float));
        if (fwrite(chunk, sizeof(float), n, f) != n) return -1;
    }
    return 0;
}

int slm_checkpoint_save(const char *path, const slm_model *m, const slm_adamw_state *opt, const slm_ckpt_meta *meta,
                        slm_err *err) {
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "checkpoint", err)) return -1;
    FILE *f = af.f;
    header h = {m->cfg, *meta, m->layout.total, N_ARRAYS, 0};
    unsigned char buf[HEADER_BYTES];
    encode(buf, &h);  // the checksum is filled in once the payload is written
    float *chunk = slm_xmalloc((size_t)CHUNK_FLOATS * sizeof(float));
    uint64_t hash = 0xcbf29ce484222325ull;
    int bad = fwrite(buf, 1, HEADER_BYTES, f) != HEADER_BYTES || write_array(f, m, m->params, chunk, &hash) ||
              write_array(f, m, opt->m, chunk, &hash) || write_array(f, m, opt->v, chunk, &hash);
    free(chunk);
    h.checksum = header_hash(hash, &h);
    encode(buf, &h);
    bad = bad || fseek(f, 0, SEEK_SET) || fwrite(buf, 1, HEADER_BYTES, f) != HEADER_BYTES;
    return slm_atomic_commit(&af, bad, err);
}

static int read_header(FILE *f, const char *path, header *h, slm_err *err) {
    unsigned char buf[HEADER_BYTES];
    if (fread(buf, 1, HEADER_BYTES, f) != HEADER_BYTES)
        return slm_fail(err, "%s: truncated checkpoint (shorter than its %d-byte header)", path, HEADER_BYTES);
    if (decode(path, buf, h, err)) return -1;
    struct stat st;
    uint64_t want = HEADER_BYTES + h->n_floats * h->n_arrays * sizeof(float);
    if (fstat(fileno(f), &st) || (uint64_t)st.st_size != want)
        return slm_fail(err, "%s: truncated checkpoint (%lld bytes, the header says %llu)", path, (long long)st.st_size,
                        (unsigned long long)want);
    return 0;
}

int slm_checkpoint_peek(const char *path, slm_model_config *cfg, slm_ckpt_meta *meta, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open checkpoint %s", path);
    header h;
    int rc = read_header(f, path, &h, err);
    fclose(f);
    if (rc) return -1;
    *cfg = h.cfg;
    *meta = h.meta;
    return 0;
}

static int same_shape(const slm_model_config *a, const slm_model_config *b) {
    return a->n_layers == b->n_layers && a->d_model == b->d_model && a->n_heads == b->n_heads &&
           a->n_kv_heads == b->n_kv_heads && a->ffn_dim == b->ffn_dim && a->vocab == b->vocab &&
           a->seq_len == b->seq_len && a->tie_embeddings == b->tie_embeddings && a->rope_theta == b->rope_theta &&
           a->norm_eps == b->norm_eps;
}

int slm_checkpoint_load(const char *path, slm_model *m, slm_adamw_state *opt, slm_ckpt_meta *meta, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open checkpoint %s", path);
    header h;
    if (read_header(f, path, &h, err)) {
        fclose(f);
        return -1;
    }
    if (!same_shape(&h.cfg, &m->cfg)) {
        fclose(f);
        return slm_fail(err,
                        "%s: checkpoint is for a different model (layers %d, d_model %d, heads %d/%d, ffn %d, vocab "
                        "%d); this run has layers %d, d_model %d, heads %d/%d, ffn %d, vocab %d",
                        path, h.cfg.n_layers, h.cfg.d_model, h.cfg.n_heads, h.cfg.n_kv_heads, h.cfg.ffn_dim,
                        h.cfg.vocab, m->cfg.n_layers, m->cfg.d_model, m->cfg.n_heads, m->cfg.n_kv_heads, m->cfg.ffn_dim,
                        m->cfg.vocab);
    }
    float *dst[N_ARRAYS] = {m->params, opt ? opt->m : NULL, opt ? opt->v : NULL};
    float *chunk = slm_xmalloc((size_t)CHUNK_FLOATS * sizeof(float));
    uint64_t hash = 0xcbf29ce484222325ull;
    int bad = 0;
    for (int a = 0; a < N_ARRAYS && !bad; a++)
        for (size_t off = 0; off < h.n_floats && !bad; off += CHUNK_FLOATS) {
            size_t n = h.n_floats - off < CHUNK_FLOATS ? h.n_floats - off : CHUNK_FLOATS;
            bad = fread(chunk, sizeof(float), n, f) != n;
            hash = hash_bytes(hash, chunk, n * sizeof(float));
            if (dst[a] && !bad) m->be->to_device(dst[a] + off, chunk, n * sizeof(float));
        }
    free(chunk);
    fclose(f);
    if (bad) return slm_fail(err, "%s: read error in the checkpoint payload", path);
    if (header_hash(hash, &h) != h.checksum)
        return slm_fail(err, "%s: checksum mismatch: the checkpoint is corrupt", path);
    *meta = h.meta;
    return 0;
}
