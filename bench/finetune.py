"""End-to-end fine-tuning: the course's recipe vs ftnb's defaults, on the embedded pair task and MiniLM.

(a) course: `Trainer` with the course's settings — random batches with dynamic padding, fp32, batch 8, lr 5e-5,
    linear schedule, 3 epochs (ftnb.trainer.make_trainer's defaults).
(b) ftnb:   ftnb's loop — length-grouped batches, the precision `pick_precision` chooses, batch 32 with lr 1e-4
    (4x the batch, 2x the lr: the square-root scaling rule), linear schedule, 3 epochs.
Each is run with `--seeds` seeds (default 3) in this one process, so the timings are comparable ratios.
Prints a table and writes bench/results/finetune.json.  Usage: python bench/finetune.py [--seeds 42 43 44] [--epochs 3]"""
import time, argparse, statistics, tempfile
from common import *
full_profile()
import torch
from ftnb.core import set_seed, pick_precision
from ftnb.data import tokenize_pairs, make_loaders
from ftnb.models import load_classifier
from ftnb.trainer import make_trainer, history_from_trainer
from ftnb.loop import train, evaluate

RECIPES = {'course': dict(batch_size=8, lr=5e-5, group_by_length=False, precision='fp32'),
           'ftnb': dict(batch_size=32, lr=1e-4, group_by_length=True, precision=None)}

def _per_epoch(evals):
    "Validation loss and accuracy at each evaluation, to see how the curves got there."
    return [dict(epoch=round(float(r['epoch']), 2), loss=round(float(r['loss']), 4), accuracy=round(float(r['accuracy']), 4)) for r in evals]

def run_course(ck, tok, raw, seed, epochs):
    r = RECIPES['course']
    ds = tokenize_pairs(raw, tok)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names)
    with tempfile.TemporaryDirectory() as d:
        tr = make_trainer(model, tok, ds, d, epochs=epochs, lr=r['lr'], batch_size=r['batch_size'], precision=r['precision'], seed=seed)
        t0 = time.perf_counter(); tr.train(); secs = time.perf_counter() - t0
        evs = history_from_trainer(tr).eval; ev = evs[-1]
        test = tr.predict(ds['test']).metrics
    return dict(seconds=secs, val_accuracy=ev['accuracy'], val_f1=ev['f1'], test_accuracy=test['test_accuracy'], test_f1=test['test_f1'],
                val_per_epoch=_per_epoch(evs))

def run_ftnb(ck, tok, raw, seed, epochs):
    r = RECIPES['ftnb']
    ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
    train_dl, eval_dl = make_loaders(ds, tok, batch_size=r['batch_size'], group_by_length=True, seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=r['batch_size'], eval_split='test', seed=seed)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names)
    t0 = time.perf_counter()
    h = train(model, train_dl, eval_dl, epochs=epochs, lr=r['lr'], precision=r['precision'], seed=seed, progress=False)
    secs = time.perf_counter() - t0
    test = evaluate(model, test_dl)
    return dict(seconds=secs, val_accuracy=h.eval[-1]['accuracy'], val_f1=h.eval[-1]['f1'], test_accuracy=test['accuracy'], test_f1=test['f1'],
                val_per_epoch=_per_epoch(h.eval))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44])
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--only', choices=list(RECIPES), default=None)
    a = ap.parse_args()
    ck, tok, raw = embedded_task()
    n = raw['train'].num_rows
    runs = []
    for seed in a.seeds:
        for name, fn in [('course', run_course), ('ftnb', run_ftnb)]:
            if a.only and name != a.only: continue
            r = fn(ck, tok, raw, seed, a.epochs)
            r.update(recipe=name, seed=seed, samples_per_s=n * a.epochs / r['seconds'])
            runs.append(r)
            print(f"{name:6s} seed {seed}: {r['samples_per_s']:6.1f} samples/s  {r['seconds']:6.0f} s  "
                  f"val acc {r['val_accuracy']:.3f} f1 {r['val_f1']:.3f}  test acc {r['test_accuracy']:.3f}", flush=True)
    summary = {}
    for name in RECIPES:
        rs = [r for r in runs if r['recipe'] == name]
        if not rs: continue
        med = lambda k: statistics.median(r[k] for r in rs)
        summary[name] = dict(recipe=RECIPES[name] | {'precision': RECIPES[name]['precision'] or pick_precision()},
                             samples_per_s=med('samples_per_s'), seconds=med('seconds'), val_accuracy=med('val_accuracy'),
                             val_f1=med('val_f1'), test_accuracy=med('test_accuracy'),
                             val_accuracy_all=[r['val_accuracy'] for r in rs])
    if len(summary) == 2: summary['speedup'] = summary['ftnb']['samples_per_s'] / summary['course']['samples_per_s']
    print('\nrecipe   samples/s  seconds  val acc  val F1  test acc   (medians over seeds', a.seeds, ')')
    for name in RECIPES:
        if name in summary:
            s = summary[name]
            print(f"{name:8s} {s['samples_per_s']:9.1f} {s['seconds']:8.0f} {s['val_accuracy']:8.3f} {s['val_f1']:7.3f} {s['test_accuracy']:9.3f}")
    if 'speedup' in summary: print(f"ftnb / course samples/s: {summary['speedup']:.2f}x (target >= 2x)")
    write_result('finetune', dict(epochs=a.epochs, train_examples=n, runs=runs, summary=summary))

if __name__ == '__main__': main()
