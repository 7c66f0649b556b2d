"""Benchmark of ftnb.tasks.predict: rows/s against transformers' `pipeline('text-classification', batch_size=32)`
over the same rows (same predictions?), and peak RSS of `predict` streaming a 1,000-row and a 100,000-row csv.

Run from the repository root: `python bench/predict.py [--rows N] [--rss-rows 1000 100000] [--model DIR]`.
Full profile: the embedded MiniLM checkpoint with a 3-class head (a fresh, seeded head unless --model gives a
trained folder; speed does not depend on the weights) on the embedded Rotten Tomatoes snippets. The memory
runs use the smoke profile's tiny checkpoint (the same streaming code, so that 100,000 rows take a minute, not
an hour on two cores), each size in its own process (`resource.getrusage(...).ru_maxrss`).
Writes bench/results/predict.json. Targets: >= 2x the pipeline's rows/s; peak RSS(100k) <= 1.5 x RSS(1k)."""
import argparse, csv, json, subprocess, sys, tempfile, time
from pathlib import Path
from common import *

def _write_csv(path:Path, texts:list, n:int) -> Path:
    with open(path, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['id', 'text'])
        for i in range(n): w.writerow([i, texts[i % len(texts)]])
    return path

def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not `getrusage`'s ru_maxrss: Linux carries that over `exec` from the
    parent, so every child reported the parent's size (989 MiB for both sizes, a ratio of 1.00 that measured nothing)."""
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
    return int(line.split()[1]) / 1024

def rss_child(folder, data, out):
    "In a fresh process: stream `data` through `predict` into `out`; print peak RSS (MiB) and the time."
    full_profile()
    from ftnb.tasks import predict
    t0 = time.perf_counter()
    predict(folder, data, out, progress=False)
    print(json.dumps({'seconds': time.perf_counter() - t0, 'max_rss_mib': peak_rss_mib()}))

def padded_tokens(tok, texts:list, batch_size:int, sort:bool) -> int:
    "Tokens the model runs on (padding included) for batches in input order (the pipeline) or length-sorted (`predict`)."
    lens = [len(x) for x in tok(texts, truncation=True)['input_ids']]
    if sort: lens = sorted(lens, reverse=True)
    return sum(len(lens[i:i + batch_size]) * max(lens[i:i + batch_size]) for i in range(0, len(lens), batch_size))

def speed(folder:Path, texts:list, repeats:int=3) -> dict:
    """rows/s of the pipeline (batch 32, fp32) and of `predict` (fp32 and the picked precision), runs interleaved (the
    machine is shared: the best of `repeats` is the least disturbed), and whether they predict the same."""
    import numpy as np
    from transformers import pipeline
    from ftnb.core import pick_precision
    from ftnb.tasks import load_trained, predict
    model, tok = load_trained(folder)
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    clf = pipeline('text-classification', model=model, tokenizer=tok, batch_size=32, top_k=None, device='cpu')
    precs = list(dict.fromkeys(['fp32', pick_precision('cpu')]))
    runs = {'pipeline': lambda: clf(texts), **{f'predict_{p}': (lambda p: lambda: predict((model, tok), texts, precision=p, progress=False))(p) for p in precs}}
    clf(texts[:64]); [predict((model, tok), texts[:64], precision=p, progress=False) for p in precs]  # warm-up
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items(): times[k].append(median_time(f, n=1)[0])
    ref = clf(texts)
    ref_label = [max(o, key=lambda d: d['score'])['label'] for o in ref]
    ref_prob = np.array([[{d['label']: d['score'] for d in o}[n] for n in names] for o in ref])
    best = {k: min(v) for k, v in times.items()}
    out = dict(rows=len(texts), pipeline=dict(batch_size=32, precision='fp32', seconds=times['pipeline'], rows_per_s_best=len(texts) / best['pipeline'],
                                             padded_tokens=padded_tokens(tok, texts, 32, sort=False)))
    for p in precs:
        df = predict((model, tok), texts, precision=p, progress=False)
        probs = df[[f'prob_{n}' for n in names]].to_numpy()
        k = f'predict_{p}'
        out[k] = dict(batch_size=64, seconds=times[k], rows_per_s_best=len(texts) / best[k], speedup_best=best['pipeline'] / best[k],
                      speedup_median=float(np.median(times['pipeline']) / np.median(times[k])), padded_tokens=padded_tokens(tok, texts, 64, sort=True),
                      same_label=float(np.mean(df['predicted_label'].to_numpy() == np.array(ref_label))),
                      max_abs_prob_diff=float(np.abs(probs - ref_prob).max()))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=2000, help='rows for the speed comparison')
    ap.add_argument('--rss-rows', type=int, nargs='+', default=[1000, 100000])
    ap.add_argument('--model', default=None, help='a trained model folder (default: a fresh 3-class head on the embedded MiniLM)')
    ap.add_argument('--rss-only', action='store_true', help='measure the memory again, keep the speeds of bench/results/predict.json')
    ap.add_argument('--rss-child', nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rss_child: return rss_child(*a.rss_child)
    full_profile()
    from ftnb.data import read_snippets
    texts = [t for _, _, t in read_snippets()]
    tmp = Path(tempfile.mkdtemp())
    if a.rss_only: res = {k: v for k, v in json.loads((RESULTS/'predict.json').read_text()).items() if k in ('speed', 'machine')}
    else:
        folder = Path(a.model) if a.model else model_dir(tmp)
        res = dict(speed=speed(folder, texts[:a.rows]))
        print(json.dumps(res['speed'], indent=1))
    small = model_dir(tmp, smoke=True)
    rss = {}
    for n in a.rss_rows:
        data = _write_csv(tmp/f'rows{n}.csv', texts, n)
        r = subprocess.run([sys.executable, __file__, '--rss-child', str(small), str(data), str(tmp/f'out{n}.csv')],
                           capture_output=True, text=True, check=True)
        rss[n] = json.loads(r.stdout.strip().splitlines()[-1]); print(n, rss[n])
    lo, hi = min(a.rss_rows), max(a.rss_rows)
    res['memory'] = dict(checkpoint='smoke (tiny BERT), chunk_size 4096', runs={str(k): v for k, v in rss.items()},
                         ratio=rss[hi]['max_rss_mib'] / rss[lo]['max_rss_mib'], machine=machine_info())
    best = max(v['speedup_best'] for k, v in res['speed'].items() if k.startswith('predict_'))
    res['target'] = dict(speedup_min=2.0, rss_ratio_max=1.5, speedup_met=best >= 2.0, rss_met=res['memory']['ratio'] <= 1.5)
    print(json.dumps(res['target']))
    write_result('predict', res)

if __name__ == '__main__': main()
