// progress.h — the progress line of long runs. On a terminal it rewrites
// itself in place; piped, it prints plain lines (every `every` calls, and
// whenever `force` is set), so logs stay readable.
#pragma once

typedef struct {
    int tty;
    int every;
    int calls;
    int dirty;  // a rewritten line is on screen and needs a newline before other output
} slm_progress;

void slm_progress_init(slm_progress *p, int every);
void slm_progress_update(slm_progress *p, int force, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Ends a rewritten line so that other output starts on a fresh line.
void slm_progress_break(slm_progress *p);
// "1h02m", "3m20s", "12s"
void slm_format_duration(char *out, int len, double seconds);
