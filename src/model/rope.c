// rope.c — RoPE's cos/sin tables, in float32 as Hugging Face computes them:
// inv_freq[i] = 1 / theta^(2i/hd), angle = t · inv_freq[i]; with Llama 3.1's
// rescaling (config.h, slm_rope_scaling) the inverse frequencies are first
// rescaled as transformers' _compute_llama3_parameters does, operation for
// operation in float32 where torch works on float32 tensors: the Python
// scalars it mixes in are doubles, rounded where they meet a tensor, and
// `scalar / tensor` is torch's reciprocal(tensor) * scalar.
#include <math.h>
#include <stdlib.h>

#include "model/llama.h"

static const double TWO_PI = 6.283185307179586;  // 2 * math.pi

static float llama3_rescale(const slm_rope_scaling *s, float inv) {
    const float factor = s->factor, lo = s->low_freq_factor, hi = s->high_freq_factor;
    const float low_wavelen = (float)((double)s->original_max_pos / lo);
    const float high_wavelen = (float)((double)s->original_max_pos / hi);
    const float wavelen = (1.0f / inv) * (float)TWO_PI;
    const float scaled = wavelen > low_wavelen ? inv / factor : inv;  // long wavelengths: divided
    if (wavelen < high_wavelen || wavelen > low_wavelen) return scaled;
    // between the two: interpolated, with smooth going from 0 (divided) to 1 (kept)
    const float smooth = ((1.0f / wavelen) * (float)s->original_max_pos - lo) / (float)((double)hi - (double)lo);
    return (1 - smooth) * scaled / factor + smooth * scaled;
}

float slm_rope_inv_freq(const slm_model_config *c, int i) {
    const int hd = slm_head_dim(c);
    const float inv = 1.0f / powf(c->rope_theta, (float)(2 * i) / (float)hd);
    return c->rope_scaling.factor ? llama3_rescale(&c->rope_scaling, inv) : inv;
}

void slm_rope_tables(const slm_model_config *c, int T, float *cs, float *sn) {
    const int half = slm_head_dim(c) / 2;
    for (int i = 0; i < half; i++) {
        const float inv_freq = slm_rope_inv_freq(c, i);
        for (int t = 0; t < T; t++) {
            const float angle = (float)t * inv_freq;
            cs[(size_t)t * half + i] = cosf(angle);
            sn[(size_t)t * half + i] = sinf(angle);
        }
    }
}
