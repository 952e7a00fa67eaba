// main.c — `slm`: dispatches to one subcommand per file (commands.h).
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/err.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} commands[] = {
    {"train", slm_cmd_train,
     "train a model, CPU (fp32) or GPU (bf16 mixed precision): validation, checkpoints, resume"},
    {"tokenize", slm_cmd_tokenize, "train a byte-level BPE tokenizer and encode text into a token file"},
    {"sample", slm_cmd_sample, "generate text from a checkpoint (greedy, temperature, top-k)"},
    {"export", slm_cmd_export, "write a checkpoint as a Hugging Face directory (safetensors, config.json)"},
    {"info", slm_cmd_info, "parameters per unit, FLOPs per token and memory of a model configuration"},
    {"bench", slm_cmd_bench, "measure one configuration: step time, tokens/s, memory, tokens per dollar"},
    {"sweep", slm_cmd_sweep, "run every point of a grid as its own process, resumable, into one results file"},
    {"report", slm_cmd_report, "figures, tables and findings (report.md, report.html) from results files"},
    {"predict", slm_cmd_predict, "predict a configuration on a device type (performance model): time, memory, cost"},
    {"calibrate", slm_cmd_calibrate, "fit a device's efficiencies in the performance model to its measured records"},
    {"advise", slm_cmd_advise, "the best configurations for a model by tokens per dollar and by time, with reasons"},
    {"peak", slm_cmd_peak, "measure and cache this machine's GEMM peak, the CPU's reference for MFU"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f) {
    fprintf(f,
            "slm — train small LLaMA-style language models and measure what training costs\n\n"
            "usage: slm <command> [flags]      slm <command> --help for the command's flags\n\n"
            "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f,
            "\nmodels: tiny (~1M), small (~10M), 100m, 500m, 1b, 2b, or a JSON file (see `slm info --help`)\n"
            "docs: README.md, docs/\n");
}

int main(int argc, char **argv) {
    if (argc < 2) slm_die(SLM_EXIT_USAGE, "no command given (slm --help lists them)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return SLM_EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    slm_die(SLM_EXIT_USAGE, "unknown command '%s' (slm --help lists the commands)", argv[1]);
}
