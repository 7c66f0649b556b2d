"""Whole documents: does reading all of a 1,000-token review beat reading its head? On the embedded reviews task
(`load_reviews_task`: 1,000 / 250 / 250 Pang & Lee reviews), MiniLM fine-tuned with ftnb's loop (the head `pooling='auto'`
picks, length-grouped batches, the picked precision, 10% warm-up, 2 epochs) at batch 8 and lr 1e-4 instead of RECIPE's
32 and 1.5e-4: with a few hundred reviews, batch 32 leaves the truncated arms a few dozen steps (a first try: 32 steps,
trunc128 at 0.62), and this bench asks what reading the whole text adds, not what too few steps take away. On

  trunc128 / trunc256 / trunc512  the first 128 / 256 / 512 tokens of each review (the course's `truncation=True`)
  win256                           every token, as overlapping windows of 256 tokens sharing 64 (`tokenize_texts(stride=64)`);
                                   a review's prediction combines its windows' logits, by their mean and by their max
                                   (both measured on the same trained model)

against TF-IDF (word 1-2 grams) + logistic regression with C chosen on the validation split. Metrics are per review,
on the 250 test reviews (mean and max are both reported, neither is tuned on them).
Each arm runs with every seed in this one process, interleaved (seed by seed), so its seconds compare as ratios.
Writes bench/results/long_docs.json (every run, and a summary per method: mean, std) after each run.
To fit three seeds of every arm in one CPU session (one thread), the models train on a seeded sample of 400 of the 1,000
training reviews (`--limit 0`: all). Evaluated once, after training, on the whole test split.
Usage: python bench/long_docs.py [--seeds 42 43 44] [--arms trunc128 trunc256 trunc512 win256] [--limit N]"""
import time, argparse, statistics
from common import *
full_profile()
import numpy as np, torch
torch.set_num_threads(1)  # one core by default (see _threads): the other stays free for the rest of the work
from transformers import AutoTokenizer
from ftnb.core import set_seed, pick_precision, embedded_checkpoint
from ftnb.data import load_reviews_task, tokenize_texts, make_loaders, model_limit
from ftnb.models import load_classifier, compute_metrics
from ftnb.loop import train, evaluate, RECIPE
from ftnb.windows import aggregate_windows, document_labels

BATCH, LR = 8, 1e-4
ARMS = {'trunc128': dict(max_length=128), 'trunc256': dict(max_length=256), 'trunc512': dict(max_length=512),
        'win256': dict(max_length=256, stride=64), 'win128': dict(max_length=128, stride=32), 'win512': dict(max_length=512, stride=128)}

def tfidf(raw) -> dict:
    "TF-IDF + logistic regression, C picked on validation accuracy; test metrics of the picked C."
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    t0 = time.perf_counter()
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X = {s: (vec.fit_transform if s == 'train' else vec.transform)(list(raw[s]['text'])) for s in ('train', 'validation', 'test')}
    y = {s: np.array(raw[s]['label']) for s in X}
    fits = {C: LogisticRegression(C=C, max_iter=2000).fit(X['train'], y['train']) for C in (1, 3, 10, 30, 100)}
    C = max(fits, key=lambda c: (fits[c].score(X['validation'], y['validation']), -c))
    secs = time.perf_counter() - t0
    m = lambda s: compute_metrics((fits[C].predict(X[s]), y[s]))
    return dict(method='tfidf', seed=None, C=C, train_seconds=round(secs, 2), val=m('validation'), test=m('test'))

def windows_stats(ds) -> dict:
    "Windows (or texts) and real tokens per split."
    return {s: dict(rows=len(d), tokens=int(sum(len(x) for x in d['input_ids']))) for s, d in ds.items()}

def run_arm(ck, tok, raw, arm, seed) -> list:
    "Train one arm with one seed; one record per aggregation (windows) or one (truncation)."
    a = ARMS[arm]
    ds = tokenize_texts(raw, tok, max_length=a['max_length'], stride=a.get('stride'), remove_text=True, rename_label=True)
    doc = {s: np.asarray(ds[s]['doc']) if 'doc' in ds[s].column_names else np.arange(len(ds[s])) for s in ds}
    tdl, _ = make_loaders(ds, tok, batch_size=BATCH, group_by_length=True, seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=64, eval_split='test', seed=seed)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names)
    prec = pick_precision('cpu')
    t0 = time.perf_counter()
    h = train(model, tdl, None, epochs=RECIPE['epochs'], lr=LR, warmup=RECIPE['warmup'], precision=prec, seed=seed, progress=False,
              log_every=10)  # evaluated once, after training, below
    secs = time.perf_counter() - t0
    out, logits = [], {}
    from ftnb.loop import Runtime
    rt = Runtime('cpu', prec)
    for s, dl in (('test', test_dl),):
        t1 = time.perf_counter()
        keep = []
        evaluate(model, dl, rt, metric_fn=lambda ev: keep.append(ev) or {})
        logits[s] = (keep[0], time.perf_counter() - t1)
    for how in (('mean', 'max') if 'stride' in a else ('mean',)):
        rec = dict(method=arm if 'stride' not in a else f'{arm}-{how}', seed=seed, precision=prec, train_seconds=round(secs, 1),
                   max_length=a['max_length'], stride=a.get('stride'), aggregate=how if 'stride' in a else None,
                   train_windows=len(ds['train']), train_loss=[round(float(r['loss']), 4) for r in h.train])
        (lg, y), t = logits['test']
        rec['test'] = compute_metrics((aggregate_windows(lg, doc['test'], how)[1], document_labels(y, doc['test'])[1]))
        rec['test_predict_seconds'], rec['threads'] = round(t, 2), torch.get_num_threads()
        out.append(rec)
    return out

def _threads() -> int:
    "Threads for the next seed: $BENCH_THREADS, or the number in the file it names (so a long run can take a freed core)."
    v = os.environ.get('BENCH_THREADS', '1')
    return int(Path(v).read_text().strip()) if not v.isdigit() and Path(v).is_file() else int(v) if v.isdigit() else 1

def summary(runs) -> dict:
    out = {}
    for m in dict.fromkeys(r['method'] for r in runs):
        rs = [r for r in runs if r['method'] == m]
        st = lambda xs: dict(mean=round(statistics.mean(xs), 4), std=round(statistics.stdev(xs), 4) if len(xs) > 1 else 0.0)
        out[m] = dict(n=len(rs), test_accuracy=st([r['test']['accuracy'] for r in rs]), test_f1=st([r['test']['f1'] for r in rs]),
                      train_seconds=st([r['train_seconds'] for r in rs]),
                      test_predict_seconds=st([r.get('test_predict_seconds', 0) for r in rs]))
    return out

def merge(name:str, parts:list):
    "Write NAME.json from the runs of several result files (one seed per process), each run keeping the machine it ran on."
    docs = [json.loads((RESULTS/f'{p}.json').read_text()) for p in parts]
    runs, seen = [], set()
    for d in docs:  # a (method, seed) that two files hold is taken from the first
        for r in d['runs']:
            if r['method'] != 'tfidf' and (r['method'], r['seed']) not in seen: seen.add((r['method'], r['seed'])); runs.append(dict(r, machine=d['machine']))
    tf = next(r for r in docs[0]['runs'] if r['method'] == 'tfidf')
    runs = [tf] + sorted(runs, key=lambda r: (r['seed'], r['method']))
    write_result(name, dict(machine=docs[0]['machine'], data=docs[0]['data'], merged_from=parts, runs=runs, summary=summary(runs)))

def main():
    p = argparse.ArgumentParser(); p.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44])
    p.add_argument('--arms', nargs='+', default=['trunc128', 'trunc256', 'trunc512', 'win256'], choices=list(ARMS))
    p.add_argument('--limit', type=int, default=400, help='train on N of the 1,000 training reviews (a seeded sample; 0: all)')
    p.add_argument('--name', default='long_docs')
    p.add_argument('--resume', action='store_true', help='keep the runs already in the results file; run only the missing ones')
    p.add_argument('--merge', nargs='+', default=None, metavar='NAME', help='only merge the runs of these result files into --name (seeds run in parallel processes)')
    args = p.parse_args()
    if args.merge: return merge(args.name, args.merge)
    ck = embedded_checkpoint(); tok = AutoTokenizer.from_pretrained(ck); raw = load_reviews_task()
    if args.limit: raw['train'] = raw['train'].shuffle(seed=0).select(range(args.limit))
    lens = np.array([len(x) for x in tok(list(raw['train']['text']))['input_ids']])
    data = dict(splits={k: len(v) for k, v in raw.items()}, train_sample=args.limit or None, model_limit=model_limit(tok), tokens_per_review=dict(
        mean=round(float(lens.mean()), 1), median=float(np.median(lens)), p90=float(np.percentile(lens, 90)), max=int(lens.max())),
        longer_than={L: round(float((lens > L).mean()), 4) for L in (128, 256, 512)},
        recipe=dict(RECIPE, batch_size=BATCH, lr=LR), threads=torch.get_num_threads())
    old = json.loads((RESULTS/f'{args.name}.json').read_text()) if args.resume and (RESULTS/f'{args.name}.json').exists() else None
    runs = old['runs'] if old else [tfidf(raw)]
    print(f"tfidf: test {runs[0]['test']['accuracy']:.4f}", flush=True)
    for seed in args.seeds:
        torch.set_num_threads(_threads())  # changed only between seeds: the arms of one seed share a thread count
        for arm in args.arms:
            if any(r['method'].startswith(arm) and r['seed'] == seed for r in runs): continue
            for r in run_arm(ck, tok, raw, arm, seed):
                runs.append(r)
                print(f"{r['method']:14} seed {seed}: test {r['test']['accuracy']:.4f} "
                      f"train {r['train_seconds']:.0f} s, loss {r['train_loss'][0]} -> {r['train_loss'][-1]}", flush=True)
            write_result(args.name, dict(data=data, runs=runs, summary=summary(runs)))

if __name__ == '__main__': main()
