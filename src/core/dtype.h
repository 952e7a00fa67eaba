// dtype.h — the element types of device buffers: fp32 (parameters' master
// copy, gradients, optimizer state, the CPU's activations), fp64 (host
// scalars through collectives) and bf16 (the CUDA backend's activations and
// compute copy of the weights). One enum for the op table, the model's
// buffers and the collectives, so a buffer's size and what is sent agree.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { SLM_F32, SLM_F64, SLM_BF16 } slm_dtype;

size_t slm_dtype_bytes(slm_dtype t);      // 4, 8, 2
const char *slm_dtype_name(slm_dtype t);  // "fp32", "fp64", "bf16"
// The dtype named `name` ("fp32", "fp64", "bf16") into *out; -1 when none is.
int slm_dtype_parse(const char *name, slm_dtype *out);
// A bf16 (the top 16 bits of an fp32) widened to fp32 on the host, exactly:
// the same bits as the CUDA kernels' conversion (backend/bf16.h).
float slm_bf16_to_f32(uint16_t h);
