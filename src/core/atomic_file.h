// atomic_file.h — how every file slm.c writes (checkpoints, token files,
// tokenizers) reaches the disk: into "PATH.tmp.PID", then flushed, fsynced and
// renamed over PATH, and the directory fsynced. A crash leaves the old file or
// the new one, never half.
#pragma once
#include <stdio.h>

#include "core/err.h"

typedef struct {
    FILE *f;
    char tmp[4096];
    const char *path;
    const char *what;  // "checkpoint", "token file", ... for messages
} slm_atomic_file;

int slm_atomic_open(slm_atomic_file *af, const char *path, const char *what, slm_err *err);
// Finishes the write: `failed` says an earlier fwrite went wrong. On any
// failure the temporary file is removed and PATH is untouched.
int slm_atomic_commit(slm_atomic_file *af, int failed, slm_err *err);
