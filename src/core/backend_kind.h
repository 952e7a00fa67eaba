// backend_kind.h — the kinds of backend a run may ask for (--backend): the
// CPU one and the CUDA one. Named here, below the backends themselves, since
// the run configuration and its records hold the kind; opening one, its
// default and its rules are the backend layer's (backend.h).
#pragma once

typedef enum { SLM_BACKEND_CPU, SLM_BACKEND_CUDA, SLM_BACKEND_NKINDS } slm_backend_kind;
extern const char *const slm_backend_names[SLM_BACKEND_NKINDS];  // "cpu", "cuda"

// The kind named `name` ("cpu", "cuda") into *out; -1 when none is.
int slm_backend_kind_parse(const char *name, slm_backend_kind *out);
