#!/usr/bin/env python3
"""make_hf_fixtures.py — Hugging Face checkpoints for tests/test_hf_import.c and tests/test_hf_config.c.

Saves tiny random LlamaForCausalLM models with save_pretrained, as transformers
writes them (config.json, generation_config.json, model.safetensors or shards
and model.safetensors.index.json), and beside each:

  config_v4.json   the same config in the transformers 4.x dialect (top-level
                   rope_theta and rope_scaling, torch_dtype), checked here to
                   load into the same LlamaConfig as config.json;
  reference.json   a fixed batch (inputs, targets), the logits HF computes for
                   it in float32 with eager attention after loading the saved
                   directory (from_pretrained, dtype float32), and the mean
                   cross-entropy; floats with 9 significant digits, which
                   round-trips float32.

Fixtures (tests/data/hf/NAME/), all 2 layers, hidden 32, 4 heads, ffn 48, vocab 64:
  untied   float32, 2 kv heads (GQA), untied head
  tied     float32, 2 kv heads, tie_word_embeddings
  bf16     bfloat16 file, 2 kv heads; its logits are float32 compute over the
           bf16 weights (widened exactly), so an exact import matches them as
           closely as a float32 file's
  sharded  float32, 4 kv heads (plain multi-head), max_shard_size 24KB
  llama3   float32, 2 kv heads, rope_parameters of type llama3 (theta 100,
           factor 4, low/high freq factor 1/4, original context 32), so the
           three bands of the rescaling (kept, smoothed, divided) all occur

Made with torch 2.15.0, transformers 5.23.0, safetensors 0.8.0, numpy 2.4.6
(CPU, torch.set_num_threads(1)); rerunning with them gives the same bytes.

    python3 tests/reference/make_hf_fixtures.py              # writes tests/data/hf/
    python3 tests/reference/make_hf_fixtures.py --out DIR
"""
import argparse
import json
import os
import shutil

import numpy as np
import safetensors
import torch
import torch.nn.functional as F
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

VERSIONS = {"torch": "2.15.0", "transformers": "5.23.0", "safetensors": "0.8.0", "numpy": "2.4.6"}
SHAPE = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4)
INIT_STD = 0.1  # far from uniform attention, so that RoPE matters
B, T = 2, 8
LLAMA3 = {"rope_type": "llama3", "rope_theta": 100.0, "factor": 4.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 32}

FIXTURES = [
    # name, seed, kv heads, tied, file dtype, max_shard_size, rope parameters
    ("untied", 11, 2, False, torch.float32, None, None),
    ("tied", 12, 2, True, torch.float32, None, None),
    ("bf16", 13, 2, False, torch.bfloat16, None, None),
    ("sharded", 14, 4, False, torch.float32, "24KB", None),
    ("llama3", 15, 2, False, torch.float32, None, LLAMA3),
]


def make_model(seed, kv_heads, tied, rope):
    torch.manual_seed(seed)
    cfg = LlamaConfig(**SHAPE, num_key_value_heads=kv_heads, max_position_embeddings=128, rms_norm_eps=1e-5,
                      rope_parameters=rope or {"rope_type": "default", "rope_theta": 10000.0},
                      initializer_range=INIT_STD, tie_word_embeddings=tied, attn_implementation="eager")
    model = LlamaForCausalLM(cfg).float()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:  # norm weights away from 1
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    return model


def v4_dialect(cfg):
    """config.json as transformers 4.x writes it: rope_theta and rope_scaling at the top, torch_dtype."""
    out = dict(cfg)
    rope = dict(out.pop("rope_parameters"))
    out["rope_theta"] = rope.pop("rope_theta")
    out["rope_scaling"] = None if rope["rope_type"] == "default" else rope
    out["torch_dtype"] = out.pop("dtype")
    out.pop("transformers_version", None)
    return out


def load_logits(d, inputs):
    """What HF computes for the saved directory: loaded in float32 (a bf16 file widened exactly), eager attention.
    (Not the model in memory: .to(bfloat16) rounds its RoPE inverse frequencies too.)"""
    model = LlamaForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    with torch.no_grad():
        return model, model(input_ids=inputs).logits


def check_v4_loads_alike(path_v4, model, inputs, logits):
    """transformers 5.x reads the 4.x dialect into the same config, and the same logits."""
    with open(path_v4) as f:
        cfg4 = LlamaConfig.from_dict(json.load(f))
    cfg4._attn_implementation = "eager"
    assert cfg4.rope_parameters == model.config.rope_parameters, (cfg4.rope_parameters, model.config.rope_parameters)
    twin = LlamaForCausalLM(cfg4).float()
    twin.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(twin(input_ids=inputs).logits, logits), path_v4


def floats(xs):
    return "[" + ",".join("%.9g" % x for x in xs) + "]"


def make(out_dir, name, seed, kv_heads, tied, dtype, shard, rope):
    model = make_model(seed, kv_heads, tied, rope)
    model = model.to(dtype)  # the bf16 fixture's weights rounded once, here
    inputs = torch.randint(0, SHAPE["vocab_size"], (B, T))
    targets = torch.randint(0, SHAPE["vocab_size"], (B, T))
    d = os.path.join(out_dir, name)
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, **({"max_shard_size": shard} if shard else {}))
    loaded, logits = load_logits(d, inputs)
    loss = F.cross_entropy(logits.view(-1, SHAPE["vocab_size"]), targets.view(-1))
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(d, "config_v4.json"), "w") as f:
        json.dump(v4_dialect(cfg), f, indent=2, sort_keys=True)
        f.write("\n")
    check_v4_loads_alike(os.path.join(d, "config_v4.json"), loaded, inputs, logits)
    ref = {
        "about": "logits of HF LlamaForCausalLM (transformers %s, float32, eager) on inputs; loss = mean "
                 "cross-entropy of the logits against targets" % transformers.__version__,
        "batch": B, "seq": T, "vocab": SHAPE["vocab_size"],
        "inputs": inputs.flatten().tolist(), "targets": targets.flatten().tolist(),
        "loss": float(loss.item()),
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        f.write(json.dumps(ref)[:-1] + ', "logits": ' + floats(logits.flatten().tolist()) + "}\n")
    size = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
    print("%-8s %s: %d files, %d bytes, loss %.6f" % (name, os.path.relpath(d), len(os.listdir(d)), size, loss))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "hf"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__}
    print(", ".join("%s %s" % kv for kv in have.items()))
    for k, v in VERSIONS.items():
        if have[k] != v:
            print("warning: %s %s, the committed fixtures were made with %s" % (k, have[k], v))
    os.makedirs(args.out, exist_ok=True)
    for fx in FIXTURES:
        make(args.out, *fx)


if __name__ == "__main__":
    main()
