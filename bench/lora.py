"""Full fine-tuning vs LoRA (ranks 4 and 16) on the embedded pair task and MiniLM: trainable parameters, training
speed, peak memory, size on disk, validation and test accuracy.

Every (configuration, seed) runs in a fresh child process, interleaved (seed 42: full, r4, r16; seed 43: ...), so
each child's peak RSS (`ru_maxrss`, which includes Python, torch and the data) belongs to one configuration, and
machine load drifts over all configurations alike. The child also reports its RSS just before training: the
difference is what training itself added. Each run: ftnb's loop, length-grouped batches of 32, the precision
`pick_precision` chooses, linear schedule with 10% warm-up; full fine-tuning at `RECIPE['lr']`, LoRA at `LORA_LR`.
Samples/s counts training only (evaluation is timed apart). Writes bench/results/lora.json.
Usage: python bench/lora.py [--seeds 42 43 44] [--max-train N] [--max-test N] [--epochs E]"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path
from common import *

from ftnb.loop import RECIPE
from ftnb.lora import LORA_LR
# full fine-tuning at ftnb's recipe; LoRA (every linear layer of the encoder's blocks, alpha/r = 2) at ftnb's LoRA rate
CONFIGS = {'full': dict(lora=None, lr=RECIPE['lr']), 'lora-r4': dict(lora=dict(rank=4, alpha=8), lr=LORA_LR),
           'lora-r16': dict(lora=dict(rank=16, alpha=32), lr=LORA_LR)}

def rss_mb() -> float:
    "This process's resident memory now (MB), from /proc/self/statm."
    return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 1e6

def folder_mb(d) -> float:
    return sum(f.stat().st_size for f in Path(d).rglob('*') if f.is_file() and 'token' not in f.name and f.suffix != '.txt') / 1e6

def run_one(name:str, seed:int, max_train:int, epochs:float, max_test:int=None) -> dict:
    "One configuration and seed, in this (child) process."
    full_profile()
    import torch
    from ftnb.core import set_seed, pick_precision
    from ftnb.data import tokenize_pairs, make_loaders
    from ftnb.models import load_classifier
    from ftnb.lora import with_lora, count_params, save_lora
    from ftnb.loop import train, evaluate
    c = CONFIGS[name]
    ck, tok, raw = embedded_task()
    if max_train: raw['train'] = raw['train'].select(range(min(max_train, raw['train'].num_rows)))
    if max_test: raw['test'] = raw['test'].select(range(min(max_test, raw['test'].num_rows)))
    ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
    tdl, vdl = make_loaders(ds, tok, batch_size=32, group_by_length=True, seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=32, eval_split='test', seed=seed)
    set_seed(seed)
    model = with_lora(load_classifier(ck, raw['train'].features['label'].names, pooling='mean'), c['lora'])
    params, prec, rss0 = count_params(model), pick_precision('cpu'), rss_mb()
    t0 = time.perf_counter()
    train(model, tdl, epochs=epochs, lr=c['lr'], warmup=0.1, precision=prec, seed=seed, progress=False)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    val, test = evaluate(model, vdl), evaluate(model, test_dl)
    with tempfile.TemporaryDirectory() as d:
        if c['lora']: save_lora(model, Path(d)/'saved'); save_lora(model, Path(d)/'merged', merge=True); merged = folder_mb(Path(d)/'merged')
        else: model.save_pretrained(Path(d)/'saved'); merged = None
        size = folder_mb(Path(d)/'saved')
    return dict(config=name, seed=seed, precision=prec, trainable=params['trainable'], total=params['total'],
                train_seconds=secs, samples_per_s=len(ds['train']) * epochs / secs, rss_before_train_mb=rss0, peak_rss_mb=peak,
                saved_mb=size, merged_mb=merged, val_accuracy=val['accuracy'], val_f1=val['f1'], test_accuracy=test['accuracy'],
                test_f1=test['f1'])

def summarise(runs) -> list:
    "One row per configuration: medians over seeds (parameters and sizes are the same for every seed)."
    med = lambda k, rs: statistics.median(r[k] for r in rs)
    rows = []
    for name in CONFIGS:
        rs = [r for r in runs if r['config'] == name]
        if not rs: continue
        rows.append(dict(config=name, lr=CONFIGS[name]['lr'], trainable=rs[0]['trainable'], trainable_pct=round(100 * rs[0]['trainable'] / rs[0]['total'], 2),
                         samples_per_s=round(med('samples_per_s', rs), 1), peak_rss_mb=round(med('peak_rss_mb', rs)),
                         train_rss_mb=round(statistics.median(r['peak_rss_mb'] - r['rss_before_train_mb'] for r in rs)),
                         saved_mb=round(rs[0]['saved_mb'], 2), val_accuracy=round(med('val_accuracy', rs), 4),
                         test_accuracy=round(med('test_accuracy', rs), 4),
                         val_accuracy_range=[round(min(r['val_accuracy'] for r in rs), 4), round(max(r['val_accuracy'] for r in rs), 4)]))
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44])
    ap.add_argument('--max-train', type=int, default=None, help='train on the first N pairs only (default: all)')
    ap.add_argument('--epochs', type=float, default=2)
    ap.add_argument('--max-test', type=int, default=None, help='score the first N test pairs only (default: all)')
    ap.add_argument('--child', nargs=2, metavar=('CONFIG', 'SEED'), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print('RESULT ' + json.dumps(run_one(a.child[0], int(a.child[1]), a.max_train, a.epochs, a.max_test))); return
    runs, t0 = [], time.perf_counter()
    for seed in a.seeds:
        for name in CONFIGS:
            cmd = [sys.executable, __file__, '--child', name, str(seed), '--epochs', str(a.epochs)] + (['--max-train', str(a.max_train)] if a.max_train else []) + (['--max-test', str(a.max_test)] if a.max_test else [])
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode: sys.exit(f"{name} seed {seed} failed:\n{p.stderr[-3000:]}")
            r = json.loads(next(l for l in p.stdout.splitlines() if l.startswith('RESULT '))[7:]); runs.append(r)
            print(f"{name:9s} seed {seed}: {r['samples_per_s']:6.1f} samples/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                  f"saved {r['saved_mb']:.2f} MB, val acc {r['val_accuracy']:.3f}, test acc {r['test_accuracy']:.3f}", flush=True)
    rows = summarise(runs)
    for row in rows: print(row)
    full_profile()
    write_result('lora', dict(train_examples=a.max_train or 'all', test_examples=a.max_test or 'all', epochs=a.epochs, seeds=a.seeds, wall_seconds=time.perf_counter() - t0,
                              method='each (config, seed) in a fresh child process, interleaved; peak RSS = ru_maxrss of that child',
                              runs=runs, summary=rows))

if __name__ == '__main__': main()
