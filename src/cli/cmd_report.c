// cmd_report.c — `slm report RESULTS.jsonl… --out DIR`: reads every record of
// the results files (a bad line stops it, naming the file and line) and
// writes the report of report.h.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/err.h"
#include "measure/results.h"
#include "report/report.h"

int slm_cmd_report(int argc, char **argv) {
    int n_files = 0;
    while (1 + n_files < argc && strncmp(argv[1 + n_files], "--", 2)) n_files++;
    char **files = slm_xcalloc((size_t)n_files + 1, sizeof(char *));
    memcpy(files, argv + 1, (size_t)n_files * sizeof(char *));
    const char *out = "report";
    slm_flag flags[] = {
        {"--out", FLAG_STR, &out, "directory for report.md, report.html, figures/ and tables/ [report]"}};
    argv[n_files] = argv[0];  // the flags follow the files
    slm_flags_parse(flags, 1, argc - n_files, argv + n_files, "slm report RESULTS.jsonl... [--out DIR]",
                    "Figures in the form of the study's (gnuplot, PNG and SVG): tokens/s and tokens/$ against the\n"
                    "number of devices, one panel per model, series by attention, strategy and device type, each\n"
                    "point the best configuration over the dimensions not shown, OOM points marked; tokens/$ and\n"
                    "peak memory against micro batch; attention memory and step time against sequence length.\n"
                    "Tables as CSV and Markdown; report.md and a self-contained report.html whose findings say\n"
                    "which configuration wins for each model, by how much and why.\n"
                    "example: slm report out/demo/results.jsonl --out out/demo/report");
    if (!n_files) slm_die(SLM_EXIT_USAGE, "report needs results files: slm report RESULTS.jsonl... --out DIR");
    slm_results res = {0};
    slm_err err;
    char sources[1024] = "";
    for (int i = 0; i < n_files; i++) {
        if (slm_results_read(files[i], 0, &res, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        snprintf(sources + strlen(sources), sizeof sources - strlen(sources), "%s%s", i ? ", " : "", files[i]);
    }
    if (!res.n) slm_die(SLM_EXIT_FAIL, "%s: no records to report", sources);
    int ret = slm_report_build(&res, sources, out, &err);
    slm_results_free(&res);
    free(files);
    if (ret) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    printf("report: %s/report.md, %s/report.html, figures in %s/figures, tables in %s/tables\n", out, out, out, out);
    return SLM_EXIT_OK;
}
