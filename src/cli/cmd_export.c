// cmd_export.c — `slm export CKPT --out DIR`: a checkpoint (slm's, or a
// Hugging Face one, which makes export a converter between dtypes and shard
// sizes) as a Hugging Face checkpoint directory that transformers loads
// (model/hf_export.h). The weights are loaded whole into the host's memory
// (the CPU backend), then written tensor by tensor.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/err.h"
#include "model/hf_export.h"
#include "train/init_from.h"

// A size as transformers' max_shard_size writes it: bytes, or with KB, MB, GB (powers of 10) or KiB, MiB, GiB.
static uint64_t parse_shard_size(const char *s) {
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024}, {"MiB", 1048576}, {"GiB", 1073741824}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!errno && end != s && !strcmp(end, units[i].unit) && v * units[i].mult >= 1 && v * units[i].mult < 1e15)
            return (uint64_t)(v * units[i].mult);
    slm_die(SLM_EXIT_USAGE, "--shard-size expects a size like 5GB, 500MB or 2GiB (at least one byte), got '%s'", s);
}

typedef struct {
    const char *src, *out, *dtype, *shard_size;
} export_options;

static void parse_options(int argc, char **argv, export_options *o) {
    *o = (export_options){.dtype = "fp32", .shard_size = "5GB"};
    const int positional = argc > 1 && strncmp(argv[1], "--", 2);
    if (positional) o->src = argv[1];
    slm_flag flags[] = {
        {"--out", FLAG_STR, &o->out, "directory to write (made if missing; its former weights replaced) (required)"},
        {"--dtype", FLAG_STR, &o->dtype, "fp32|bf16: the weights' dtype in the files [fp32]"},
        {"--shard-size", FLAG_STR, &o->shard_size,
         "most bytes of weights per file, as transformers' max_shard_size (5GB, 500MB, 2GiB) [5GB]"},
    };
    argv[positional] = argv[0];  // the flags follow the checkpoint
    slm_flags_parse(flags, sizeof flags / sizeof flags[0], argc - positional, argv + positional,
                    "slm export CKPT --out DIR [--dtype fp32|bf16] [--shard-size 5GB]",
                    "Writes a checkpoint as a Hugging Face LlamaForCausalLM directory: config.json (the 4.x dialect,\n"
                    "which transformers 4.x and 5.x both load), generation_config.json and model.safetensors, or\n"
                    "past --shard-size model-0000i-of-0000n.safetensors and model.safetensors.index.json.\n"
                    "CKPT is a checkpoint of slm train --save, or a Hugging Face directory or .safetensors.\n"
                    "Load it with AutoModelForCausalLM.from_pretrained(DIR); the tokenizer is not part of it\n"
                    "(docs/hf.md).\n"
                    "example: slm export small.ckpt --out small-hf --dtype bf16");
    if (!o->src || !o->out) slm_die(SLM_EXIT_USAGE, "export needs a checkpoint and --out DIR (see slm export --help)");
    if (strcmp(o->dtype, "fp32") && strcmp(o->dtype, "bf16"))
        slm_die(SLM_EXIT_USAGE, "--dtype %s is not fp32 or bf16", o->dtype);
}

int slm_cmd_export(int argc, char **argv) {
    export_options o;
    parse_options(argc, argv, &o);
    const uint64_t shard = parse_shard_size(o.shard_size);
    const int bf16 = !strcmp(o.dtype, "bf16");
    slm_err err;
    slm_model_config cfg;
    slm_model m;
    int seq_len;
    if (slm_source_config(o.src, &cfg, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    slm_backend *be = slm_backend_cpu();
    if (slm_model_init(&m, &cfg, be, 0, &err) || slm_source_load_model(o.src, &m, &seq_len, &err) ||
        slm_hf_export(o.out, &m.cfg, &m.layout, m.params, bf16, shard, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    printf("exported %s (%lld parameters, %s) to %s: config.json, generation_config.json and its weights\n", cfg.name,
           (long long)m.layout.n_params, bf16 ? "bf16" : "fp32", o.out);
    slm_model_free(&m);
    slm_backend_destroy(be);
    return SLM_EXIT_OK;
}
