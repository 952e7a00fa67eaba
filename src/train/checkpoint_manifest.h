// checkpoint_manifest.h — the files of an FSDP checkpoint beside its manifest
// (checkpoint.h): the shard names "PATH.step<S>.<id>.rank<r>-of-<W>", the
// manifest that lists them, and the removal of the shards a former manifest
// named.
#pragma once
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SLM_CKPT_MANIFEST_FORMAT "slm-checkpoint-manifest"

// The path of shard r of W of the save `id` at `step` of the checkpoint at path.
void slm_ckpt_shard_name(char *out, size_t len, const char *path, uint64_t step, uint64_t id, int r, int W);
// The directory part of path with its slash ("" for a bare name).
void slm_ckpt_dir_of(char *out, size_t len, const char *path);
// Writes the manifest at path naming the W shards of the save `id` at `step` (atomically).
int slm_ckpt_manifest_write(const char *path, uint64_t step, uint64_t id, int W, slm_err *err);
// The parsed manifest at path into *root (NULL when path holds no JSON) and
// its list of shard names; NULL when path is not a manifest.
cJSON *slm_ckpt_manifest_shards(cJSON **root, const char *path);
// Removes the shard files `old` named (plain names beside path), but those `keep` names.
void slm_ckpt_remove_shards(const char *path, const cJSON *old, const cJSON *keep);
