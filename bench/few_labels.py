"""Few labels: test accuracy against labelled examples per class, for three methods, on two real tasks.

Tasks (embedded, offline): `snippets` — the 3-class movie-review snippets (`load_snippets_task('sentiment3')`,
negative / neutral / positive by the mean human rating); `pairs` — the sentence-pair task (`load_pairs()`: is the first
snippet rated more positive than the second?). For each number of examples per class (8, 16, 32, 64, 128, all) and each
seed, one training sample is drawn (`sample_per_class(train, n, seed)`; 'all' is the whole training split, the seed
then only seeds training), and three methods train on that same sample:
  tfidf:    TF-IDF (word 1-2 grams, sublinear tf) + logistic regression (C=4); pairs: the two texts' vectors side by side;
  standard: ftnb's recipe (`ftnb.loop.RECIPE`: batch 32, lr 1.5e-4, 2 epochs, 10% warm-up; the head `load_classifier`
            picks: mean for texts, pair for pairs), exactly what `ftnb train` does with these rows;
  few_shot: `train_few_shot` (chapter 06d: contrastive phase on `FEW_SHOT` pairs, then a logistic-regression head);
  head_only: the same without the contrastive phase (`iterations=0`): what the contrastive phase adds.
Each is scored on the task's whole test split (accuracy, macro F1) with its training seconds (data preparation and
scoring excluded). The methods' order rotates from seed to seed; all run in this one process. Results are written
after every point (bench/results/few_labels.TASK.json) and `--merge` combines the tasks into few_labels.json with
mean ± std per point and the crossing points (the first size at which the standard recipe's mean accuracy reaches the
few-shot trainer's). With FTNB_SMOKE=1 the same code runs on the smoke model and data in seconds and writes nothing.
The tasks run in separate processes (one thread each on a 2-core machine); a killed run resumes where it stopped.
Usage: OMP_NUM_THREADS=1 python bench/few_labels.py --task snippets|pairs [--sizes 8 16 32 64 128 all] [--seeds 0 1 2 3 4]
       python bench/few_labels.py --merge"""
import os, time, argparse, statistics, json
from common import *
SMOKE = os.environ.get('FTNB_SMOKE') == '1'
if SMOKE:
    os.environ['HF_HUB_OFFLINE'] = '1'; os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    from ftnb.core import quiet_libraries; quiet_libraries()
else: full_profile()
import numpy as np
from transformers import AutoTokenizer
from datasets import DatasetDict
from ftnb.core import set_seed, pick_precision, default_checkpoint, checkpoint_name
from ftnb.data import load_snippets_task, load_pairs, tokenize_texts, make_loaders, text_columns
from ftnb.models import load_classifier, compute_metrics
from ftnb.loop import train, evaluate, RECIPE
from ftnb.fewshot import sample_per_class, train_few_shot, FEW_SHOT, crossings

METHODS = ('tfidf', 'standard', 'few_shot', 'head_only')
SIZES = [8, 16, 32, 64, 128, 'all']
TASKS = {'snippets': lambda: load_snippets_task('sentiment3'), 'pairs': lambda: load_pairs()}

def tfidf(train, test) -> tuple:
    "Fit TF-IDF + logistic regression on `train`; `(test predictions, seconds)`."
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    a, b = text_columns(train); cols = [c for c in (a, b) if c]
    t0 = time.perf_counter()
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([t for c in cols for t in train[c]])
    feats = lambda ds: hstack([vec.transform(ds[c]) for c in cols]).tocsr()
    clf = LogisticRegression(max_iter=2000, C=4.0).fit(feats(train), train['label'])
    secs = time.perf_counter() - t0
    return clf.predict(feats(test)), secs

def neural(method, sample, test_dl, ck, tok, names, pairs, precision, seed) -> tuple:
    "Train `method` ('standard' or 'few_shot') on `sample`; `(test metrics, seconds)`."
    set_seed(seed)
    model = load_classifier(ck, names, pairs=pairs)
    if method == 'standard':
        ds = tokenize_texts(DatasetDict(train=sample), tok, *text_columns(sample), remove_text=True, rename_label=True)
        tdl, _ = make_loaders(ds, tok, batch_size=RECIPE['batch_size'], group_by_length=True, seed=seed, eval_split=None)
        t0 = time.perf_counter()
        train(model, tdl, None, epochs=RECIPE['epochs'], lr=RECIPE['lr'], warmup=RECIPE['warmup'], precision=precision, seed=seed, progress=False)
    else:
        t0 = time.perf_counter()
        train_few_shot(model, tok, sample, None, cfg={'iterations': 0} if method == 'head_only' else None, precision=precision, seed=seed)
    secs = time.perf_counter() - t0
    m = evaluate(model, test_dl)
    return m, secs

def run_task(task:str, sizes:list, seeds:list, out, methods=METHODS):
    ck = default_checkpoint('cls'); tok = AutoTokenizer.from_pretrained(ck)
    raw = TASKS[task](); names = raw['train'].features['label'].names
    a, b = text_columns(raw['train']); precision = pick_precision('cpu')
    test = raw['test']; y = np.asarray(test['label'])
    tds = tokenize_texts(DatasetDict(test=test), tok, a, b, remove_text=True, rename_label=True)
    _, test_dl = make_loaders(tds, tok, batch_size=64, train_split='test', eval_split='test')
    result = dict(machine=machine_info(precision=precision, profile='smoke' if SMOKE else 'full', omp_num_threads=os.environ.get('OMP_NUM_THREADS')),
                  task=dict(name=task, checkpoint=checkpoint_name(ck), names=names, train=len(raw['train']), test=len(test), pairs=b is not None),
                  recipe=dict(standard=RECIPE, few_shot=FEW_SHOT, tfidf='word 1-2 grams, sublinear tf; LogisticRegression(C=4)'),
                  sizes=sizes, seeds=seeds, runs=[])
    if out and (RESULTS/f'{out}.json').exists(): result['runs'] = json.loads((RESULTS/f'{out}.json').read_text())['runs']  # resume
    done = {(str(r['n']), r['seed'], r['method']) for r in result['runs']}
    print(f"{task}: train {len(raw['train'])}, test {len(test)}, {names}; {precision}", flush=True)
    for n in sizes:
        for k, seed in enumerate(seeds):
            sample = raw['train'] if n == 'all' else sample_per_class(raw['train'], n, seed=seed)
            for method in METHODS[k % 4:] + METHODS[:k % 4]:  # rotate the order
                if method not in methods or (str(n), seed, method) in done: continue
                if method == 'tfidf':
                    p, secs = tfidf(sample, test); m = compute_metrics((p, y))
                else: m, secs = neural(method, sample, test_dl, ck, tok, names, b is not None, precision, seed)
                r = dict(task=task, n=n, seed=seed, method=method, n_train=len(sample), accuracy=m['accuracy'], f1=m['f1'], seconds=secs)
                result['runs'].append(r)
                print(f"{task} n={n} seed {seed} {method:8s} acc {r['accuracy']:.3f} f1 {r['f1']:.3f} {secs:6.1f} s", flush=True)
            if out: write_result(out, result)
    return result

def summarise(runs:list) -> dict:
    "Mean ± std of accuracy, macro F1 and seconds per task, method and size."
    s = {}
    for r in runs: s.setdefault(r['task'], {}).setdefault(r['method'], {}).setdefault(str(r['n']), []).append(r)
    ms = lambda xs: dict(mean=statistics.mean(xs), std=statistics.stdev(xs) if len(xs) > 1 else 0.0)
    return {t: {m: {n: dict(accuracy=ms([r['accuracy'] for r in rs]), f1=ms([r['f1'] for r in rs]), seconds=ms([r['seconds'] for r in rs]),
                            seeds=len(rs), n_train=rs[0]['n_train']) for n, rs in by_n.items()} for m, by_n in by_m.items()} for t, by_m in s.items()}

def merge():
    files = sorted(RESULTS.glob('few_labels.*.json'))  # few_labels.TASK[.PART].json
    loaded = [(f.name.split('.')[1], json.loads(f.read_text())) for f in files]
    parts = {t: p for t, p in loaded}
    runs = [r for _, p in loaded for r in p['runs']]
    summary = summarise(runs)
    machines = {t: p['machine'] for t, p in parts.items()}  # one per task process; `machine`: the first (the same CPU)
    result = dict(machine=next(iter(machines.values())), machines=machines, tasks={t: p['task'] for t, p in parts.items()},
                  recipe=next(iter(parts.values()))['recipe'], sizes=[n for n in SIZES if any(r['n'] == n for r in runs)],
                  seeds={t: sorted({r['seed'] for r in runs if r['task'] == t}) for t in parts}, summary=summary, runs=runs)
    result['crossings'] = crossings(result)
    write_result('few_labels', result)
    for f in files: f.unlink()
    print(json.dumps(result['crossings'], indent=1))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--task', choices=list(TASKS))
    ap.add_argument('--sizes', nargs='+', default=['8', '16', '32', '64', '128', 'all'])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS, help='run only these methods')
    ap.add_argument('--part', default=None, help='write few_labels.TASK.PART.json (to run one task in several processes)')
    ap.add_argument('--merge', action='store_true', help='combine few_labels.TASK[.PART].json files into few_labels.json')
    a = ap.parse_args()
    if a.merge: return merge()
    if not a.task: ap.error('--task is required (or --merge)')
    sizes = [s if s == 'all' else int(s) for s in a.sizes]
    out = None if SMOKE else f'few_labels.{a.task}' + (f'.{a.part}' if a.part else '')
    run_task(a.task, sizes, a.seeds, out, a.methods)

if __name__ == '__main__': main()
