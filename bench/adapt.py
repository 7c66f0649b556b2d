"""Does adapting the language model make a better classifier? (chapter 06's payoff, issue #27)

Four encoders per task, each fine-tuned with the same recipe and the same seeds (paired by seed):

  original   the embedded MiniLM (all-MiniLM-L6-v2) as shipped
  domain     + masked-LM adaptation on movie reviews: the 1,000 *training* reviews of the reviews task (its validation and
             test reviews are never seen), 2,000 chunks of 128 tokens, one pass (`ftnb.mlm.adapt`'s recipe, lr 2e-4)
  task       + adaptation on the texts the classifier is then trained on (the task's own training texts, labels unused)
  both       domain, then task (Gururangan et al. 2020's DAPT + TAPT)

Every adaptation starts from ftnb's warm-started MLM head (`warm_start_mlm_head`; the body is MiniLM's own).
Three more domain settings (lr 5e-5; whole-word masking; only the top 2 of the 6 layers adapt) are fine-tuned on the
snippets task (lr 5e-5 on the reviews too): four settings in all.
Tasks (the training sets are seeded samples, so that 5 seeds of every arm fit a CPU session):

  snippets   the 3-class rated snippets (`load_snippets_task('sentiment3')`): 2,000 of the 8,482 training snippets,
             ftnb's RECIPE (batch 32, lr 1.5e-4, 2 epochs, 10% warm-up),
             test accuracy and macro F1 on all 1,061 test snippets (the first seed also
             evaluates the validation split each half epoch: the chapter's learning curves)
  reviews    the whole-review polarity task (`load_reviews_task`): 400 of the 1,000 training reviews, their first 128
             tokens, batch 8, lr 1e-4, 2 epochs (bench/long_docs.py's trunc128 arm); test accuracy on all 250 test reviews

Each encoder also records its adaptation seconds and threads, its held-out perplexity before and after, and the mean cosine
similarity of the mean-pooled embeddings of 256 unrelated test snippets (a collapse check: a collapsed encoder maps every
text to nearly the same vector, so the similarity goes to 1).

Usage (two processes on two cores, one thread each; the encoders are built once, under a file lock, by whichever needs one):
    python bench/adapt.py --build domain task-snippets both-snippets domain-wwm --task snippets --name adapt_snippets &
    python bench/adapt.py --build task-reviews domain-lr5e-5 --task reviews --name adapt_reviews &
    wait; python bench/adapt.py --build domain-top2 --task snippets --arms domain-top2 --name adapt_snippets_top
    python bench/adapt.py --merge adapt_snippets adapt_reviews adapt_snippets_top     # -> bench/results/adapt.json
"""
import time, argparse, statistics, math
from common import *
full_profile()
import numpy as np, torch
torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '1')))
from transformers import AutoTokenizer, AutoModel
from ftnb.core import set_seed, pick_precision, embedded_checkpoint, cache_dir, build_once
from ftnb.data import load_reviews_task, load_snippets_task, tokenize_texts, make_loaders
from ftnb.models import load_classifier
from ftnb.loop import train, evaluate, Runtime, RECIPE
from transformers import AutoModelForMaskedLM, DataCollatorForLanguageModeling
from ftnb.mlm import warm_start_mlm_head, adapt, chunk_corpus, mlm_tokenizer, fixed_eval_masks, train_mlm

SEEDS = [42, 43, 44, 45, 46]
TASKS = {'snippets': dict(train=2000, batch=32, lr=RECIPE['lr'], max_length=128),
         'reviews': dict(train=400, batch=8, lr=1e-4, max_length=128)}
DOMAIN = dict(corpus='domain', lr=2e-4, whole_word=False, chunks=2000, passes=1)
ENCODERS = {  # name -> how it is adapted; `base`: adapt that encoder further
    'domain': DOMAIN, 'domain-lr5e-5': dict(DOMAIN, lr=5e-5), 'domain-wwm': dict(DOMAIN, whole_word=True),
    'domain-top2': dict(DOMAIN, top=2),  # only the top 2 of MiniLM's 6 layers (and the MLM head) adapt
    'task-snippets': dict(DOMAIN, corpus='snippets'), 'task-reviews': dict(DOMAIN, corpus='reviews'),
    'both-snippets': dict(DOMAIN, corpus='snippets', base='domain'), 'both-reviews': dict(DOMAIN, corpus='reviews', base='domain')}
ARMS = {'snippets': ['original', 'domain', 'task', 'both', 'domain-lr5e-5', 'domain-wwm', 'domain-top2'],
        'reviews': ['original', 'domain', 'task', 'both', 'domain-lr5e-5', 'domain-top2']}

def task_data(task:str):
    "The task's splits, its training split a seeded sample of `TASKS[task]['train']` rows."
    raw = load_snippets_task('sentiment3') if task == 'snippets' else load_reviews_task()
    raw['train'] = raw['train'].shuffle(seed=0).select(range(TASKS[task]['train']))
    return raw

def corpus(name:str):
    "Unlabeled text to adapt on: the reviews task's training reviews (domain) or a task's training texts."
    if name == 'domain': return load_reviews_task()['train'].select_columns(['text'])
    return task_data(name)['train'].select_columns(['text'])

def unrelated_similarity(ck, n:int=256) -> float:
    "Mean cosine similarity of the mean-pooled embeddings of `n` unrelated test snippets (off-diagonal pairs)."
    texts = list(load_snippets_task('sentiment3')['test'].shuffle(seed=1).select(range(n))['text'])
    tok, model = AutoTokenizer.from_pretrained(ck), AutoModel.from_pretrained(ck).eval()
    with torch.no_grad():
        b = tok(texts, padding=True, truncation=True, max_length=128, return_tensors='pt')
        h = model(**b).last_hidden_state; m = b['attention_mask'].unsqueeze(-1).float()
        e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
    s = e @ e.T
    return round(float((s.sum() - s.diagonal().sum()) / (n * (n - 1))), 4)

def _adapt_top(base, text, train_size, test, passes, e, tmp):
    "`adapt`'s recipe with the embeddings and all but the top `e['top']` layers frozen, from ftnb.mlm's public pieces."
    tok = mlm_tokenizer(base)
    split = chunk_corpus(text, tok, 128).train_test_split(train_size=train_size, test_size=test, seed=42)
    coll = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    ev = fixed_eval_masks(split['test'], coll, seed=42)
    set_seed(42); model = AutoModelForMaskedLM.from_pretrained(base)
    n = model.config.num_hidden_layers
    keep = tuple(f'encoder.layer.{i}.' for i in range(n - e['top'], n))
    for name, p in model.base_model.named_parameters(): p.requires_grad = name.startswith(keep)
    hist = train_mlm(model, split['train'], coll, ev, epochs=passes, batch_size=32, lr=e['lr'], seed=42, progress=False,
                     log_every=max(1, train_size // 32 // 8))
    for p in model.parameters(): p.requires_grad = True
    model.save_pretrained(tmp); tok.save_pretrained(tmp)
    return hist

def _build(tmp:Path, name:str):
    "Adapt the encoder `name` into `tmp` and record what it cost."
    e = ENCODERS[name]
    base = str(encoder(e['base'])) if e.get('base') else str(warm_start_mlm_head())
    text = corpus(e['corpus'])
    n = len(chunk_corpus(text, mlm_tokenizer(base), 128))
    test = min(100, n // 10); train_size = min(e['chunks'], n - test)
    passes = max(e['passes'], round(e['chunks'] / train_size))  # a small corpus: more passes, about the same steps
    t0 = time.perf_counter()
    if e.get('top'): hist = _adapt_top(base, text, train_size, test, passes, e, tmp)
    else: _, hist = adapt(base, text, train_size=train_size, test_size=test, epochs=passes, lr=e['lr'], whole_word=e['whole_word'],
                          output_dir=str(tmp), progress=False)
    secs = time.perf_counter() - t0
    ppl = [round(r['perplexity'], 1) for r in hist.eval]
    rec = dict(name=name, recipe=e, corpus_chunks=n, train_chunks=train_size, passes=passes, seconds=round(secs, 1),
               threads=torch.get_num_threads(), perplexity=ppl, unrelated_similarity=unrelated_similarity(str(tmp)))
    (tmp/'bench.json').write_text(json.dumps(rec, indent=1))
    print(f"built {name}: {secs:.0f} s, perplexity {ppl[0]} -> {ppl[-1]}, unrelated similarity {rec['unrelated_similarity']}", flush=True)

def encoder(name:str) -> Path:
    "The adapted encoder `name`, built once (cached under FTNB_CACHE/bench-adapt)."
    dest = cache_dir('bench-adapt')/f"{name}-v1"
    return build_once(dest, lambda tmp: _build(Path(tmp), name), lambda d: (d/'bench.json').is_file(), timeout=4*3600)

def checkpoint(task:str, arm:str) -> str:
    if arm == 'original': return embedded_checkpoint()
    return str(encoder(arm if arm.startswith('domain') else f'{arm}-{task}'))

def run(task:str, arm:str, seed:int, raw, tok, ds) -> dict:
    "Fine-tune the arm's encoder on the task with one seed (`ds`: `raw` tokenized once); test metrics and, for one seed, curves."
    t = TASKS[task]
    ck = checkpoint(task, arm)
    tdl, vdl = make_loaders(ds, tok, batch_size=t['batch'], group_by_length=True, seed=seed)
    _, test_dl = make_loaders(ds, tok, batch_size=64, eval_split='test', seed=seed)
    set_seed(seed)
    model = load_classifier(ck, raw['train'].features['label'].names)
    prec = pick_precision('cpu'); steps = len(tdl) * RECIPE['epochs']
    t0 = time.perf_counter()
    curve = task == 'snippets' and seed == SEEDS[0]  # the chapter's curves: one seed, validation each half epoch
    h = train(model, tdl, vdl if curve else None, epochs=RECIPE['epochs'], lr=t['lr'], warmup=RECIPE['warmup'],
              precision=prec, seed=seed, progress=False, log_every=max(1, steps // 16),
              eval_every=max(1, len(tdl) // 2) if curve else None)
    secs = time.perf_counter() - t0
    test = evaluate(model, test_dl, Runtime('cpu', prec))
    return dict(task=task, arm=arm, seed=seed, precision=prec, threads=torch.get_num_threads(), train_seconds=round(secs, 1),
                head=type(model).__name__, test={k: round(float(v), 4) for k, v in test.items()}, history=list(h))

def summarise(runs:list, encoders:dict) -> dict:
    "Per task and arm: mean, std, and the paired gain over the original (mean, std, paired t and sign count)."
    out = {}
    for task in dict.fromkeys(r['task'] for r in runs):
        acc = {(r['arm'], r['seed']): r['test']['accuracy'] for r in runs if r['task'] == task}
        out[task] = {}
        for arm in dict.fromkeys(a for a, _ in acc):
            seeds = sorted(s for a, s in acc if a == arm)
            xs = [acc[arm, s] for s in seeds]
            rec = dict(n=len(xs), accuracy=_ms(xs))
            f1 = [r['test']['f1'] for r in runs if r['task'] == task and r['arm'] == arm]
            rec['f1'] = _ms(f1)
            name = None if arm == 'original' else (arm if arm.startswith('domain') else f'{arm}-{task}')
            if name:
                enc = encoders.get(name, {}); base = encoders.get('domain', {}) if arm == 'both' else {}
                rec['adapt_seconds'] = round(enc.get('seconds', 0) + base.get('seconds', 0), 1)
                rec['unrelated_similarity'] = enc.get('unrelated_similarity')
                d = [acc[arm, s] - acc['original', s] for s in seeds if ('original', s) in acc]
                if len(d) > 1:
                    sd = statistics.stdev(d); tval = statistics.mean(d) / (sd / math.sqrt(len(d))) if sd else float('inf')
                    rec['gain'] = dict(_ms(d), n=len(d), t=round(tval, 2), better=sum(x > 0 for x in d), worse=sum(x < 0 for x in d))
            out[task][arm] = rec
    return out

def _ms(xs): return dict(mean=round(statistics.mean(xs), 4), std=round(statistics.stdev(xs), 4) if len(xs) > 1 else 0.0)

def _slim(r:dict) -> dict:
    "A run's record for adapt.json: the whole history only for the chapter's curves (runs that evaluated), else its first and last loss."
    if any(x['split'] == 'eval' for x in r['history']): return r
    tr = [round(x['loss'], 4) for x in r['history'] if x['split'] == 'train']
    return {**{k: v for k, v in r.items() if k != 'history'}, 'train_loss': [tr[0], tr[-1]]}

def merge(parts:list):
    "Write adapt.json: every run (histories kept for the chapter's curves), the encoders, the summary and `best_gain`."
    docs = [json.loads((RESULTS/f'{p}.json').read_text()) for p in parts]
    runs = [dict(_slim(r), machine=d['machine']['cpu_model']) for d in docs for r in d['runs']]
    encs = {p.name.rsplit('-v', 1)[0]: json.loads((p/'bench.json').read_text()) for p in sorted(cache_dir('bench-adapt').glob('*-v1'))
            if (p/'bench.json').is_file()}
    encs['original'] = dict(name='original', seconds=0, unrelated_similarity=unrelated_similarity(embedded_checkpoint()))
    summ = summarise(runs, encs)
    arms = {a for a in summ['snippets'] if all('gain' in summ[t].get(a, {}) for t in ('snippets', 'reviews'))}  # on both tasks
    worse = {a: min(summ[t][a]['gain']['mean'] for t in ('snippets', 'reviews')) for a in arms}
    best = max(worse, key=worse.get)
    write_result('adapt', dict(machine=docs[0]['machine'], merged_from=parts, tasks=TASKS, encoders=encs, runs=runs, summary=summ,
                               best_gain=dict(arm=best, points=round(100 * worse[best], 2), on_the_worse_task=True)))

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--build', nargs='*', default=[], choices=list(ENCODERS), help='build these encoders first')
    p.add_argument('--task', choices=list(TASKS)); p.add_argument('--seeds', type=int, nargs='+', default=SEEDS)
    p.add_argument('--arms', nargs='+', default=None); p.add_argument('--name', default=None)
    p.add_argument('--merge', nargs='+', default=None, metavar='NAME', help='only merge these result files into adapt.json')
    args = p.parse_args()
    if args.merge: return merge(args.merge)
    for name in args.build: encoder(name)
    if not args.task: return
    name = args.name or f'adapt_{args.task}'
    path = RESULTS/f'{name}.json'
    runs = json.loads(path.read_text())['runs'] if path.exists() else []
    raw = task_data(args.task); tok = AutoTokenizer.from_pretrained(embedded_checkpoint())
    ds = tokenize_texts(raw, tok, max_length=TASKS[args.task]['max_length'], remove_text=True, rename_label=True)  # every arm's input
    for seed in args.seeds:  # seed by seed: every seed finished has all its arms (paired)
        for arm in args.arms or ARMS[args.task]:
            if any(r['arm'] == arm and r['seed'] == seed for r in runs): continue
            r = run(args.task, arm, seed, raw, tok, ds); runs.append(r)
            print(f"{args.task} {arm:14} seed {seed}: test acc {r['test']['accuracy']:.4f} ({r['train_seconds']:.0f} s)", flush=True)
            write_result(name, dict(runs=runs))

if __name__ == '__main__': main()
