#!/usr/bin/env python3
"""torch_sdpa_bench.py — PyTorch's FlashAttention (scaled_dot_product_attention
with the flash backend forced), causal, bf16, forward and backward, at the
shapes of bench/bench_attention_cuda (B 8, H = 2048/hd, T 512..4096, hd 64 and
128), printing the same JSON fields with "kernel": "torch-sdpa-flash".

Timing: CUDA events around each forward and each backward after warm-ups,
median of --iters. FLOPs as bench_attention_cuda counts them: forward
2·2·B·H·T²·hd / 2 (causal), backward 2.5 times that. Tensors are laid out as
slm's model lays them out, [B, T, H, hd], and handed to SDPA as [B, H, T, hd]
views, as Hugging Face's attention does.
"""
import argparse
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_ms(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def bench(B, T, H, hd, iters, warmup):
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(B, T, H, hd, device="cuda", dtype=torch.bfloat16, generator=g).requires_grad_()
               for _ in range(3))
    dout = torch.randn(B, T, H, hd, device="cuda", dtype=torch.bfloat16, generator=g)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        def fwd():
            return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                  is_causal=True).transpose(1, 2)

        fwd_ms = time_ms(fwd, iters, warmup)
        out = fwd()
        bwd_ms = time_ms(lambda: torch.autograd.grad(out, (q, k, v), dout, retain_graph=True), iters, warmup)
    fwd_flops = 2 * 2 * B * H * T * T * hd / 2
    return {"kernel": "torch-sdpa-flash", "B": B, "T": T, "H": H, "hd": hd, "fwd_ms": fwd_ms, "bwd_ms": bwd_ms,
            "fwd_bwd_tflops": 3.5 * fwd_flops / ((fwd_ms + bwd_ms) * 1e-3) / 1e12,
            "device": torch.cuda.get_device_name(), "versions": f"torch {torch.__version__}; cuda {torch.version.cuda}"}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--B", type=int, default=8)
    p.add_argument("--T", default="512,1024,2048,4096", help="sequence lengths [512,1024,2048,4096]")
    p.add_argument("--hd", default="64,128", help="head dims; H = 2048 / hd [64,128]")
    p.add_argument("--iters", type=int, default=20, help="timed runs per shape, median [20]")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--out", help="append the JSON lines to this file")
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("torch_sdpa_bench: no CUDA device: the benchmarks need a GPU", file=sys.stderr)
        return 2
    for hd in map(int, a.hd.split(",")):
        for T in map(int, a.T.split(",")):
            r = bench(a.B, T, 2048 // hd, hd, a.iters, a.warmup)
            print(f"torch-sdpa-flash B={r['B']} T={T:5d} H={r['H']:3d} hd={hd:3d}: fwd {r['fwd_ms']:.3f} ms, "
                  f"bwd {r['bwd_ms']:.3f} ms, {r['fwd_bwd_tflops']:.1f} TFLOP/s")
            if a.out:
                with open(a.out, "a") as f:
                    f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
