#!/usr/bin/env python3
"""make_reference.py — reference data for tests/test_hf_reference.c.

Builds a tiny Hugging Face LlamaForCausalLM in float32 (eager attention),
untied and tied, and writes for each: the config, every weight by its Hugging
Face name, a batch of inputs and targets, the logits, the loss, every
parameter gradient, and the losses of 5 AdamW steps on the same batch.
The file format is described in tests/reference/README.md.

    python3 tests/reference/make_reference.py            # writes tests/data/hf_llama_{untied,tied}.bin
    python3 tests/reference/make_reference.py --out DIR
"""
import argparse
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

MAGIC = b"SLMREF\0\0"
VERSION = 1
DTYPES = {np.dtype(np.float32): 0, np.dtype(np.int32): 1}

# Shape of the model and the batch (the C test reads them from the file).
SHAPE = dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=2, ffn_dim=176, vocab=256, seq_len=16)
NORM_EPS = 1e-5
ROPE_THETA = 10000.0
INIT_STD = 0.1  # larger than HF's 0.02, so attention is far from uniform and RoPE matters
B, T = 2, 16
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, grad_clip=1.0)
STEPS = 5


def write_entries(path, entries):
    """entries: list of (name, numpy array of float32 or int32)."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<II", VERSION, len(entries)))
        for name, a in entries:
            a = np.ascontiguousarray(a)
            nb = name.encode("ascii")
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<II", DTYPES[a.dtype], a.ndim))
            f.write(struct.pack("<%dI" % a.ndim, *a.shape))
            f.write(a.astype(a.dtype.newbyteorder("<")).tobytes())


def f32(x):
    # a copy: the optimizer later updates the parameters in place
    return np.array(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.float32, copy=True)


def i32(x):
    return np.array(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.int32, copy=True)


def make(tied, seed):
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=SHAPE["vocab"],
        hidden_size=SHAPE["d_model"],
        intermediate_size=SHAPE["ffn_dim"],
        num_hidden_layers=SHAPE["n_layers"],
        num_attention_heads=SHAPE["n_heads"],
        num_key_value_heads=SHAPE["n_kv_heads"],
        max_position_embeddings=SHAPE["seq_len"],
        rms_norm_eps=NORM_EPS,
        rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
        initializer_range=INIT_STD,
        tie_word_embeddings=tied,
        attention_bias=False,
        mlp_bias=False,
        use_cache=False,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(cfg).float()
    assert model.config._attn_implementation == "eager"
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:  # norm weights: away from 1, so their gradients matter
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    if tied:
        assert model.lm_head.weight is model.model.embed_tokens.weight

    inputs = torch.randint(0, SHAPE["vocab"], (B, T))
    targets = torch.randint(0, SHAPE["vocab"], (B, T))
    params = dict(model.named_parameters())  # shared tensors appear once (tied head omitted)
    assert ("lm_head.weight" in params) == (not tied)

    entries = []
    for k, v in SHAPE.items():
        entries.append(("config." + k, i32(v)))
    entries.append(("config.tie_embeddings", i32(int(tied))))
    entries.append(("config.norm_eps", f32(NORM_EPS)))
    entries.append(("config.rope_theta", f32(ROPE_THETA)))
    for k, v in ADAMW.items():
        entries.append(("adamw." + k, f32(v)))
    entries.append(("adamw.steps", i32(STEPS)))
    for name, p in params.items():
        entries.append(("weight." + name, f32(p)))
    entries.append(("inputs", i32(inputs)))
    entries.append(("targets", i32(targets)))

    def loss_of(logits):
        return F.cross_entropy(logits.view(-1, SHAPE["vocab"]), targets.view(-1))

    model.train()
    model.zero_grad(set_to_none=True)
    logits = model(input_ids=inputs).logits
    loss = loss_of(logits)
    loss.backward()
    entries.append(("logits", f32(logits)))
    entries.append(("loss", f32(loss.item())))
    for name, p in params.items():
        entries.append(("grad." + name, f32(p.grad)))

    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": ADAMW["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"],
    )
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        step_loss = loss_of(model(input_ids=inputs).logits)
        losses.append(step_loss.item())
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), ADAMW["grad_clip"])
        opt.step()
    entries.append(("train.losses", f32(losses)))
    return entries, loss.item(), losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    print("torch %s, transformers %s, numpy %s" % (torch.__version__, transformers.__version__, np.__version__))
    for tied, seed in ((False, 1234), (True, 4321)):
        entries, loss, losses = make(tied, seed)
        path = os.path.join(args.out, "hf_llama_%s.bin" % ("tied" if tied else "untied"))
        write_entries(path, entries)
        print("%s: %d entries, %d bytes, loss %.6f, AdamW losses %s"
              % (os.path.relpath(path), len(entries), os.path.getsize(path), loss,
                 " ".join("%.6f" % x for x in losses)))


if __name__ == "__main__":
    main()
