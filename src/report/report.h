// report.h — `slm report`: from result records to figures in the form of
// the study's (plot.h), tables (CSV and Markdown) and a written report
// (report.md, and report.html with the figures inlined) whose findings are
// computed from the data: which configuration wins for each model size, by
// how much, and why. Every record is accounted for: plotted, marked OOM, or
// listed as not run with its message.
#pragma once
#include "measure/results.h"

// Writes everything under out_dir (made if missing): report.md, report.html,
// figures/*.{png,svg,gp}, tables/*.{csv,md}. Prints the findings to stdout.
// sources names the results files, for the report's text.
int slm_report_build(const slm_results *res, const char *sources, const char *out_dir, slm_err *err);
