// ckpt_load.h — loading a checkpoint the way `slm sample` does, for the two
// checkpoint targets (fuzz_checkpoint.c, fuzz_manifest.c).
#pragma once

// Peeks at the checkpoint at path, builds a CPU model of its shape with
// activations for one sequence of its run's length, and loads its
// parameters. A refusal at any step must come with a message; a header the
// reader accepts must describe a valid model.
void fuzz_load_checkpoint(const char *path);
