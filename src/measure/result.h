// result.h — from a training run's result to its result record: the one
// place that maps slm_train_result onto the record's fields, for `slm train`
// and `slm bench` alike.
#pragma once
#include <stdio.h>

#include "core/record.h"
#include "train/trainer.h"

// Init rec (source "measured") from rc, then fill status, message, device,
// step times, throughput, memory peaks, communication share, tokens and losses.
void slm_record_from_train(slm_record *rec, const slm_run_config *rc, const slm_train_result *res);
// For a run of several ranks: each rank's peak memory and its split, and the
// share of step time spent waiting on communication (nothing for one rank).
void slm_print_ranks(FILE *f, const slm_train_result *res);
