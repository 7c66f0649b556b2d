"""Collect the headline numbers of bench/results/*.json into bench/results/summary.json (one row per target);
the README's Benchmarks section displays it."""
import json
from pathlib import Path
R = Path(__file__).resolve().parent/'results'

def load(name):
    f = R/f'{name}.json'
    return json.loads(f.read_text()) if f.exists() else None

rows = []
def row(bench, what, value, target=None, met=None, note=''):
    rows.append(dict(bench=bench, what=what, value=value, target=target, met=met, note=note))

if (d := load('data')):
    eff = {(p['batch_size'], p['strategy']): p['efficiency'] for p in d['padding']}
    for bs in (8, 32):
        row('data', f'padding efficiency, batch {bs}: pad_to_max / random / length',
            f"{eff[bs,'pad_to_max']:.1%} / {eff[bs,'random']:.1%} / {eff[bs,'length']:.1%}", '>= 95% (length)', eff[bs, 'length'] >= 0.95)
    t = d['tokenization']
    row('data', 'tokenize_pairs of the train split, uncached (examples/s)', f"{t['tokenize_pairs_uncached']['examples_per_s']:,.0f}")
if (m := load('mlm')):
    for r in m['results']:
        if r.get('target'): row('mlm', r['name'].strip(), f"{r['speedup']:.0f}x", f">= {r['target']}x", r['speedup'] >= r['target'])
if (f := load('mfu')):
    for p, r in f['results'].items():
        row('mfu', f'{p} MFU at batch {f["batch_size"]} ({r["samples_per_s"]:.1f} samples/s)', f"{r['mfu']:.0%}",
            '>= 70%' if p == 'fp32' else None, r['mfu'] >= 0.7 if p == 'fp32' else None)
if (pr := load('profile')):
    g = pr['groups']; mm = sum(v['share'] for k, v in g.items() if k.startswith('matmul'))
    row('profile', "share of ftnb's training step in matmuls (torch.profiler, self CPU time)", f"{mm:.0%}",
        note=', '.join(f"{k} {v['share']:.0%}" for k, v in list(g.items())[:6]))
    t = pr['padded_tokens_per_example']
    row('profile', 'padded tokens per training example: course (random, batch 8) / ftnb (grouped, batch 32)',
        ' / '.join(f'{v:.1f}' for v in t.values()), note=f"real tokens per example {pr['real_tokens_per_example']:.1f}")
if (e := load('finetune')):
    s = e['summary']
    for k in ('course', 'ftnb'):
        if k in s: row('finetune', f"{k} recipe: samples/s, val acc (median of seeds {[r['seed'] for r in e['runs'] if r['recipe']==k]})",
                       f"{s[k]['samples_per_s']:.1f}, {s[k]['val_accuracy']:.3f}")
    if 'speedup' in s:
        acc_ok = s['ftnb']['val_accuracy'] >= s['course']['val_accuracy'] - 0.01
        prec = s['ftnb']['recipe']['precision']
        row('finetune', 'ftnb / course training throughput', f"{s['speedup']:.2f}x", '>= 2x, accuracy not lower', s['speedup'] >= 2 and acc_ok,
            note=f"ftnb trains in {prec}: {'bf16 is slower than fp32 on this CPU (no native bf16), so the speed-up is padding and batching only' if prec == 'fp32' else ''}")
if (t := load('tests')):
    row('tests', 'make test wall time minus install', f"{t['seconds']/60:.1f} min", '<= 15 min', t['seconds'] <= 900)
(R/'summary.json').write_text(json.dumps(rows, indent=1))
for r in rows: print(f"{r['bench']:9s} {r['what']:70s} {r['value']:>28s}  {r['target'] or '':>22s} {'' if r['met'] is None else ('met' if r['met'] else 'MISSED')}")
