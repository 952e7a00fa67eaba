// loader.c — the sharded sequential loader of loader.h. One window of B·T+1
// tokens gives both the inputs and the targets, so consecutive batches share
// no token as input and every token but the shard's last is once a target.
#include "data/loader.h"

int slm_loader_init(slm_loader *ld, const slm_tokfile *tf, uint64_t begin, uint64_t end, int rank, int world, int B,
                    int T, slm_err *err) {
    if (begin > end || end > tf->count)
        return slm_fail(err, "token range [%llu, %llu) is not inside the file's %llu tokens", (unsigned long long)begin,
                        (unsigned long long)end, (unsigned long long)tf->count);
    if (world < 1 || rank < 0 || rank >= world)
        return slm_fail(err, "rank %d is not in a world of %d ranks", rank, world);
    if (B < 1 || T < 1) return slm_fail(err, "batch %d x %d: both must be at least 1", B, T);
    const uint64_t shard = (end - begin) / (uint64_t)world, need = (uint64_t)B * (uint64_t)T + 1;
    if (shard < need)
        return slm_fail(err,
                        "not enough tokens: %llu tokens over %d rank(s) leave %llu per shard, but one batch of %d x %d "
                        "needs %llu (more data, or a smaller --micro-batch / --seq-len / --val-frac)",
                        (unsigned long long)(end - begin), world, (unsigned long long)shard, B, T,
                        (unsigned long long)need);
    *ld = (slm_loader){.tf = tf, .begin = begin + shard * (uint64_t)rank, .pos = 0, .B = B, .T = T};
    ld->end = ld->begin + shard;
    return 0;
}

void slm_loader_next(slm_loader *ld, int *inputs, int *targets) {
    const uint64_t n = (uint64_t)ld->B * (uint64_t)ld->T;
    if (ld->pos + n + 1 > ld->end - ld->begin) ld->pos = 0;
    const uint64_t at = ld->begin + ld->pos;
    for (uint64_t i = 0; i < n; i++) {
        inputs[i] = (int)slm_tokfile_get(ld->tf, at + i);
        targets[i] = (int)slm_tokfile_get(ld->tf, at + i + 1);
    }
    ld->pos += n;
}

void slm_loader_reset(slm_loader *ld) { ld->pos = 0; }
