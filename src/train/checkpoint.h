// checkpoint.h — save and restore a training run: model, AdamW state, step,
// data position, so that a resumed run continues bitwise identically (CPU
// backend, fixed thread count and world size), at any strategy and world size.
//
// A checkpoint is a set of W shard files; shard r holds, of every unit of the
// flat layout, the r-th of W blocks of slm_shard_block(unit size, W) floats.
// W = 1 (single, DDP: rank 0 writes it) is one file at PATH. W > 1 (FSDP: each
// rank writes its own) is PATH as a JSON manifest naming the shard files
// "PATH.step<S>.<id>.rank<r>-of-<W>" (id: one per save), which sit beside it.
//
// Shard file: a 256-byte header — magic "SLMCKPT1", version, header size, the
// model config, the run's batch shape, step, RNG state, data position, floats
// per array, array count, checksum, shard rank and count, the world size the
// data position belongs to — then the shard's
// parameters, AdamW m and v (fp32). The checksum is FNV-1a-style over 64-bit
// words of the payload and of the header. Every file is written to a
// temporary name, fsynced, renamed; the manifest last, so a crash never leaves
// a checkpoint that points at half-written shards.
//
// Loading reassembles, for each unit, the slice this process owns from
// whichever shards hold it: a checkpoint written at one world size loads at
// any other, under any strategy, and into one process (slm sample). The
// parameters stored are the fp32 master; after a load the compute copy (bf16
// on CUDA) is made from them.
#pragma once
#include <stdint.h>

#include "model/llama.h"
#include "parallel/strategy.h"
#include "train/optim.h"

typedef struct {
    uint64_t step;       // optimizer steps completed
    uint64_t rng_state;  // the run's seed (synthetic data is a function of seed and step)
    uint64_t data_pos;   // the train loader's position within each rank's shard of the data
    int data_world;      // how many ranks the data was split over when data_pos was taken
    int seq_len, micro_batch, global_batch;
} slm_ckpt_meta;

// Collective: every rank calls it, and every rank returns -1 when any failed.
// Replicated strategies: rank 0 writes PATH. FSDP: every rank writes its
// shard, then rank 0 the manifest. The shards of the checkpoint PATH named
// before are removed once the new one is in place; a save that fails (a
// shard or the manifest) removes the shards it wrote.
int slm_checkpoint_save(const char *path, slm_strategy *st, const slm_optimizer *opt, const slm_ckpt_meta *meta,
                        slm_err *err);
// Loads into a strategy built with the same model config (checked) and its
// optimizer: each rank its own slices of the parameters and AdamW moments. Every shard a rank reads
// from is checksummed first. Not collective: with several ranks, the caller
// agrees on the outcome.
int slm_checkpoint_load(const char *path, slm_strategy *st, slm_optimizer *opt, slm_ckpt_meta *meta, slm_err *err);
// The parameters alone into what st owns, for a new run (slm train
// --init-from): the checkpoint's tensors must be the run's, name for name and
// shape for shape (an error names the first that differs); its context,
// theta, eps and step are the run's own, and the optimizer is untouched.
int slm_checkpoint_load_weights(const char *path, slm_strategy *st, slm_err *err);
// Loads the parameters alone into a model of one process (inference).
int slm_checkpoint_load_model(const char *path, slm_model *m, slm_ckpt_meta *meta, slm_err *err);
// Reads and checks the header only: the model config and the run's meta.
int slm_checkpoint_peek(const char *path, slm_model_config *cfg, slm_ckpt_meta *meta, slm_err *err);
