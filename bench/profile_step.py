"""Where the time of ftnb's training loop goes, and why its speed-up over the course's recipe is what it is.

1. torch.profiler over `steps` optimizer steps of ftnb's loop (`ftnb.loop.train`, MiniLM, batch 32, length-grouped
   batches of the embedded pair task, fp32): self CPU time per operator, grouped (matmuls, attention, elementwise,
   dropout, layer norm, optimizer, data loading, ...).
2. The padded tokens per training example that each recipe's batches carry over a whole epoch (course: random
   batches of 8 with dynamic padding; ftnb: length-grouped batches of 32): compute is proportional to them.
Writes bench/results/profile.json.  Usage: python bench/profile_step.py [--steps 30]"""
import argparse, time
from collections import defaultdict
from pathlib import Path
from common import *
full_profile()
import torch
from torch.profiler import profile, ProfilerActivity
from ftnb.core import set_seed
from ftnb.data import tokenize_pairs, make_loaders, padding_stats
from ftnb.models import load_classifier
from contextlib import suppress
from ftnb.loop import train, stop_at, StopTraining

GROUPS = [('matmul (linear layers, attention scores)', ('addmm', 'aten::mm', 'bmm', 'baddbmm', 'mkldnn_linear', 'aten::linear')),
          ('attention softmax / SDPA glue', ('softmax', 'scaled_dot_product', '_scaled_dot_product')),
          ('optimizer (fused AdamW)', ('adam', 'Optimizer', 'foreach')),
          ('dropout', ('dropout', 'bernoulli')),
          ('layer norm', ('layer_norm',)),
          ('GELU / tanh', ('gelu', 'tanh')),
          ('embeddings', ('embedding',)),
          ('data loading + collation', ('DataLoader', 'enumerate(')),
          ('copies, reshapes, elementwise, zeroing', ('copy_', 'add', 'mul', 'div', 'clone', 'contiguous', 'fill_', 'zero_',
                                                       'empty', 'sum', 'where', 'transpose', 'view', 'permute', 'cat', 'sub',
                                                       'to', 'expand', 'masked', 'neg', 'pow', 'sqrt', 'exp', 'log'))]

def group_of(name):
    n = name.lower()
    for g, keys in GROUPS:
        if any(k.lower() in n for k in keys): return g
    return 'other'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0]); ap.add_argument('--steps', type=int, default=30)
    a = ap.parse_args()
    ck, tok, raw = embedded_task()
    ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
    ftnb_dl, _ = make_loaders(ds, tok, batch_size=32, group_by_length=True, seed=42)
    # what the model computes on, from chapter 01's padding_stats (the same sampler as make_loaders)
    course_pad, ftnb_pad = padding_stats(ds, 8, 'random', seed=42), padding_stats(ds, 32, 'length', seed=42)
    real = course_pad['real_tokens'] / course_pad['examples']
    tpe = {'course (random, batch 8)': course_pad['padded_tokens'] / course_pad['examples'],
           'ftnb (length-grouped, batch 32)': ftnb_pad['padded_tokens'] / ftnb_pad['examples']}
    print(f"real tokens per example {real:.1f}; padded tokens per example: " + ', '.join(f'{k} {v:.1f}' for k, v in tpe.items()))
    set_seed(42); model = load_classifier(ck, raw['train'].features['label'].names, pooling='mean')
    with suppress(StopTraining): train(model, ftnb_dl, None, epochs=1, lr=1e-4, progress=False, callbacks=[stop_at(3)])          # warm-up, not profiled
    set_seed(42); model = load_classifier(ck, raw['train'].features['label'].names, pooling='mean')
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with suppress(StopTraining): train(model, ftnb_dl, None, epochs=1, lr=1e-4, progress=False, callbacks=[stop_at(a.steps)])
    wall = time.perf_counter() - t0
    ev = prof.key_averages()
    groups, ops = defaultdict(float), []
    for e in ev:
        s = e.self_cpu_time_total / 1e6
        if s <= 0: continue
        groups[group_of(e.key)] += s; ops.append((s, e.key, e.count))
    total = sum(groups.values())
    rows = sorted(groups.items(), key=lambda kv: -kv[1])
    print(f"\n{a.steps} steps of ftnb's loop under torch.profiler: {wall:.1f} s wall ({wall/a.steps*1e3:.0f} ms/step, "
          f"{a.steps*32/wall:.1f} samples/s with the profiler on); self CPU time by group:")
    for g, s in rows: print(f"  {g:45s} {s:7.2f} s  {s/total:6.1%}")
    print('top operators:')
    for s, k, c in sorted(ops, reverse=True)[:12]: print(f"  {k:45s} {s:7.2f} s  {s/total:6.1%}  ({c} calls)")
    write_result('profile', dict(steps=a.steps, wall_seconds=wall, real_tokens_per_example=real, padded_tokens_per_example=tpe,
               groups={g: dict(seconds=s, share=s/total) for g, s in rows},
               top_ops=[dict(op=k, seconds=s, share=s/total, calls=c) for s, k, c in sorted(ops, reverse=True)[:25]]))

if __name__ == '__main__': main()
