// rendezvous.h — how the ranks of a job started without MPI find each other
// (a GPU machine without OpenMPI): rank 0's opaque blob of 128 bytes (NCCL's
// unique id) reaches every other rank, before any communicator exists.
//
//   SLM_RENDEZVOUS=file:PATH      rank 0 writes PATH (atomically, by rename);
//                                 the others read it and each leave PATH.ack<r>;
//                                 rank 0 removes them all once every rank has
//                                 read it. PATH must not exist when rank 0
//                                 starts (a file left by a crashed job is refused).
//   SLM_RENDEZVOUS=tcp:HOST:PORT  rank 0 listens on HOST:PORT; the others
//                                 connect (retrying until rank 0 is up), say
//                                 their rank and read the blob.
//
// The one design decision to know: plain host C with a deadline on every
// wait, so a missing rank ends in a one-line error naming the rendezvous,
// never in a hang, and the exchange is tested without a GPU.
#pragma once
#include "core/err.h"

enum { SLM_RENDEZVOUS_BYTES = 128 };

// Seconds a rank waits for the others before giving up.
#define SLM_RENDEZVOUS_TIMEOUT_S 300.0

typedef struct {
    int rank, world, local_rank;
    char spec[512];  // SLM_RENDEZVOUS; "" when unset
} slm_job_env;

// This process's place in a job from SLM_RANK, SLM_WORLD_SIZE, SLM_LOCAL_RANK
// (default: SLM_RANK, all ranks on one host) and SLM_RENDEZVOUS. Nothing set
// is rank 0 of 1. -1 with err set when a value is malformed or out of range,
// or several ranks are asked for without SLM_RENDEZVOUS.
int slm_job_from_env(slm_job_env *job, slm_err *err);

// Rank 0 gives `blob`; every other rank of `world` receives rank 0's bytes in
// it. Returns once this rank's part is done (rank 0: every rank has the blob).
// -1 with err set (a line naming the rendezvous) on a bad spec, a different
// world size, or when the others are not there within timeout_s.
int slm_rendezvous(const char *spec, int rank, int world, unsigned char blob[SLM_RENDEZVOUS_BYTES], double timeout_s,
                   slm_err *err);
