// attention.c — the names of the attention kinds (attention.h).
#include "core/attention.h"

const char *const slm_attention_names[2] = {"vanilla", "flash"};
