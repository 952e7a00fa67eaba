#include "core/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void slm_progress_init(slm_progress *p, int every) {
    p->tty = isatty(fileno(stdout));
    p->every = every < 1 ? 1 : every;
    p->calls = 0;
    p->dirty = 0;
}

void slm_progress_update(slm_progress *p, int force, const char *fmt, ...) {
    int show = p->tty || force || p->calls % p->every == 0;
    p->calls++;
    if (!show) return;
    va_list ap;
    va_start(ap, fmt);
    if (p->tty) fputs("\r\033[K", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    if (p->tty)
        p->dirty = 1;
    else
        putchar('\n');
    fflush(stdout);
}

void slm_progress_break(slm_progress *p) {
    if (p->dirty) putchar('\n');
    p->dirty = 0;
    fflush(stdout);
}

void slm_format_duration(char *out, int len, double s) {
    if (!(s >= 0)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, (size_t)len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, (size_t)len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, (size_t)len, "%lds", t);
}
