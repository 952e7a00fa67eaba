// json_file.h — JSON files read whole, with errors that name the line:
// "grid.json:7: not valid JSON near '…'". For the catalogs (prices), grids and
// anything else read with cJSON.
#pragma once
#include <cjson/cJSON.h>

#include "core/err.h"

// The file's bytes, NUL-terminated (free with free()); NULL with err set when
// unreadable or larger than max_bytes.
char *slm_read_text_file(const char *path, const char *what, long max_bytes, slm_err *err);
// Parses text (from path, for messages); NULL with err "PATH:LINE: not valid JSON near '…'".
cJSON *slm_json_parse_text(const char *text, const char *path, slm_err *err);
// The largest JSON file slm_json_read_file reads (16 MiB).
#define SLM_JSON_MAX_BYTES (16L << 20)
// Both at once, for files of at most SLM_JSON_MAX_BYTES.
cJSON *slm_json_read_file(const char *path, const char *what, slm_err *err);
// The 1-based line of the first `"key":` in text, or 0 when not found.
int slm_json_key_line(const char *text, const char *key);
// Writes root (indented, then a newline) over path the atomic way (atomic_file.h:
// a temporary file, fsynced, renamed); -1 with err naming the `what` and the
// file when it cannot, path then untouched.
int slm_json_write_file(const char *path, const char *what, const cJSON *root, slm_err *err);
