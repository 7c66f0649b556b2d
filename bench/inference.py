"""Benchmark of shipping a model (chapter 06c): rows/s and peak memory of five ways to predict, and how close they are.

Two models, trained once and cached (FTNB_CACHE/bench-onnx), as chapter 06c trains them: the embedded MiniLM with
ftnb's recipe (length-grouped batches, as `ftnb train`) on 2,000 of the 3-class snippets (short texts, cut at 128
tokens) and on 400 polarity reviews read as their first 256 tokens (long texts; batch 8, lr 1e-4). Rows: all validation + test snippets (2,121); all 1,500 reviews.
Ways: `pipeline('text-classification', batch_size=32)` (fp32, as the course uses it); ftnb's `logits_of` (what
`ftnb predict` runs) on the torch model in fp32 and in the precision `pick_precision` picks; the `ftnb export` folder
in fp32 and int8 (onnxruntime, as many threads as torch), and int8 with onnxruntime's default of one scale per weight
matrix (ftnb asks for one per output channel). Speed: one process, ways interleaved for `--rounds` rounds, rows/s of
the median round. Memory: each way in a fresh process on the first 300 rows (peak RSS: VmHWM), plus the int8 export
run with onnxruntime and tokenizers only (no torch, no ftnb imported).
Accuracy on the test split and label agreement with ftnb's fp32 predictions on all rows.

Run from the repository root: `OMP_NUM_THREADS=1 python bench/inference.py [--rounds 3] [--tasks snippets reviews]`.
Writes bench/results/onnx.json. Goal: ONNX int8 >= 2x ftnb's fp32 torch predict at <= 0.5 accuracy-point loss."""
import argparse, json, statistics, subprocess, sys, time
from pathlib import Path
from common import *

WAYS = ('pipeline', 'torch_fp32', 'torch_picked', 'onnx_fp32', 'onnx_int8', 'onnx_int8_per_tensor')
TASKS = {'snippets': dict(n=2000, max_length=128, recipe={}), 'reviews': dict(n=400, max_length=256, recipe=dict(batch_size=8, lr=1e-4))}

def _raw(task):
    from ftnb.data import load_snippets_task, load_reviews_task
    return load_snippets_task() if task == 'snippets' else load_reviews_task()

def _build(task, dest:Path):
    "Train the task's model as chapter 06c does and save it in dest/torch."
    from datasets import DatasetDict
    from transformers import AutoTokenizer
    from ftnb.core import default_checkpoint, set_seed
    from ftnb.data import tokenize_texts, make_loaders
    from ftnb.models import load_classifier
    from ftnb.loop import train, RECIPE
    from ftnb.windows import record_windows
    spec, raw, ck = TASKS[task], _raw(task), default_checkpoint('cls')
    raw = DatasetDict({**raw, 'train': raw['train'].shuffle(seed=0).select(range(spec['n']))})
    tok = AutoTokenizer.from_pretrained(ck)
    rec = {**RECIPE, **spec['recipe'], 'epochs': 2}; bs = rec.pop('batch_size')
    ds = tokenize_texts(raw, tok, 'text', max_length=spec['max_length'], remove_text=True, rename_label=True)
    tdl, edl = make_loaders(ds, tok, batch_size=bs, eval_split='validation', group_by_length=True)
    set_seed(42); m = record_windows(load_classifier(ck, raw['train'].features['label'].names), spec['max_length'])
    m.config.ftnb_text_columns = ['text', None]
    t0 = time.perf_counter(); h = train(m, tdl, edl, **rec, seed=42, progress=False)
    m.save_pretrained(dest/'torch'); tok.save_pretrained(dest/'torch')
    (dest/'bench.json').write_text(json.dumps(dict(train_seconds=time.perf_counter() - t0, val=h.eval[-1]), indent=1))

def _exports(model:Path, dest:Path):
    "`ftnb export` of the model in fp32 and int8 (per-channel scales, ftnb's default), and int8 with one scale per tensor."
    from ftnb.ship import export, quantize
    checks = {q: export(model, dest/f'onnx_{q}', None if q == 'fp32' else q)['check'] for q in ('fp32', 'int8')}
    import shutil; shutil.copytree(dest/'onnx_fp32', dest/'onnx_int8_per_tensor')
    quantize(dest/'onnx_fp32'/'model.onnx', dest/'onnx_int8_per_tensor'/'model.onnx', 'int8', per_channel=False)
    (dest/'bench.json').write_text(json.dumps(dict(checks=checks), indent=1))

def model_dirs(task) -> tuple:
    "The task's cached `(model folder, exports folder)`: the trained model (torch/) and its exports (onnx_*/), each built once."
    from ftnb.core import cache_dir, build_once
    m = build_once(cache_dir('bench-onnx')/f'{task}-v2', lambda d: _build(task, d), lambda d: (d/'bench.json').is_file())
    e = build_once(cache_dir('bench-onnx')/f'{task}-exports-v3', lambda d: _exports(m/'torch', d), lambda d: (d/'bench.json').is_file())
    return m, e

def rows(task) -> tuple:
    "`(texts, labels, is_test)`: the rows every way predicts."
    raw = _raw(task)
    parts = ['validation', 'test'] if task == 'snippets' else ['train', 'validation', 'test']
    texts = [t for p in parts for t in raw[p]['text']]
    labels = [y for p in parts for y in raw[p]['label']]
    is_test = [p == 'test' for p in parts for _ in range(len(raw[p]))]
    return texts, labels, is_test

def way(name, task):
    "`f(texts) -> logits` of one way to predict the task's rows."
    import numpy as np
    from ftnb.core import pick_precision
    from ftnb.loop import Runtime
    from ftnb.tasks import load_trained, logits_of, reading
    from ftnb.ship import load_model
    m, e = model_dirs(task)
    if name == 'pipeline':
        from transformers import pipeline
        model, tok = load_trained(m/'torch'); n = reading(model)['max_length']
        clf = pipeline('text-classification', model=model, tokenizer=tok, batch_size=32, top_k=None, device='cpu')
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        def f(texts):  # the pipeline's probabilities, as log-probabilities: the same argmax as logits
            out = clf(texts, truncation=True, max_length=n)
            return np.log(np.array([[{o['label']: o['score'] for o in r}[k] for k in names] for r in out]))
        return f
    folder = m/'torch' if name.startswith('torch') else e/name
    model, tok = load_model(folder)
    rt = Runtime(precision=pick_precision() if name == 'torch_picked' else 'fp32')
    return lambda texts: logits_of(model, tok, texts, runtime=rt, **reading(model))

def speed(task, rounds:int) -> dict:
    "Rows/s of every way (median of `rounds` interleaved rounds), test accuracy and agreement with torch fp32."
    import numpy as np
    texts, labels, is_test = rows(task)
    fs = {w: way(w, task) for w in WAYS}
    for f in fs.values(): f(texts[:64])  # warm-up
    secs, logits = {w: [] for w in WAYS}, {}
    for r in range(rounds):
        for w, f in fs.items():
            t0 = time.perf_counter(); logits[w] = f(texts); secs[w].append(time.perf_counter() - t0)
        print(f"{task} round {r + 1}: " + ', '.join(f"{w} {len(texts) / secs[w][-1]:.1f}" for w in WAYS), flush=True)
    y, test = np.asarray(labels), np.asarray(is_test)
    ref = logits['torch_fp32'].argmax(-1)
    return {w: dict(rows=len(texts), seconds=secs[w], rows_per_s=len(texts) / statistics.median(secs[w]),
                    test_accuracy=float((logits[w].argmax(-1) == y)[test].mean()), agreement=float((logits[w].argmax(-1) == ref).mean()))
            for w in WAYS}

def bare_onnx(folder:Path):
    "`f(texts) -> logits` with onnxruntime and tokenizers only (no torch, no ftnb): what a deployment needs."
    import numpy as np, onnxruntime as ort
    from tokenizers import Tokenizer
    cfg = json.loads((folder/'config.json').read_text())
    tok = Tokenizer.from_file(str(folder/'tokenizer.json')); tok.enable_truncation(cfg['ftnb_windows']['max_length']); tok.enable_padding()
    s = ort.InferenceSession(str(folder/'model.onnx'), providers=['CPUExecutionProvider'])
    key = {'input_ids': 'ids', 'token_type_ids': 'type_ids', 'attention_mask': 'attention_mask'}
    def f(texts):  # batches of at most 2,048 tokens, as `OnnxClassifier` calls onnxruntime
        out, n = [], max(1, 2048 // cfg['ftnb_windows']['max_length'])
        for i in range(0, len(texts), n):
            enc = tok.encode_batch(texts[i:i + n])
            out.append(s.run(None, {x.name: np.array([getattr(e, key[x.name]) for e in enc], dtype=np.int64) for x in s.get_inputs()})[0])
        return np.concatenate(out)
    return f

def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not `getrusage`'s ru_maxrss: Linux carries that over `exec` from the
    parent, so a child started by a big parent reports the parent's size."""
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
    return int(line.split()[1]) / 1024

def rss_child(task, name, texts_file, folder):
    "In a fresh process: load one way and predict the rows in `texts_file`; print the peak RSS in MiB."
    texts = json.loads(Path(texts_file).read_text())
    if name == 'onnx_int8_bare': bare_onnx(Path(folder)/'onnx_int8')(texts); assert 'torch' not in sys.modules
    else: full_profile(); way(name, task)(texts)
    print(json.dumps({'max_rss_mib': peak_rss_mib()}))

def rss(task, folder:Path) -> dict:
    "Peak RSS of each way (and of the int8 export without torch), each in its own process, on the first 300 rows."
    import tempfile
    f = Path(tempfile.mkstemp(suffix='.json')[1]); f.write_text(json.dumps(rows(task)[0][:300]))
    out = {}
    for w in (*WAYS, 'onnx_int8_bare'):
        r = subprocess.run([sys.executable, __file__, '--rss', task, w, str(f), str(folder)], capture_output=True, text=True)
        if r.returncode: raise RuntimeError(r.stderr[-2000:])
        out[w] = json.loads(r.stdout.strip().splitlines()[-1])['max_rss_mib']
    f.unlink()
    return out

def table(results:dict) -> list:
    "One row per task and way, for the chapter and the README."
    rows_ = []
    for task, r in results.items():
        base = r['speed']['torch_fp32']
        for w in WAYS:
            s = r['speed'][w]
            rows_.append({'task': task, 'way': w, 'rows/s': round(s['rows_per_s'], 1), 'x torch fp32': round(s['rows_per_s'] / base['rows_per_s'], 2),
                          'peak RSS MiB': round(r['rss_mib'][w]), 'test accuracy': round(s['test_accuracy'], 4),
                          'accuracy change (points)': round(100 * (s['test_accuracy'] - base['test_accuracy']), 2),
                          'same label as torch fp32': round(s['agreement'], 4)})
        rows_.append({'task': task, 'way': 'onnx_int8 without torch', 'peak RSS MiB': round(r['rss_mib']['onnx_int8_bare'])})
    return rows_

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--tasks', nargs='+', default=list(TASKS), choices=list(TASKS))
    ap.add_argument('--rss-only', action='store_true', help='measure the memory again, keep the speeds of bench/results/onnx.json')
    ap.add_argument('--rss', nargs=4, metavar=('TASK', 'WAY', 'TEXTS', 'FOLDER'), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rss: rss_child(*a.rss); sys.exit(0)
    full_profile()
    import torch
    from ftnb.core import pick_precision
    if a.rss_only:
        old = json.loads((RESULTS/'onnx.json').read_text())
        for t in a.tasks: old['results'][t]['rss_mib'] = rss(t, model_dirs(t)[1])
        old['table'] = table(old['results']); write_result('onnx', old); sys.exit(0)
    results = {}
    for t in a.tasks:
        m, e = model_dirs(t)
        results[t] = dict(model=json.loads((m/'bench.json').read_text()), exports=json.loads((e/'bench.json').read_text()),
                          speed=speed(t, a.rounds), rss_mib=rss(t, e))
    write_result('onnx', dict(threads=torch.get_num_threads(), picked=pick_precision(), rounds=a.rounds, ways=list(WAYS), results=results,
                              table=table(results), machine=machine_info(cpu=cpu_model())))
