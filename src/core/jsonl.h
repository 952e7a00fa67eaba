// jsonl.h — JSON Lines files that runs append to (results files: one record
// per line). An append lands whole or leaves the file as it was. A final line
// cut short — no newline at its end and not valid JSON, left by a write that
// died part-way (an older build, another tool, a crash) — is found by readers,
// which skip it or cut it off, saying so with the file and the byte offset.
#pragma once
#include <stddef.h>

#include "core/err.h"

// Appends line (its newline added) to path with one write on a file opened
// O_APPEND, so concurrent writers never interleave lines, then fsyncs it. A
// write or fsync that fails is undone (the file truncated back to where the
// line began) and is -1 with err naming `what` ("the result record") and the
// file. Before writing, a torn final line is cut off (slm_jsonl_cut) and a
// whole final line without its newline gets one, so the line lands on its own.
int slm_jsonl_append(const char *path, const char *line, const char *what, slm_err *err);
// Whether a line as read (len bytes, with its newline if it had one) is a torn
// final line: no newline at its end and not valid JSON.
int slm_jsonl_torn(const char *line, size_t len);
// Says on stderr, in one line, that path ends in a torn line of len bytes at
// byte `at`, and what was done about it (`done`: "skipped it").
void slm_jsonl_say_torn(const char *path, long long at, size_t len, const char *done);
// Cuts the torn final line at byte `at` (len bytes) off path and says so; -1
// with err when the file cannot be truncated.
int slm_jsonl_cut(const char *path, long long at, size_t len, slm_err *err);
