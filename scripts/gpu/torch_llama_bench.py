#!/usr/bin/env python3
"""torch_llama_bench.py — the PyTorch side of `make gpu-check`: Hugging Face
LlamaForCausalLM with exactly the shape of one of slm's models, trained on
synthetic tokens with fused AdamW, timed as docs/benchmarks.md says (warm-up steps,
then at least --min-steps steps and --min-time seconds, synchronised; median,
p10, p90), one JSON line per framework with slm's record field names plus
"framework" ("pytorch-eager" or "pytorch-compile").

The shape is read from `slm info --model NAME` (the presets live in
src/core/config.c); the parameter count of the built model must equal slm's.
Attention: "vanilla" is transformers' eager attention (scores materialised),
"flash" is SDPA with the FlashAttention backend forced (no silent fallback).

The one design decision to know: precision is PyTorch's mixed precision, the
same as slm's CUDA backend — fp32 parameters (the master copy), fp32 gradients
and AdamW state, bf16 compute through torch.autocast. `--precision bf16`
instead keeps the parameters themselves in bf16 (no fp32 master: less memory,
a different training) and the record says which ("precision").
"""
import argparse
import gc
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print(f"torch_llama_bench: {msg}", file=sys.stderr)
    sys.exit(2)


def read_shape(slm, model, seq_len):
    """The model's shape, parameter count and multiplied weights N, from `slm info`."""
    try:
        out = subprocess.run([slm, "info", "--model", model, "--seq-len", str(seq_len)], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"cannot run `{slm} info --model {model}` ({e}); build slm first (make gpu-check builds build-gpu/slm)")
    m = re.search(r"model \S+: (\d+) layers, d_model (\d+), (\d+) heads \((\d+) kv\), head dim (\d+), ffn (\d+), "
                  r"vocab (\d+), max seq (\d+), (tied|untied) head", out)
    p = re.search(r"parameters: (\d+)", out)
    n = re.search(r"N = (\d+) multiplied weights", out)
    if not (m and p and n):
        fail(f"`slm info --model {model}` printed no shape this script can read:\n{out}")
    keys = ["n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "ffn_dim", "vocab", "max_seq_len"]
    shape = dict(zip(keys, map(int, m.groups()[:8])))
    shape.update(tie_embeddings=m.group(9) == "tied", params=int(p.group(1)), n_multiplied=int(n.group(1)))
    # RoPE's theta and RMSNorm's epsilon are not printed; the presets set them in config.c (they cost nothing).
    src = open(os.path.join(ROOT, "src", "core", "config.c")).read()
    theta, eps = re.search(r"rope_theta = ([0-9.e+-]+)f;", src), re.search(r"norm_eps = ([0-9.e+-]+)f;", src)
    if not (theta and eps):
        fail("src/core/config.c sets no rope_theta / norm_eps this script can read")
    shape.update(rope_theta=float(theta.group(1)), norm_eps=float(eps.group(1)))
    return shape


def peak_flops(device_name):
    """bf16 dense peak FLOP/s of the device and its source, from data/hardware.json; (None, None) if absent."""
    with open(os.path.join(ROOT, "data", "hardware.json")) as f:
        devices = json.load(f)["devices"]
    for d in devices:
        words = d.get("match", [])
        if d.get("peak_bf16_flops_per_s") and words and all(w.lower() in device_name.lower() for w in words):
            return float(d["peak_bf16_flops_per_s"]), f"data/hardware.json {d['name']}: {d.get('source', '')}"
    return None, None


def build_model(shape, attention, precision, device):
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM

    v5 = int(transformers.__version__.split(".")[0]) >= 5
    rope = ({"rope_parameters": {"rope_type": "default", "rope_theta": shape["rope_theta"]}} if v5 else
            {"rope_theta": shape["rope_theta"]})
    config = LlamaConfig(vocab_size=shape["vocab"], hidden_size=shape["d_model"],
                         intermediate_size=shape["ffn_dim"], num_hidden_layers=shape["n_layers"],
                         num_attention_heads=shape["n_heads"], num_key_value_heads=shape["n_kv_heads"],
                         head_dim=shape["head_dim"], max_position_embeddings=shape["max_seq_len"],
                         rms_norm_eps=shape["norm_eps"], tie_word_embeddings=shape["tie_embeddings"],
                         hidden_act="silu", attention_bias=False, mlp_bias=False, use_cache=False, **rope)
    config._attn_implementation = "eager" if attention == "vanilla" else "sdpa"
    with torch.device(device):
        model = LlamaForCausalLM(config)
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    model.train()
    n = sum(p.numel() for p in model.parameters())
    if n != shape["params"]:
        raise RuntimeError(f"the Hugging Face model has {n} parameters, slm's {shape['params']}: shapes differ")
    return model


def optimizer(model, device):
    """AdamW as slm's defaults: lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on matrices only."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, fused=True)


def measure(framework, shape, a, device):
    """Times one framework; returns the measured fields (raises on OOM or error)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    model = build_model(shape, a.attention, a.precision, device)
    opt = optimizer(model, device)
    run = torch.compile(model) if framework == "pytorch-compile" else model
    accum = a.global_batch // a.micro_batch
    gen = torch.Generator(device=device).manual_seed(1337)
    batches = [torch.randint(shape["vocab"], (a.micro_batch, a.seq_len), device=device, generator=gen)
               for _ in range(4)]
    amp = torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16,
                         enabled=a.precision == "amp")
    params = list(model.parameters())
    k = 0

    def step():
        nonlocal k
        for _ in range(accum):
            x = batches[k % len(batches)]
            k += 1
            with amp:
                if a.attention == "flash":
                    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                        loss = run(input_ids=x, labels=x).loss
                else:
                    loss = run(input_ids=x, labels=x).loss
            (loss / accum).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    t0 = time.perf_counter()
    for _ in range(a.warmup_steps):
        step()
    sync()
    warmup_s = time.perf_counter() - t0
    times = []
    while len(times) < a.min_steps or sum(times) < a.min_time:
        sync()
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    fields = dict(zip(["step_time_s", "step_time_p10_s", "step_time_p90_s"],
                      map(float, np.percentile(times, [50, 10, 90]))))
    fields.update(steps_timed=len(times), warmup_s=warmup_s)
    if cuda:
        fields.update(peak_mem_bytes=torch.cuda.max_memory_allocated(),
                      peak_mem_reserved_bytes=torch.cuda.max_memory_reserved())
    return fields


def free():
    gc.collect()
    torch._dynamo.reset()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def record(framework, shape, a, device, measured, status, message):
    import transformers
    cuda = device.startswith("cuda")
    name = torch.cuda.get_device_name() if cuda else f"{platform.processor() or 'cpu'} ({os.cpu_count()} cores)"
    peak, peak_source = peak_flops(name) if cuda else (None, None)
    T, L, H, Q = a.seq_len, shape["n_layers"], shape["n_heads"], shape["head_dim"]
    flops_per_token = 6 * shape["n_multiplied"] + 12 * L * H * Q * T
    r = {"schema": 1, "source": "measured", "status": status, "message": message, "model": a.model,
         "params": shape["params"], "n_layers": L, "d_model": shape["d_model"], "n_heads": H,
         "n_kv_heads": shape["n_kv_heads"], "ffn_dim": shape["ffn_dim"], "vocab": shape["vocab"], "seq_len": T,
         "micro_batch": a.micro_batch, "global_batch": a.global_batch, "grad_accum": a.global_batch // a.micro_batch,
         "attention": a.attention, "strategy": "single", "world_size": 1, "nodes": 1,
         "backend": "cuda" if cuda else "cpu", "device": name, "dtype": "bf16", "mem_limit_bytes": None,
         "framework": framework, "precision": "amp-fp32-master" if a.precision == "amp" else "bf16-params",
         "step_time_s": None, "step_time_p10_s": None, "step_time_p90_s": None, "tokens_per_s": None,
         "tokens_per_s_per_device": None, "flops_per_token": flops_per_token, "flops_formula": "6N + 12*L*H*Q*T",
         "peak_flops_per_device": peak, "peak_flops_source": peak_source, "mfu": None, "peak_mem_bytes": None}
    r.update(measured)
    if status == "ok":
        tps = a.global_batch * T / r["step_time_s"]
        r.update(tokens_per_s=tps, tokens_per_s_per_device=tps, mfu=flops_per_token * tps / peak if peak else None)
    r.update(date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), host=socket.gethostname(),
             versions=f"torch {torch.__version__}; transformers {transformers.__version__}; "
                      f"cuda {torch.version.cuda}; python {platform.python_version()}")
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="100m", help="slm model name or JSON file [100m]")
    p.add_argument("--slm", default=os.path.join(ROOT, "build-gpu", "slm"), help="the slm binary [build-gpu/slm]")
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--global-batch", type=int, help="sequences per optimizer step [micro batch]")
    p.add_argument("--attention", choices=["vanilla", "flash"], default="flash")
    p.add_argument("--frameworks", default="eager,compile", help="eager,compile or one of them [both]")
    p.add_argument("--precision", choices=["amp", "bf16"], default="amp")
    p.add_argument("--device", default="cuda")
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--min-steps", type=int, default=10)
    p.add_argument("--min-time", type=float, default=10.0, help="timed seconds at least [10]")
    p.add_argument("--out", help="append the records (JSON Lines) to this file")
    a = p.parse_args()
    a.global_batch = a.global_batch or a.micro_batch
    if a.global_batch % a.micro_batch:
        fail(f"--global-batch {a.global_batch} is not a multiple of --micro-batch {a.micro_batch}")
    frameworks = ["pytorch-" + f for f in a.frameworks.split(",")]
    if any(f not in ("pytorch-eager", "pytorch-compile") for f in frameworks):
        fail(f"--frameworks {a.frameworks}: expected eager, compile or eager,compile")
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        fail("no CUDA device: the benchmarks need a GPU (or --device cpu for a smoke run)")
    shape = read_shape(a.slm, a.model, a.seq_len)
    oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    failed = 0
    for fw in frameworks:
        try:
            measured, status, message = measure(fw, shape, a, a.device), "ok", None
        except Exception as e:  # every failure is a record: an OOM is a data point, an error is reported
            is_oom = isinstance(e, oom) or "out of memory" in str(e).lower()
            measured, status, message = {}, "oom" if is_oom else "error", f"{type(e).__name__}: {str(e)[:400]}"
            failed += not is_oom
        free()
        r = record(fw, shape, a, a.device, measured, status, message)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(r) + "\n")
        if status == "ok":
            mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "n/a"
            mem = f"{r['peak_mem_bytes'] / 2**30:.1f} GiB" if r["peak_mem_bytes"] else "n/a"
            print(f"{fw:16s} {a.model} T={a.seq_len} B={a.micro_batch} {a.attention:7s}: "
                  f"{r['step_time_s'] * 1e3:.1f} ms/step (p10 {r['step_time_p10_s'] * 1e3:.1f}, "
                  f"p90 {r['step_time_p90_s'] * 1e3:.1f}; {r['steps_timed']} steps), "
                  f"{r['tokens_per_s']:.0f} tokens/s, MFU {mfu}, peak {mem}")
        else:
            print(f"{fw:16s} {a.model} T={a.seq_len} B={a.micro_batch} {a.attention:7s}: {status}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
