// checkpoint.c — the checkpoint files of checkpoint.h: explicit little-endian
// fields, never a struct written raw, so padding and layout cannot leak in.
#include "train/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "train/checkpoint_manifest.h"

// VERSION_SCALED: a model with RoPE scaling, written only then, so that every
// other checkpoint stays version 2 and a reader that predates the scaling
// refuses a checkpoint it would run wrongly.
enum {
    HEADER_BYTES = 256,
    VERSION = 2,
    VERSION_SCALED = 3,
    N_ARRAYS = 3,
    CHUNK_FLOATS = 1 << 22,
    MAX_SHARDS = 1 << 16
};
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
static const uint64_t HASH_SEED = 0xcbf29ce484222325ull;

typedef struct {
    uint32_t version;  // what the file says (1: one whole file, no shard fields)
    slm_model_config cfg;
    slm_ckpt_meta meta;
    uint64_t n_floats, n_arrays, checksum;
    uint32_t shard_rank, shard_world;
} header;

// Floats per array in shard r of W of this layout; with `unit`, only the units before it.
static uint64_t shard_floats(const slm_param_layout *lay, int r, int W, int unit) {
    uint64_t n = 0;
    size_t begin;
    for (int u = 0; u < unit; u++) n += slm_shard_slice(lay->unit_size[u], r, W, &begin);
    return n;
}

static void encode(unsigned char *buf, const header *h) {
    cursor c = {buf, 0};
    memset(buf, 0, HEADER_BYTES);
    uint32_t hb = HEADER_BYTES, data_world = (uint32_t)h->meta.data_world;
    int32_t shape[] = {h->cfg.n_layers, h->cfg.d_model, h->cfg.n_heads, h->cfg.n_kv_heads,
                       h->cfg.ffn_dim,  h->cfg.vocab,   h->cfg.seq_len, h->cfg.tie_embeddings};
    int32_t run[] = {h->meta.seq_len, h->meta.micro_batch, h->meta.global_batch};
    put(&c, MAGIC, 8);
    put(&c, &h->version, 4);
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
    if (h->version == 1) return;  // version 1 ends here (zero padding)
    put(&c, &h->shard_rank, 4);
    put(&c, &h->shard_world, 4);
    put(&c, &data_world, 4);
    if (h->version < VERSION_SCALED) return;
    const slm_rope_scaling *rs = &h->cfg.rope_scaling;
    int32_t original = rs->original_max_pos;
    put(&c, &rs->factor, 4);
    put(&c, &rs->low_freq_factor, 4);
    put(&c, &rs->high_freq_factor, 4);
    put(&c, &original, 4);
}

static void decode_rope_scaling(cursor *c, slm_rope_scaling *rs) {
    int32_t original;
    get(c, &rs->factor, 4);
    get(c, &rs->low_freq_factor, 4);
    get(c, &rs->high_freq_factor, 4);
    get(c, &original, 4);
    rs->original_max_pos = original;
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
    if (version < 1 || version > VERSION_SCALED || hb != HEADER_BYTES)
        return slm_fail(err, "%s: checkpoint version %u is not supported (expected 1 to %d)", path, version,
                        VERSION_SCALED);
    memset(h, 0, sizeof *h);
    h->version = version;
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
    uint32_t data_world;
    get(&c, &h->shard_rank, 4);  // version 1 left these zero: one whole file of one process's run
    get(&c, &h->shard_world, 4);
    get(&c, &data_world, 4);
    if (version == 1) h->shard_world = data_world = 1;
    h->meta.data_world = (int)data_world;
    if (version == VERSION_SCALED) decode_rope_scaling(&c, &h->cfg.rope_scaling);
    int *dst[] = {&h->cfg.n_layers, &h->cfg.d_model, &h->cfg.n_heads, &h->cfg.n_kv_heads,
                  &h->cfg.ffn_dim,  &h->cfg.vocab,   &h->cfg.seq_len, &h->cfg.tie_embeddings};
    for (int i = 0; i < 8; i++) *dst[i] = shape[i];
    h->meta.seq_len = run[0];
    h->meta.micro_batch = run[1];
    h->meta.global_batch = run[2];
    if (h->meta.step > 0x7fffffff || h->meta.seq_len < 1 || h->meta.micro_batch < 1 || h->meta.global_batch < 1 ||
        h->shard_world < 1 || h->shard_world > MAX_SHARDS || h->shard_rank >= h->shard_world || data_world < 1 ||
        data_world > MAX_SHARDS)
        return slm_fail(err,
                        "%s: corrupt checkpoint header (step %llu, batch %d/%d, seq %d, shard %u of %u, data world %u)",
                        path, (unsigned long long)h->meta.step, h->meta.micro_batch, h->meta.global_batch,
                        h->meta.seq_len, h->shard_rank, h->shard_world, data_world);
    slm_err why;
    if (slm_model_config_validate(&h->cfg, &why))
        return slm_fail(err, "%s: corrupt checkpoint header (%s)", path, why.msg);
    if (h->meta.seq_len > h->cfg.seq_len)  // slm sample sizes its context by it
        return slm_fail(err,
                        "%s: corrupt checkpoint header (the run's sequence length %d is longer than the model's %d)",
                        path, h->meta.seq_len, h->cfg.seq_len);
    return 0;
}

// The floats per array the header announces are those of its model's layout
// for its shard. After the file's size is checked: a layout of 65536 layers
// takes a while to build, a short file should not.
static int check_floats(const char *path, const header *h, slm_err *err) {
    slm_param_layout lay;
    slm_param_layout_init(&lay, &h->cfg);
    uint64_t expect = shard_floats(&lay, (int)h->shard_rank, (int)h->shard_world, lay.n_units);
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

// ---- writing ----------------------------------------------------------------

// One shard file: of each array, every unit's owned slice, in unit order.
static int write_shard(const char *path, const slm_model *m, const slm_unit_state *units, float *const arrays[N_ARRAYS],
                       const slm_ckpt_meta *meta, int rank, int world, slm_err *err) {
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "checkpoint", err)) return -1;
    header h = {m->cfg.rope_scaling.factor ? VERSION_SCALED : VERSION,
                m->cfg,
                *meta,
                shard_floats(&m->layout, rank, world, m->layout.n_units),
                N_ARRAYS,
                0,
                (uint32_t)rank,
                (uint32_t)world};
    unsigned char buf[HEADER_BYTES];
    encode(buf, &h);  // the checksum is filled in once the payload is written
    float *chunk = slm_xmalloc((size_t)CHUNK_FLOATS * sizeof(float));
    uint64_t hash = HASH_SEED;
    int bad = fwrite(buf, 1, HEADER_BYTES, af.f) != HEADER_BYTES;
    for (int a = 0; a < N_ARRAYS && !bad; a++)
        for (int u = 0; u < m->layout.n_units && !bad; u++)
            for (size_t off = 0; off < units[u].own_len && !bad; off += CHUNK_FLOATS) {
                size_t n = units[u].own_len - off < CHUNK_FLOATS ? units[u].own_len - off : CHUNK_FLOATS;
                m->be->to_host(chunk, arrays[a] + units[u].own_off + off, n * sizeof(float));
                hash = hash_bytes(hash, chunk, n * sizeof(float));
                bad = fwrite(chunk, sizeof(float), n, af.f) != n;
            }
    free(chunk);
    h.checksum = header_hash(hash, &h);
    encode(buf, &h);
    bad = bad || fseek(af.f, 0, SEEK_SET) || fwrite(buf, 1, HEADER_BYTES, af.f) != HEADER_BYTES;
    return slm_atomic_commit(&af, bad, err);
}

int slm_checkpoint_save(const char *path, slm_strategy *st, const slm_optimizer *opt, const slm_ckpt_meta *meta,
                        slm_err *err) {
    slm_comm *c = st->comm;
    float *const arrays[N_ARRAYS] = {st->p, opt->m, opt->v};
    const int sharded = st->sharded && c->world > 1;
    cJSON *old_root = NULL, *old = NULL;
    if (c->rank == 0) old = slm_ckpt_manifest_shards(&old_root, path);  // the checkpoint this save replaces
    // one id per save, from rank 0: shards never take the names of another save's
    uint64_t id = ((uint64_t)time(NULL) << 20 ^ (uint64_t)getpid()) & 0xffffffffull;
    c->broadcast(c, &id, sizeof id, 0);
    char name[4096];
    int bad = 0;
    if (sharded) {
        slm_ckpt_shard_name(name, sizeof name, path, meta->step, id, c->rank, c->world);
        bad = write_shard(name, st->model, st->units, arrays, meta, c->rank, c->world, err);
    } else if (c->rank == 0) {
        bad = write_shard(path, st->model, st->units, arrays, meta, 0, 1, err);
    }
    bad = slm_comm_agree(c, bad, err);
    if (sharded && !bad)
        bad = slm_comm_agree(c, c->rank == 0 && slm_ckpt_manifest_write(path, meta->step, id, c->world, err), err);
    if (sharded && bad) unlink(name);  // a save that failed leaves no shard no manifest names
    if (!bad && c->rank == 0) {
        cJSON *now_root = NULL, *now = slm_ckpt_manifest_shards(&now_root, path);
        slm_ckpt_remove_shards(path, old, now);
        cJSON_Delete(now_root);
    }
    cJSON_Delete(old_root);
    return bad ? -1 : 0;
}

// ---- reading ----------------------------------------------------------------

typedef struct {
    int world;
    FILE **f;
    header *h;
    char **path;
} source;

static void source_close(source *s) {
    for (int r = 0; r < s->world; r++) {
        if (s->f[r]) fclose(s->f[r]);
        free(s->path[r]);
    }
    free(s->f);
    free(s->h);
    free(s->path);
    memset(s, 0, sizeof *s);
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
    return check_floats(path, h, err);
}

static int verify(FILE *f, const char *path, const header *h, slm_err *err) {
    float *chunk = slm_xmalloc((size_t)CHUNK_FLOATS * sizeof(float));
    uint64_t hash = HASH_SEED, total = h->n_floats * h->n_arrays;
    int bad = fseek(f, HEADER_BYTES, SEEK_SET) != 0;
    for (uint64_t off = 0; off < total && !bad; off += CHUNK_FLOATS) {
        size_t n = total - off < CHUNK_FLOATS ? (size_t)(total - off) : CHUNK_FLOATS;
        bad = fread(chunk, sizeof(float), n, f) != n;
        hash = hash_bytes(hash, chunk, n * sizeof(float));
    }
    free(chunk);
    if (bad) return slm_fail(err, "%s: read error in the checkpoint payload", path);
    if (header_hash(hash, h) != h->checksum)
        return slm_fail(err, "%s: checksum mismatch: the checkpoint is corrupt", path);
    return 0;
}

// A shard's name as a manifest may give it: a file name beside the manifest (no
// directory), without control characters (the name goes into messages).
static int plain_name(const char *name) { return *name && !strchr(name, '/') && !slm_has_control(name); }

// The shard paths of the manifest at path, into s->path.
static int read_manifest(const char *path, source *s, slm_err *err) {
    cJSON *root, *shards = slm_ckpt_manifest_shards(&root, path);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *world = cJSON_GetObjectItemCaseSensitive(root, "world_size");
    int rc = 0;
    if (!root)
        rc = slm_fail(err, "%s: not a slm checkpoint (neither a checkpoint file nor a JSON manifest)", path);
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, SLM_CKPT_MANIFEST_FORMAT) || !cJSON_IsNumber(world) ||
             world->valuedouble < 2 || world->valuedouble > MAX_SHARDS ||
             world->valuedouble != (double)(int)world->valuedouble || !shards ||
             cJSON_GetArraySize(shards) != (int)world->valuedouble)
        rc = slm_fail(err,
                      "%s: not a valid checkpoint manifest (expected format \"%s\", world_size 2..%d and one shard "
                      "name per rank)",
                      path, SLM_CKPT_MANIFEST_FORMAT, MAX_SHARDS);
    if (!rc) {
        s->world = (int)world->valuedouble;
        s->f = slm_xcalloc((size_t)s->world, sizeof *s->f);
        s->h = slm_xcalloc((size_t)s->world, sizeof *s->h);
        s->path = slm_xcalloc((size_t)s->world, sizeof *s->path);
        char dir[4096];
        slm_ckpt_dir_of(dir, sizeof dir, path);
        for (int r = 0; r < s->world && !rc; r++) {
            const cJSON *name = cJSON_GetArrayItem(shards, r);
            if (!cJSON_IsString(name) || !plain_name(name->valuestring)) {
                rc = slm_fail(err, "%s: shard %d (\"%s\") is not a file name beside the manifest", path, r,
                              slm_quote(cJSON_IsString(name) ? name->valuestring : "not a string").text);
                break;
            }
            size_t len = strlen(dir) + strlen(name->valuestring) + 1;
            s->path[r] = slm_xmalloc(len);
            snprintf(s->path[r], len, "%s%s", dir, name->valuestring);
        }
    }
    cJSON_Delete(root);
    return rc;
}

static int same_shape(const slm_model_config *a, const slm_model_config *b) {
    return a->n_layers == b->n_layers && a->d_model == b->d_model && a->n_heads == b->n_heads &&
           a->n_kv_heads == b->n_kv_heads && a->ffn_dim == b->ffn_dim && a->vocab == b->vocab &&
           a->seq_len == b->seq_len && a->tie_embeddings == b->tie_embeddings && a->rope_theta == b->rope_theta &&
           a->norm_eps == b->norm_eps && !memcmp(&a->rope_scaling, &b->rope_scaling, sizeof a->rope_scaling);
}

// Opens a checkpoint (one file, or a manifest and its shards) and checks that
// its shards belong together (their checksums are load_slices' to check).
static int source_open(source *s, const char *path, slm_err *err) {
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) return slm_fail(err, "cannot open checkpoint %s", path);
    int first = fgetc(f);
    fclose(f);
    int rc = 0;
    if (first == '{') {
        rc = read_manifest(path, s, err);
    } else {
        s->world = 1;
        s->f = slm_xcalloc(1, sizeof *s->f);
        s->h = slm_xcalloc(1, sizeof *s->h);
        s->path = slm_xcalloc(1, sizeof *s->path);
        s->path[0] = strdup(path);
    }
    for (int r = 0; r < s->world && !rc; r++) {
        const char *p = s->path[r];
        if (!(s->f[r] = fopen(p, "rb"))) {
            rc = slm_fail(err, "cannot open checkpoint shard %s (named by %s)", p, path);
            break;
        }
        rc = read_header(s->f[r], p, &s->h[r], err);
        if (!rc && ((int)s->h[r].shard_world != s->world || (int)s->h[r].shard_rank != r))
            rc = slm_fail(err, "%s: holds shard %u of %u, but %s expects shard %d of %d", p, s->h[r].shard_rank,
                          s->h[r].shard_world, path, r, s->world);
        if (!rc && r > 0 &&
            (!same_shape(&s->h[r].cfg, &s->h[0].cfg) || memcmp(&s->h[r].meta, &s->h[0].meta, sizeof s->h[0].meta)))
            rc = slm_fail(err, "%s: its model or step differs from shard 0's (%s): shards of different checkpoints", p,
                          s->path[0]);
    }
    if (rc) source_close(s);
    return rc;
}

// Reads floats [lo, lo + n) of unit u of array a from whichever shards hold them into dst (device).
static int read_slice(source *s, const slm_param_layout *lay, int a, int u, size_t lo, size_t n, float *dst,
                      const slm_backend *be, float *chunk) {
    for (int r = 0; r < s->world; r++) {
        size_t begin, len = slm_shard_slice(lay->unit_size[u], r, s->world, &begin);
        size_t from = lo > begin ? lo : begin, to = lo + n < begin + len ? lo + n : begin + len;
        uint64_t at = (uint64_t)a * s->h[r].n_floats + shard_floats(lay, r, s->world, u) + (from - begin);
        for (; from < to; from += CHUNK_FLOATS, at += CHUNK_FLOATS) {
            size_t k = to - from < CHUNK_FLOATS ? to - from : CHUNK_FLOATS;
            if (fseeko(s->f[r], (off_t)(HEADER_BYTES + at * sizeof(float)), SEEK_SET) ||
                fread(chunk, sizeof(float), k, s->f[r]) != k)
                return -1;
            be->to_device(dst + (from - lo), chunk, k * sizeof(float));
        }
    }
    return 0;
}

// Loads into `arrays` (params, m, v; NULL skips one) the owned slices of units.
// Whether the checkpoint's model c fits m: the whole config alike (resume, a
// load for inference), or with `weights_only` the tensors alone (the first
// weights of a new run, whose context, theta and eps are its own).
static int check_model(const char *path, const slm_model_config *c, const slm_model *m, int weights_only,
                       slm_err *err) {
    if (weights_only) {
        slm_param_layout lay;
        slm_param_layout_init(&lay, c);
        int rc = slm_param_layout_match(&lay, &m->layout, path, err);
        slm_param_layout_free(&lay);
        return rc;
    }
    if (same_shape(c, &m->cfg)) return 0;
    char have[200], want[200];
    slm_model_config_describe(c, have, sizeof have);
    slm_model_config_describe(&m->cfg, want, sizeof want);
    return slm_fail(err, "%s: checkpoint is for a different model (%s); this run has %s", path, have, want);
}

static int load_slices(const char *path, const slm_model *m, const slm_unit_state *units, float *const arrays[N_ARRAYS],
                       int weights_only, slm_ckpt_meta *meta, slm_err *err) {
    source s;
    if (source_open(&s, path, err)) return -1;
    if (check_model(path, &s.h[0].cfg, m, weights_only, err)) {
        source_close(&s);
        return -1;
    }
    int bad = 0;
    for (int r = 0; r < s.world && !bad; r++) {  // checksum the shards this process reads from
        int needed = 0;
        for (int u = 0; u < m->layout.n_units; u++) {
            size_t begin, len = slm_shard_slice(m->layout.unit_size[u], r, s.world, &begin);
            needed |= len && units[u].own_len && begin < units[u].own_begin + units[u].own_len &&
                      units[u].own_begin < begin + len;
        }
        if (needed && verify(s.f[r], s.path[r], &s.h[r], err)) bad = -1;
    }
    if (bad) {
        source_close(&s);
        return -1;
    }
    float *chunk = slm_xmalloc((size_t)CHUNK_FLOATS * sizeof(float));
    for (int a = 0; a < N_ARRAYS && !bad; a++)
        for (int u = 0; u < m->layout.n_units && arrays[a] && !bad; u++)
            bad = read_slice(&s, &m->layout, a, u, units[u].own_begin, units[u].own_len, arrays[a] + units[u].own_off,
                             m->be, chunk);
    free(chunk);
    *meta = s.h[0].meta;
    source_close(&s);
    return bad ? slm_fail(err, "%s: read error in the checkpoint payload", path) : 0;
}

int slm_checkpoint_load(const char *path, slm_strategy *st, slm_optimizer *opt, slm_ckpt_meta *meta, slm_err *err) {
    float *const arrays[N_ARRAYS] = {st->p, opt->m, opt->v};
    if (load_slices(path, st->model, st->units, arrays, 0, meta, err)) return -1;
    slm_strategy_refresh_compute(st);
    opt->t = (int)meta->step;
    return 0;
}

int slm_checkpoint_load_weights(const char *path, slm_strategy *st, slm_err *err) {
    float *const arrays[N_ARRAYS] = {st->p, NULL, NULL};
    slm_ckpt_meta meta;
    if (load_slices(path, st->model, st->units, arrays, 1, &meta, err)) return -1;
    slm_strategy_refresh_compute(st);
    return 0;
}

int slm_checkpoint_load_model(const char *path, slm_model *m, slm_ckpt_meta *meta, slm_err *err) {
    slm_unit_state *units = slm_xcalloc((size_t)m->layout.n_units, sizeof *units);
    slm_units_whole(&m->layout, units);
    float *const arrays[N_ARRAYS] = {m->params, NULL, NULL};
    int rc = load_slices(path, m, units, arrays, 0, meta, err);
    free(units);
    if (!rc) slm_model_refresh_compute(m);
    return rc;
}

int slm_checkpoint_peek(const char *path, slm_model_config *cfg, slm_ckpt_meta *meta, slm_err *err) {
    source s;
    if (source_open(&s, path, err)) return -1;
    *cfg = s.h[0].cfg;
    *meta = s.h[0].meta;
    source_close(&s);
    return 0;
}
