// doc.h — the report written once and emitted twice: as Markdown (report.md)
// and as one self-contained HTML page (report.html, figures inlined as SVG).
// Tables are also written as CSV and Markdown files of their own.
#pragma once
#include <stdio.h>

typedef struct {
    int n_cols, n_rows, cap_rows;
    char **cells;  // n_rows x n_cols, row 0 the header
} slm_table;

void slm_table_init(slm_table *t, int n_cols, const char *const *header);
// Appends a row of n_cols printf-formatted cells separated by '\t' in fmt's output.
void slm_table_row(slm_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Writes PATH.csv and PATH.md; -1 when a file cannot be written.
int slm_table_write(const slm_table *t, const char *path_no_ext);
void slm_table_free(slm_table *t);

typedef struct {
    FILE *md, *html;
    int in_list;
    int n_figures;  // figures so far: each inlined SVG's ids get its own prefix
} slm_doc;

int slm_doc_open(slm_doc *d, const char *md_path, const char *html_path, const char *title);
void slm_doc_heading(slm_doc *d, int level, const char *text);
// A paragraph, or with bullet set one item of a bulleted list.
void slm_doc_text(slm_doc *d, int bullet, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void slm_doc_table(slm_doc *d, const slm_table *t);
// A figure: Markdown links the PNG (relative path); HTML inlines the SVG file.
void slm_doc_figure(slm_doc *d, const char *png_rel, const char *svg_path, const char *caption);
int slm_doc_close(slm_doc *d);
