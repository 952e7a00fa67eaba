// attention.c — vanilla causal attention, as eager PyTorch computes it: the
// scores S = q·kᵀ/√hd and the probabilities P = softmax(S) are materialised,
// B·H·T² elements each in the compute dtype (P is saved for backward, S is
// shared scratch that the backward reuses for dP). Each (sequence, head) is
// one GEMM pair through cpu_gemm; q, k, v are read in place through leading
// dimensions, never copied. Grouped-query attention: query head h reads kv
// head h / (H/KVH). The backward runs one thread per (sequence, kv head),
// looping over the query heads of the group, so the heads that share dk and
// dv add into them without a race. In bf16 every GEMM output is rounded to
// bf16 (S, P, the output, dP, dS, the gradients), the softmax is fp32.
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

// P[i,:] = softmax of S[i, 0..i], zero above the diagonal.
static inline void causal_softmax(void *P, const void *S, int T, int bf) {
    for (int i = 0; i < T; i++) {
        size_t row = (size_t)i * T;
        float mx = -INFINITY, sum = 0.0f;
#pragma omp simd reduction(max : mx)
        for (int j = 0; j <= i; j++) {
            float s = cpu_ld(S, row + j, bf);
            mx = s > mx ? s : mx;
        }
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j <= i; j++) sum += slm_expf(cpu_ld(S, row + j, bf) - mx);
        float inv = 1.0f / sum;
        for (int j = 0; j <= i; j++) cpu_st(P, row + j, slm_expf(cpu_ld(S, row + j, bf) - mx) * inv, bf);
        for (int j = i + 1; j < T; j++) cpu_st(P, row + j, 0.0f, bf);
    }
}

static inline void attention_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                 int B, int T, int H, int KVH, int hd, int bf) {
    const slm_dtype t = bf ? SLM_BF16 : SLM_F32;
    const size_t es = bf ? 2 : 4;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            char *S = (char *)scratch + bh * T * T * es, *P = (char *)saved + bh * T * T * es;
            const char *qb = (const char *)q + ((size_t)b * T * ldq + h * hd) * es;
            const char *kb = (const char *)k + ((size_t)b * T * ldkv + (h / group) * hd) * es;
            const char *vb = (const char *)v + ((size_t)b * T * ldkv + (h / group) * hd) * es;
            // S[T,T] = scale · q[T,hd] · k[T,hd]ᵀ
            cpu_gemm(t, t, 0, 1, T, T, hd, scale, qb, ldq, kb, ldkv, 0.0f, S, T);
            causal_softmax(P, S, T, bf);
            // out[T,hd] = P[T,T] · v[T,hd]
            cpu_gemm(t, t, 0, 0, T, hd, T, 1.0f, P, T, vb, ldkv, 0.0f,
                     (char *)out + ((size_t)b * T * ldq + h * hd) * es, ldq);
        }
}

// dS = P ∘ (dP − rowsum(P ∘ dP)) in place of dP, zero above the diagonal.
static inline void softmax_bwd(void *dS, const void *P, int T, int bf) {
    for (int i = 0; i < T; i++) {
        size_t row = (size_t)i * T;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int j = 0; j <= i; j++) dot += cpu_ld(P, row + j, bf) * cpu_ld(dS, row + j, bf);
        for (int j = 0; j <= i; j++) cpu_st(dS, row + j, cpu_ld(P, row + j, bf) * (cpu_ld(dS, row + j, bf) - dot), bf);
        for (int j = i + 1; j < T; j++) cpu_st(dS, row + j, 0.0f, bf);
    }
}

static inline void attention_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *saved,
                                 const void *q, const void *k, const void *v, int B, int T, int H, int KVH, int hd,
                                 int bf) {
    const slm_dtype t = bf ? SLM_BF16 : SLM_F32;
    const size_t es = bf ? 2 : 4;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const size_t kv_off = ((size_t)b * T * ldkv + kvh * hd) * es;
            const char *kb = (const char *)k + kv_off, *vb = (const char *)v + kv_off;
            char *dkb = (char *)dk + kv_off, *dvb = (char *)dv + kv_off;
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                size_t bh = (size_t)b * H + h, q_off = ((size_t)b * T * ldq + h * hd) * es;
                const char *P = (const char *)saved + bh * T * T * es;
                char *dS = (char *)scratch + bh * T * T * es;
                const char *qb = (const char *)q + q_off, *dob = (const char *)dout + q_off;
                float beta = g == 0 ? 0.0f : 1.0f;
                // dP[T,T] = dout[T,hd] · v[T,hd]ᵀ
                cpu_gemm(t, t, 0, 1, T, T, hd, 1.0f, dob, ldq, vb, ldkv, 0.0f, dS, T);
                // dv[T,hd] (+)= Pᵀ · dout
                cpu_gemm(t, t, 1, 0, T, hd, T, 1.0f, P, T, dob, ldq, beta, dvb, ldkv);
                softmax_bwd(dS, P, T, bf);
                // dq[T,hd] = scale · dS · k ;  dk[T,hd] (+)= scale · dSᵀ · q
                cpu_gemm(t, t, 0, 0, T, hd, T, scale, dS, T, kb, ldkv, 0.0f, (char *)dq + q_off, ldq);
                cpu_gemm(t, t, 1, 0, T, hd, T, scale, dS, T, qb, ldq, beta, dkb, ldkv);
            }
        }
}

void cpu_attention_vanilla_fwd(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                               int B, int T, int H, int KVH, int hd) {
#pragma omp parallel
    attention_fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd, 0);
}
void cpu_attention_vanilla_fwd_bf16(void *out, void *saved, void *scratch, const void *q, const void *k, const void *v,
                                    int B, int T, int H, int KVH, int hd) {
#pragma omp parallel
    attention_fwd(out, saved, scratch, q, k, v, B, T, H, KVH, hd, 1);
}
void cpu_attention_vanilla_bwd(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                               const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                               int KVH, int hd) {
    (void)out;
#pragma omp parallel
    attention_bwd(dq, dk, dv, scratch, dout, saved, q, k, v, B, T, H, KVH, hd, 0);
}
void cpu_attention_vanilla_bwd_bf16(void *dq, void *dk, void *dv, void *scratch, const void *dout, const void *out,
                                    const void *saved, const void *q, const void *k, const void *v, int B, int T, int H,
                                    int KVH, int hd) {
    (void)out;
#pragma omp parallel
    attention_bwd(dq, dk, dv, scratch, dout, saved, q, k, v, B, T, H, KVH, hd, 1);
}
