// attention.c — vanilla causal attention, as eager PyTorch computes it: the
// scores S = q·kᵀ/√hd and the probabilities P = softmax(S) are materialised,
// B·H·T² floats each (P is saved for backward, S is shared scratch that the
// backward reuses for dP). Each (sequence, head) is one GEMM pair; q, k, v are
// read in place through leading dimensions, never copied. Grouped-query
// attention: query head h reads kv head h / (H/KVH). The backward runs one
// thread per (sequence, kv head), looping over the query heads of the group,
// so the heads that share dk and dv add into them without a race.
#include <cblas.h>
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/fast_exp.h"

void cpu_attention_vanilla_fwd(void *out_, void *saved_, void *scratch_, const void *q_, const void *k_, const void *v_,
                               int B, int T, int H, int KVH, int hd) {
    float *out = out_, *saved = saved_, *scratch = scratch_;
    const float *q = q_, *k = k_, *v = v_;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t bh = (size_t)b * H + h;
            float *S = scratch + bh * T * T, *P = saved + bh * T * T;
            const float *qb = q + (size_t)b * T * ldq + h * hd;
            const float *kb = k + (size_t)b * T * ldkv + (h / group) * hd;
            const float *vb = v + (size_t)b * T * ldkv + (h / group) * hd;
            // S[T,T] = scale · q[T,hd] · k[T,hd]ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, qb, ldq, kb, ldkv, 0.0f, S, T);
            for (int i = 0; i < T; i++) {
                const float *s = S + (size_t)i * T;
                float *p = P + (size_t)i * T;
                float mx = -INFINITY, sum = 0.0f;
#pragma omp simd reduction(max : mx)
                for (int j = 0; j <= i; j++) mx = s[j] > mx ? s[j] : mx;
#pragma omp simd reduction(+ : sum)
                for (int j = 0; j <= i; j++) {
                    p[j] = slm_expf(s[j] - mx);
                    sum += p[j];
                }
                float inv = 1.0f / sum;
                for (int j = 0; j <= i; j++) p[j] *= inv;
                for (int j = i + 1; j < T; j++) p[j] = 0.0f;
            }
            // out[T,hd] = P[T,T] · v[T,hd]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, P, T, vb, ldkv, 0.0f,
                        out + (size_t)b * T * ldq + h * hd, ldq);
        }
}

void cpu_attention_vanilla_bwd(void *dq_, void *dk_, void *dv_, void *scratch_, const void *dout_, const void *out_,
                               const void *saved_, const void *q_, const void *k_, const void *v_, int B, int T, int H,
                               int KVH, int hd) {
    float *dq = dq_, *dk = dk_, *dv = dv_, *scratch = scratch_;
    const float *dout = dout_, *saved = saved_, *q = q_, *k = k_, *v = v_;
    const int ldq = H * hd, ldkv = KVH * hd, group = H / KVH;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int kvh = 0; kvh < KVH; kvh++) {
            const float *kb = k + (size_t)b * T * ldkv + kvh * hd, *vb = v + (size_t)b * T * ldkv + kvh * hd;
            float *dkb = dk + (size_t)b * T * ldkv + kvh * hd, *dvb = dv + (size_t)b * T * ldkv + kvh * hd;
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                size_t bh = (size_t)b * H + h;
                const float *P = saved + bh * T * T;
                float *dS = scratch + bh * T * T;
                const float *qb = q + (size_t)b * T * ldq + h * hd, *dob = dout + (size_t)b * T * ldq + h * hd;
                float beta = g == 0 ? 0.0f : 1.0f;
                // dP[T,T] = dout[T,hd] · v[T,hd]ᵀ
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, dob, ldq, vb, ldkv, 0.0f, dS, T);
                // dv[T,hd] (+)= Pᵀ · dout
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1.0f, P, T, dob, ldq, beta, dvb, ldkv);
                // dS = P ∘ (dP − rowsum(P ∘ dP)), zero above the diagonal
                for (int i = 0; i < T; i++) {
                    const float *p = P + (size_t)i * T;
                    float *d = dS + (size_t)i * T;
                    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                    for (int j = 0; j <= i; j++) dot += p[j] * d[j];
                    for (int j = 0; j <= i; j++) d[j] = p[j] * (d[j] - dot);
                    for (int j = i + 1; j < T; j++) d[j] = 0.0f;
                }
                // dq[T,hd] = scale · dS · k ;  dk[T,hd] (+)= scale · dSᵀ · q
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, scale, dS, T, kb, ldkv, 0.0f,
                            dq + (size_t)b * T * ldq + h * hd, ldq);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, scale, dS, T, qb, ldq, beta, dkb, ldkv);
            }
        }
}
