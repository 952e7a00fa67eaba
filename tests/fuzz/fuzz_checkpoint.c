// fuzz_checkpoint.c — the checkpoint reader (train/checkpoint.c) on one
// shard file of any bytes, loaded twice: as a one-file checkpoint, and as
// shard 1 of a two-shard checkpoint beside the fixture shard 0 of
// tests/fuzz/data (through a manifest), so the checks that shards belong
// together run too. The input's checksum field is overwritten with the
// documented checksum of the rest (t_ckpt_checksum) before each load: a
// mutated header then reaches the checks after the checksum, as a file a
// writer made would.
#include <stdlib.h>
#include <string.h>

#include "ckpt_load.h"
#include "fuzz.h"
#include "testutil.h"

#define SHARD0 "two.ckpt.step1.dc40771d.rank0-of-2"

static const char manifest[] =
    "{\"format\": \"slm-checkpoint-manifest\", \"version\": 1, \"world_size\": 2, \"step\": 1,\n"
    " \"shards\": [\"" SHARD0 "\", \"input.ckpt\"]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    char one[4096], two[4096];
    fuzz_path(one, sizeof one, "input.ckpt");
    fuzz_path(two, sizeof two, "two.ckpt");
    if (!ready) {
        fuzz_copy_fixture("tests/fuzz/data/" SHARD0);
        fuzz_write_file(two, manifest, sizeof manifest - 1);
        ready = 1;
    }
    unsigned char *file = slm_xmalloc(size + 1);
    if (size) memcpy(file, data, size);
    if (size >= 256) {
        uint64_t sum = t_ckpt_checksum(file, size);
        memcpy(file + 140, &sum, 8);
    }
    fuzz_write_file(one, file, size);
    free(file);
    fuzz_load_checkpoint(one);
    fuzz_load_checkpoint(two);
    return 0;
}
