"""Class weights for skewed labels: does `class_weights='balanced'` help a rare class on a real 3-class task?

The embedded 3-class snippets task (`load_snippets_task('sentiment3')`: negative / neutral / positive by the mean human
rating, about a third each) with ONE class (default: negative) cut to 10% of its training examples — a fixed, seeded
sample, the same for every run; validation and test are left as they are. Each run fine-tunes the embedded MiniLM
with ftnb's loop and `ftnb.loop.RECIPE` (the mean head `load_classifier(..., pairs=False)` picks, length-grouped
batches, the precision `pick_precision` chooses), in two arms:
  none:     the plain cross-entropy (`model_loss`);
  balanced: `weighted_loss(class_weights(train labels, 'balanced', 3))` — inverse-frequency class weights.
Both arms run in this one process, interleaved (their order alternates from seed to seed) and paired by seed. Each
run is scored on the test split: accuracy, macro F1, balanced accuracy, the rare class's recall and precision, and
the training seconds (the two end-of-epoch validation passes included); the summary gives mean ± std over seeds per
arm and the paired differences (balanced − none). Writes bench/results/skewed.json. With FTNB_SMOKE=1 the same code
runs on the tiny smoke model and data in seconds and writes nothing unless --out is given.
Usage: OMP_NUM_THREADS=1 python bench/skewed.py [--seeds 42 43 44 45 46] [--rare negative] [--keep 0.1] [--out NAME]"""
import os, time, argparse, statistics, subprocess
from common import *
SMOKE = os.environ.get('FTNB_SMOKE') == '1'
if SMOKE:  # the smoke profile checks the script; `full_profile` would switch it off
    os.environ['HF_HUB_OFFLINE'] = '1'; os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    from ftnb.core import quiet_libraries; quiet_libraries()
else: full_profile()
import numpy as np
from datasets import DatasetDict
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from transformers import AutoTokenizer
from ftnb.core import set_seed, pick_precision, default_checkpoint, checkpoint_name
from ftnb.data import load_snippets_task, tokenize_texts, make_loaders
from ftnb.models import load_classifier, class_weights, compute_metrics
from ftnb.loop import train, evaluate, weighted_loss, RECIPE

ARMS = ('none', 'balanced')
METRICS = ('accuracy', 'macro_f1', 'balanced_accuracy', 'rare_recall', 'rare_precision', 'seconds')

def cut(ds:DatasetDict, rare:int, keep:float, seed:int=0) -> DatasetDict:
    "`ds` with only a seeded `keep` fraction of class `rare`'s training examples; validation and test unchanged."
    y = np.asarray(ds['train']['label'])
    idx = np.flatnonzero(y == rare)
    kept = np.random.default_rng(seed).choice(idx, max(1, round(keep * len(idx))), replace=False)
    out = DatasetDict(dict(ds))
    out['train'] = ds['train'].select(np.sort(np.concatenate([np.flatnonzero(y != rare), kept])).tolist())
    return out

def test_metrics(rare:int, k:int):
    "A `metric_fn` for `evaluate`: `compute_metrics` plus per-class precision/recall, the rare class's, and the confusion matrix."
    def f(eval_pred):
        logits, y = eval_pred
        p = logits.argmax(-1)
        m = compute_metrics((logits, y))
        prec, rec, f1, _ = precision_recall_fscore_support(y, p, labels=list(range(k)), zero_division=0)
        return dict(accuracy=m['accuracy'], macro_f1=m['f1'], balanced_accuracy=m['balanced_accuracy'],
                    rare_recall=float(rec[rare]), rare_precision=float(prec[rare]), rare_predicted=int((p == rare).sum()),
                    recall=rec.tolist(), precision=prec.tolist(), f1=f1.tolist(), confusion=confusion_matrix(y, p, labels=list(range(k))).tolist())
    return f

def run(arm:str, seed:int, ck, tok, ds, names:list, rare:int, precision:str) -> dict:
    "One fine-tuning run of `arm` with `seed`; its test metrics, final validation metrics and training seconds."
    tdl, edl = make_loaders(ds, tok, batch_size=RECIPE['batch_size'], group_by_length=True, seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=RECIPE['batch_size'], eval_split='test', seed=seed)
    w = class_weights(ds['train']['labels'], 'balanced', len(names), names=names) if arm == 'balanced' else None
    set_seed(seed)
    model = load_classifier(ck, names, pairs=False)
    t0 = time.perf_counter()
    h = train(model, tdl, edl, epochs=RECIPE['epochs'], lr=RECIPE['lr'], warmup=RECIPE['warmup'], precision=precision, seed=seed,
              progress=False, loss_fn=weighted_loss(w))
    secs = time.perf_counter() - t0
    test = evaluate(model, test_dl, metric_fn=test_metrics(rare, len(names)))
    val = h.eval[-1]
    return dict(arm=arm, seed=seed, seconds=secs, weights=None if w is None else [round(float(x), 4) for x in w],
                **{k: v for k, v in test.items() if k not in ('n',)}, test_n=test['n'],
                val_accuracy=val['accuracy'], val_f1=val['f1'], val_balanced_accuracy=val['balanced_accuracy'], val_loss=val['loss'])

def mean_std(xs) -> dict:
    return dict(mean=statistics.mean(xs), std=statistics.stdev(xs) if len(xs) > 1 else 0.0, values=xs)

def summarise(runs:list) -> dict:
    "Mean ± std per arm, and the paired (same seed) differences balanced − none with the seeds where balanced is higher."
    s = {arm: {m: mean_std([r[m] for r in runs if r['arm'] == arm]) for m in METRICS} for arm in ARMS}
    by = {(r['arm'], r['seed']): r for r in runs}
    seeds = sorted({r['seed'] for r in runs if ('none', r['seed']) in by and ('balanced', r['seed']) in by})
    s['paired_difference_balanced_minus_none'] = {
        m: {**mean_std([by['balanced', x][m] - by['none', x][m] for x in seeds]),
            'seeds_higher': sum(by['balanced', x][m] > by['none', x][m] for x in seeds), 'seeds': len(seeds)} for m in METRICS}
    return s

def lscpu_model() -> str:
    "The CPU model as `lscpu` names it."
    try: out = subprocess.run(['lscpu'], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError): return cpu_model()
    return next((l.split(':', 1)[1].strip() for l in out.splitlines() if l.startswith('Model name')), cpu_model())

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44, 45, 46])
    ap.add_argument('--rare', default='negative', help='the class cut down (a sentiment3 class name)')
    ap.add_argument('--keep', type=float, default=0.1, help="the fraction of the rare class's training examples kept")
    ap.add_argument('--out', default=None if SMOKE else 'skewed', help='result name (bench/results/NAME.json); smoke: none')
    a = ap.parse_args()
    ck = default_checkpoint('cls')
    tok, full = AutoTokenizer.from_pretrained(ck), load_snippets_task('sentiment3')
    names = full['train'].features['label'].names
    if a.rare not in names: raise SystemExit(f"--rare must be one of {names}, got {a.rare!r}")
    rare = names.index(a.rare)
    ds = tokenize_texts(cut(full, rare, a.keep), tok, 'text', remove_text=True, rename_label=True)
    counts = {s: np.bincount(np.asarray(ds[s]['labels']), minlength=len(names)).tolist() for s in ds}
    precision = pick_precision('cpu')
    print(f"{'smoke' if SMOKE else 'full'} profile, {precision}; class counts {names}: {counts}; "
          f"balanced weights {class_weights(ds['train']['labels'], 'balanced', len(names)).tolist()}", flush=True)
    runs = []
    for i, seed in enumerate(a.seeds):
        for arm in (ARMS if i % 2 == 0 else ARMS[::-1]):  # alternate which arm goes first
            r = run(arm, seed, ck, tok, ds, names, rare, precision); runs.append(r)
            print(f"{arm:8s} seed {seed}: {r['seconds']:5.0f} s  acc {r['accuracy']:.3f}  macro F1 {r['macro_f1']:.3f}  "
                  f"bal acc {r['balanced_accuracy']:.3f}  {a.rare} recall {r['rare_recall']:.3f} precision {r['rare_precision']:.3f}", flush=True)
    s = summarise(runs)
    print(f"\n{'arm':9s}" + ''.join(f'{m:>20s}' for m in METRICS))
    for arm in ARMS:
        print(f'{arm:9s}' + ''.join(f"{s[arm][m]['mean']:12.3f} ± {s[arm][m]['std']:5.3f}" for m in METRICS))
    d = s['paired_difference_balanced_minus_none']
    print(f'{"b - n":9s}' + ''.join(f"{d[m]['mean']:+12.3f} ± {d[m]['std']:5.3f}" for m in METRICS))
    result = dict(machine=machine_info(cpu_model_lscpu=lscpu_model(), precision=precision, profile='smoke' if SMOKE else 'full',
                                       omp_num_threads=os.environ.get('OMP_NUM_THREADS')),
                  task=dict(source="load_snippets_task('sentiment3')", checkpoint=checkpoint_name(ck), names=names, rare=a.rare,
                            keep=a.keep, cut_seed=0, class_counts=counts),
                  recipe=dict(RECIPE, group_by_length=True, pooling='auto (mean)', precision=precision),
                  arms={'none': 'model_loss (plain cross-entropy)', 'balanced': "weighted_loss(class_weights(train labels, 'balanced', 3))"},
                  seeds=a.seeds, runs=runs, summary=s)
    if a.out: write_result(a.out, result)
    else: print('smoke profile: no result written (pass --out NAME to write bench/results/NAME.json)')

if __name__ == '__main__': main()
