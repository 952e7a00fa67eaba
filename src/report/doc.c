#include "report/doc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void slm_table_init(slm_table *t, int n_cols, const char *const *header) {
    memset(t, 0, sizeof *t);
    t->n_cols = n_cols;
    char line[1024] = "";
    for (int c = 0; c < n_cols; c++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", c ? "\t" : "", header[c]);
    slm_table_row(t, "%s", line);
}

void slm_table_row(slm_table *t, const char *fmt, ...) {
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->n_rows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? 2 * t->cap_rows : 16;
        t->cells = realloc(t->cells, (size_t)t->cap_rows * t->n_cols * sizeof(char *));
        if (!t->cells) slm_die(SLM_EXIT_FAIL, "out of host memory for a table");
    }
    char *p = line;
    for (int c = 0; c < t->n_cols; c++) {
        size_t len = strcspn(p, "\t");
        char *cell = slm_xmalloc(len + 1);
        memcpy(cell, p, len);
        cell[len] = 0;
        t->cells[t->n_rows * t->n_cols + c] = cell;
        p += len + (p[len] == '\t');
    }
    t->n_rows++;
}

static void csv_cell(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void md_table(FILE *f, const slm_table *t) {
    for (int r = 0; r < t->n_rows; r++) {
        for (int c = 0; c < t->n_cols; c++) {
            fputs(c ? " | " : "| ", f);
            for (const char *s = t->cells[r * t->n_cols + c]; *s; s++) {
                if (*s == '|') fputc('\\', f);
                fputc(*s, f);
            }
        }
        fputs(" |\n", f);
        if (r == 0) {
            for (int c = 0; c < t->n_cols; c++) fputs("|---", f);
            fputs("|\n", f);
        }
    }
}

int slm_table_write(const slm_table *t, const char *path_no_ext) {
    char path[4200];
    snprintf(path, sizeof path, "%s.csv", path_no_ext);
    FILE *csv = fopen(path, "w");
    snprintf(path, sizeof path, "%s.md", path_no_ext);
    FILE *md = fopen(path, "w");
    if (csv)
        for (int r = 0; r < t->n_rows; r++)
            for (int c = 0; c < t->n_cols; c++) {
                csv_cell(csv, t->cells[r * t->n_cols + c]);
                fputc(c + 1 < t->n_cols ? ',' : '\n', csv);
            }
    if (md) md_table(md, t);
    int ok = csv && md;
    if (csv) ok = !fclose(csv) && ok;
    if (md) ok = !fclose(md) && ok;
    return ok ? 0 : -1;
}

void slm_table_free(slm_table *t) {
    for (int i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

int slm_doc_open(slm_doc *d, const char *md_path, const char *html_path, const char *title) {
    memset(d, 0, sizeof *d);
    d->md = fopen(md_path, "w");
    d->html = fopen(html_path, "w");
    if (!d->md || !d->html) {
        if (d->md) fclose(d->md);
        if (d->html) fclose(d->html);
        d->md = d->html = NULL;
        return -1;
    }
    fprintf(d->md, "# %s\n\n", title);
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", d->html);
    html_text(d->html, title);
    fputs(
        "</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}"
        "th{background:#eee}figure{margin:1.5em 0}figcaption{color:#444;font-size:90%}svg{max-width:100%;"
        "height:auto}</style></head><body>\n<h1>",
        d->html);
    html_text(d->html, title);
    fputs("</h1>\n", d->html);
    return 0;
}

static void end_list(slm_doc *d) {
    if (!d->in_list) return;
    fputs("\n", d->md);
    fputs("</ul>\n", d->html);
    d->in_list = 0;
}

void slm_doc_heading(slm_doc *d, int level, const char *text) {
    end_list(d);
    fprintf(d->md, "%.*s %s\n\n", level, "######", text);
    fprintf(d->html, "<h%d>", level);
    html_text(d->html, text);
    fprintf(d->html, "</h%d>\n", level);
}

void slm_doc_text(slm_doc *d, int bullet, const char *fmt, ...) {
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!bullet) end_list(d);
    if (bullet && !d->in_list) {
        fputs("<ul>\n", d->html);
        d->in_list = 1;
    }
    fprintf(d->md, bullet ? "- %s\n" : "%s\n\n", text);
    fputs(bullet ? "<li>" : "<p>", d->html);
    html_text(d->html, text);
    fputs(bullet ? "</li>\n" : "</p>\n", d->html);
}

void slm_doc_table(slm_doc *d, const slm_table *t) {
    end_list(d);
    md_table(d->md, t);
    fputs("\n", d->md);
    fputs("<table>\n", d->html);
    for (int r = 0; r < t->n_rows; r++) {
        fputs("<tr>", d->html);
        for (int c = 0; c < t->n_cols; c++) {
            fputs(r ? "<td>" : "<th>", d->html);
            html_text(d->html, t->cells[r * t->n_cols + c]);
            fputs(r ? "</td>" : "</th>", d->html);
        }
        fputs("</tr>\n", d->html);
    }
    fputs("</table>\n", d->html);
}

// Writes an SVG line with its ids (and the references to them) prefixed, so
// that several figures inlined in one page keep unique ids.
static void svg_line(FILE *f, const char *line, const char *prefix) {
    static const char *const marks[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
    while (*line) {
        const char *hit = NULL;
        size_t len = 0;
        for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
            const char *at = strstr(line, marks[m]);
            if (at && (!hit || at < hit)) hit = at, len = strlen(marks[m]);
        }
        if (!hit) {
            fputs(line, f);
            return;
        }
        fwrite(line, 1, (size_t)(hit - line) + len, f);
        fputs(prefix, f);
        line = hit + len;
    }
}

void slm_doc_figure(slm_doc *d, const char *png_rel, const char *svg_path, const char *caption) {
    end_list(d);
    fprintf(d->md, "![%s](%s)\n\n*%s*\n\n", caption, png_rel, caption);
    fputs("<figure>\n", d->html);
    FILE *svg = fopen(svg_path, "r");
    char prefix[16];
    snprintf(prefix, sizeof prefix, "f%d_", ++d->n_figures);
    if (svg) {
        char line[8192];
        while (fgets(line, sizeof line, svg))
            if (strncmp(line, "<?xml", 5) && strncmp(line, "<!DOCTYPE", 9) && strncmp(line, " \"http", 6))
                svg_line(d->html, line, prefix);
        fclose(svg);
    }
    fputs("<figcaption>", d->html);
    html_text(d->html, caption);
    fputs("</figcaption></figure>\n", d->html);
}

int slm_doc_close(slm_doc *d) {
    end_list(d);
    fputs("</body></html>\n", d->html);
    int ok = !fclose(d->md);
    ok = !fclose(d->html) && ok;
    d->md = d->html = NULL;
    return ok ? 0 : -1;
}
