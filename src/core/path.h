// path.h — the few questions about a path that several layers ask: is it a
// directory, is anything there, does its name end so. One place, so that a
// Hugging Face directory, a .safetensors file and an index are told apart
// alike by every command.
#pragma once

int slm_is_dir(const char *path);
int slm_path_exists(const char *path);
int slm_ends_with(const char *s, const char *suffix);
