// checkpoint_leftovers.h — what saves of a checkpoint path that did not
// finish (a process killed while saving) left beside it:
//   - temporaries "NAME.tmp.<pid>" (core/atomic_file.h) of PATH or of one of
//     its shards, whose process is gone: each as large as the file it was to
//     become, gigabytes for a large model;
//   - FSDP shards "PATH.step<S>.<id>.rank<r>-of-<W>" that the manifest at PATH
//     does not name: written by a save killed before its manifest, or the
//     shards of the checkpoint a new manifest replaced when the save was
//     killed before it removed them.
#pragma once
#include <stdio.h>

// Removes them and says so on `say`, one line per file with its size (or why
// it could not). Only regular files named exactly as slm names them are
// touched: a temporary of a live process on this host is kept (it may be
// another save's), and shards are kept while PATH holds JSON that is not a
// manifest (a damaged one: the shards may be what is left of it).
void slm_ckpt_remove_leftovers(const char *path, FILE *say);
