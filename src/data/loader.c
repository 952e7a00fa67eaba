// loader.c — the sharded sequential loader of loader.h.
#include "data/loader.h"

int slm_loader_init(slm_loader *ld, const slm_tokfile *tf, uint64_t begin, uint64_t end, int rank, int world, int B,
                    int T, slm_err *err) {
    uint64_t shard = (end - begin) / (uint64_t)world, need = (uint64_t)B * T + 1;
    ld->tf = tf;
    ld->begin = begin + shard * (uint64_t)rank;
    ld->end = ld->begin + shard;
    ld->pos = 0;
    ld->B = B;
    ld->T = T;
    if (shard < need)
        return slm_fail(err,
                        "not enough tokens: a shard holds %llu tokens but one batch of %d x %d needs %llu (more "
                        "data, or a smaller --micro-batch / --seq-len / --val-frac)",
                        (unsigned long long)shard, B, T, (unsigned long long)need);
    return 0;
}

void slm_loader_next(slm_loader *ld, int *inputs, int *targets) {
    const uint64_t n = (uint64_t)ld->B * ld->T;
    if (ld->begin + ld->pos + n + 1 > ld->end) ld->pos = 0;
    uint64_t at = ld->begin + ld->pos;
    for (uint64_t i = 0; i < n; i++) {
        inputs[i] = (int)slm_tokfile_get(ld->tf, at + i);
        targets[i] = (int)slm_tokfile_get(ld->tf, at + i + 1);
    }
    ld->pos += n;
}

void slm_loader_reset(slm_loader *ld) { ld->pos = 0; }
