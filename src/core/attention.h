// attention.h — the attention kinds a run chooses between (--attention): the
// vanilla kernel, which keeps the T×T probabilities, and flash, which keeps
// only their log-sum-exp. The op table (backend.h) has one pair of ops for each.
#pragma once

typedef enum { SLM_ATTN_VANILLA, SLM_ATTN_FLASH } slm_attention;
extern const char *const slm_attention_names[2];  // "vanilla", "flash"
