"""End-to-end fine-tuning: the course's recipe vs ftnb's, on the embedded pair task and MiniLM — time to accuracy.

(a) course: `Trainer` with the course's settings — the stock [CLS] + pooler head, random batches with dynamic padding,
    fp32, batch 8, lr 5e-5, linear schedule, 3 epochs.
(b) ftnb:   ftnb's loop with ftnb's defaults — the head that matches how the encoder was pretrained and the pair input
    (for MiniLM, each text's mean and their difference: `load_classifier(pooling='auto', pairs=True)`), length-grouped batches, the precision `pick_precision` chooses, and
    ftnb.loop.RECIPE (the CLI's defaults).
Both evaluate on the validation split 4 times per epoch. Time to accuracy = the wall time (training and those
evaluations) at which a run's validation accuracy first reaches the course recipe's final validation accuracy
(the median over seeds). Each recipe runs with `--seeds` seeds (default 3) in this one process, interleaved, so
the timings are comparable ratios on the same machine state. Prints a table and writes bench/results/finetune.json.
Usage: python bench/finetune.py [--seeds 42 43 44] [--only course|ftnb]"""
import time, argparse, statistics, tempfile
from common import *
full_profile()
import torch
from ftnb.core import set_seed, pick_precision
from ftnb.data import tokenize_pairs, make_loaders
from ftnb.models import load_classifier
from ftnb.trainer import make_trainer, history_from_trainer
from ftnb.loop import train, evaluate, RECIPE

RECIPES = {'course': dict(batch_size=8, lr=5e-5, epochs=3, pooling='cls', group_by_length=False, precision='fp32'),
           'ftnb': dict(**RECIPE, pooling='auto', group_by_length=True, precision=None)}  # ftnb.loop.RECIPE: the CLI's defaults
EVALS_PER_EPOCH = 4

def _curve(evals) -> list:
    "`[{epoch, seconds, loss, accuracy}]` at every evaluation."
    return [dict(epoch=round(float(r['epoch']), 3), seconds=round(float(r['seconds']), 1), loss=round(float(r['loss']), 4),
                 accuracy=round(float(r['accuracy']), 4)) for r in evals]

def run_course(ck, tok, raw, seed):
    r = RECIPES['course']
    ds = tokenize_pairs(raw, tok)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names, pooling=r['pooling'])
    steps = len(ds['train']) // r['batch_size']
    with tempfile.TemporaryDirectory() as d:
        tr = make_trainer(model, tok, ds, d, epochs=r['epochs'], lr=r['lr'], batch_size=r['batch_size'], precision=r['precision'],
                          seed=seed, eval_strategy='steps', eval_steps=max(1, steps // EVALS_PER_EPOCH))
        t0 = time.perf_counter(); tr.train(); secs = time.perf_counter() - t0
        evs = history_from_trainer(tr).eval
        test = tr.predict(ds['test']).metrics
    return dict(seconds=secs, precision=r['precision'], val_accuracy=evs[-1]['accuracy'], val_f1=evs[-1]['f1'],
                test_accuracy=test['test_accuracy'], test_f1=test['test_f1'], curve=_curve(evs))

def run_ftnb(ck, tok, raw, seed):
    r = RECIPES['ftnb']
    ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
    train_dl, eval_dl = make_loaders(ds, tok, batch_size=r['batch_size'], group_by_length=r['group_by_length'], seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=r['batch_size'], eval_split='test', seed=seed)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names, pooling=r['pooling'], pairs=True)
    prec = r['precision'] or pick_precision('cpu')
    t0 = time.perf_counter()
    h = train(model, train_dl, eval_dl, epochs=r['epochs'], lr=r['lr'], warmup=r['warmup'], precision=prec, seed=seed,
              eval_every=max(1, len(train_dl) // EVALS_PER_EPOCH), progress=False)
    secs = time.perf_counter() - t0
    test = evaluate(model, test_dl)
    return dict(seconds=secs, precision=prec, val_accuracy=h.eval[-1]['accuracy'], val_f1=h.eval[-1]['f1'],
                test_accuracy=test['accuracy'], test_f1=test['f1'], curve=_curve(h.eval))

def time_to(curve, target):
    "Seconds at the first evaluation whose accuracy reaches `target` (None if none does)."
    return next((p['seconds'] for p in curve if p['accuracy'] >= target), None)

def summarise(runs, n):
    med = lambda xs: statistics.median(xs) if xs else None
    s = {}
    for name in RECIPES:
        rs = [r for r in runs if r['recipe'] == name]
        if rs: s[name] = dict(recipe=RECIPES[name], precision=rs[0]['precision'], seconds=med([r['seconds'] for r in rs]),
                             samples_per_s=med([n * RECIPES[name]['epochs'] / r['seconds'] for r in rs]),
                             **{k: med([r[k] for r in rs]) for k in ('val_accuracy', 'val_f1', 'test_accuracy', 'test_f1')})
    if 'course' in s:
        target = s['course']['val_accuracy']
        for name in s:
            for r in runs:
                if r['recipe'] == name: r['time_to_target'] = time_to(r['curve'], target)
            tt = [r['time_to_target'] for r in runs if r['recipe'] == name]
            s[name]['time_to_target'] = med(tt) if all(t is not None for t in tt) else None
            s[name]['target'] = target
    if 'course' in s and 'ftnb' in s and s['ftnb']['time_to_target']:
        s['time_ratio'] = s['ftnb']['time_to_target'] / s['course']['seconds']
    return s

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44])
    ap.add_argument('--only', choices=list(RECIPES), default=None)
    ap.add_argument('--set', nargs='*', default=[], metavar='KEY=VALUE', help="override ftnb's recipe, e.g. --set lr=1e-4 batch_size=16")
    ap.add_argument('--out', default='finetune', help='result name (bench/results/NAME.json)')
    ap.add_argument('--reuse-course', default=None, metavar='JSON', help="take the course runs from an earlier result instead of re-running them (with --only ftnb)")
    a = ap.parse_args()
    for kv in a.set:
        k, v = kv.split('='); RECIPES['ftnb'][k] = type(RECIPES['ftnb'][k])(v) if RECIPES['ftnb'][k] is not None else v
    ck, tok, raw = embedded_task()
    n, runs = raw['train'].num_rows, []
    course_from = None
    if a.reuse_course:
        import json
        earlier = json.loads(Path(a.reuse_course).read_text())
        runs = [r for r in earlier['runs'] if r['recipe'] == 'course']
        course_from = dict(file=Path(a.reuse_course).name, machine=earlier['machine'])  # where and when the course runs were measured
    for seed in a.seeds:
        for name, fn in [('course', run_course), ('ftnb', run_ftnb)]:
            if a.only and name != a.only: continue
            r = fn(ck, tok, raw, seed); r.update(recipe=name, seed=seed); runs.append(r)
            print(f"{name:6s} seed {seed}: {r['seconds']:6.0f} s ({r['precision']})  val acc {r['val_accuracy']:.3f}  "
                  f"test acc {r['test_accuracy']:.3f}  curve {[p['accuracy'] for p in r['curve']]}", flush=True)
    s = summarise(runs, n)
    print(f"\n{'recipe':8s} {'samples/s':>9s} {'wall s':>7s} {'to target s':>11s} {'val acc':>8s} {'test acc':>8s}")
    for name in RECIPES:
        if name in s:
            x = s[name]; tt = x.get('time_to_target'); tt = '-' if tt is None else f'{tt:.0f}'
            print(f"{name:8s} {x['samples_per_s']:9.1f} {x['seconds']:7.0f} {tt:>11} "
                  f"{x['val_accuracy']:8.3f} {x['test_accuracy']:8.3f}")
    if 'time_ratio' in s:
        print(f"ftnb reaches the course's final val accuracy {s['course']['val_accuracy']:.3f} in {s['time_ratio']:.2f}x "
              f"the course recipe's wall time (target <= 0.33x, and ends at least as accurate)")
    write_result(a.out, dict(train_examples=n, evals_per_epoch=EVALS_PER_EPOCH, course_runs_from=course_from, runs=runs, summary=s))

if __name__ == '__main__': main()
