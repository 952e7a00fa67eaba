// fuzz_manifest.c — the FSDP checkpoint manifest (train/checkpoint.c) on
// any bytes, beside the two valid shards of tests/fuzz/data: a manifest may
// name them, in any order or count, or anything else.
#include "ckpt_load.h"
#include "fuzz.h"

#define SHARDS "tests/fuzz/data/two.ckpt.step1.dc40771d.rank"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    char path[4096];
    fuzz_path(path, sizeof path, "two.ckpt");
    if (!ready) {
        fuzz_copy_fixture(SHARDS "0-of-2");
        fuzz_copy_fixture(SHARDS "1-of-2");
        ready = 1;
    }
    fuzz_write_file(path, data, size);
    fuzz_load_checkpoint(path);
    return 0;
}
