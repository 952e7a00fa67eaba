// fuzz_record.c — the result record reader (core/record_read.c) on one line
// of any text. A record it accepts must go back out through the writer and
// be read again, from a results file (measure/results.c), as the same
// configuration: a sweep that wrote it must find it done.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/record.h"
#include "fuzz.h"
#include "measure/results.h"

static void write_and_read(const slm_record *r) {
    char path[4096];
    fuzz_path(path, sizeof path, "results.jsonl");
    unlink(path);
    slm_err err;
    if (slm_record_append(path, r, &err)) fuzz_fail("cannot write a record read back: %s", err.msg);
    slm_results res = {0};
    if (slm_results_read(path, 0, &res, &err)) fuzz_fail("the writer's line is refused: %s", err.msg);
    char hash[17];
    if (r->config_hash[0])
        memcpy(hash, r->config_hash, sizeof hash);
    else
        slm_config_hash(&r->run, hash);  // what the writer fills in
    if (res.n != 1 || strcmp(res.recs[0].config_hash, hash) || strcmp(res.recs[0].status, r->status))
        fuzz_fail("the record read back is another (%d records, hash %s, was %s)", res.n,
                  res.n ? res.recs[0].config_hash : "-", hash);
    slm_results_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *line = fuzz_text(data, size);
    slm_record r;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_record_parse(line, &r, &err)) {
        fuzz_check_refusal(&err, "the record reader");
    } else {
        slm_record_derived d;
        slm_record_derive(&r, &d);
        write_and_read(&r);
    }
    free(line);
    return 0;
}
