"""Benchmarks for chapter 06 (ftnb.mlm): chunking and whole-word masking against the course's code.

    .venv/bin/python bench/mlm.py [--reviews 1000] [--repeats 3]

1. `group_texts` on a batch of 1,000 tokenized movie reviews: ftnb's `itertools.chain` version against the
   course's `sum(lists, [])` version (quadratic). Target: >= 100x.
2. Whole-word masking of chunks: ftnb's vectorised `WholeWordCollator` against the course's per-token Python
   loop (`whole_word_masking_data_collator` + `default_data_collator`), on a training batch (64 chunks) and on
   a `fixed_eval_masks` batch (1,000 chunks). Target: >= 20x. transformers 5's offset-based
   `DataCollatorForLanguageModeling(whole_word_mask=True)` is timed too, for reference.

Each timing is the median of `--repeats` runs. Prints a table and writes bench/results/mlm.json.
"""
import os, sys, json, time, copy, argparse, platform, statistics, collections
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ftnb.core import default_checkpoint, set_seed
from ftnb.data import movie_reviews
from ftnb.mlm import mlm_tokenizer, tokenize_for_mlm, group_texts, whole_word_collator
from transformers import DataCollatorForLanguageModeling, default_data_collator


def course_group_texts(examples, chunk_size=128):
    "The course's version, verbatim apart from the chunk_size argument."
    concatenated_examples = {k: sum(examples[k], []) for k in examples.keys()}
    total_length = len(concatenated_examples[list(examples.keys())[0]])
    total_length = (total_length // chunk_size) * chunk_size
    result = {k: [t[i: i + chunk_size] for i in range(0, total_length, chunk_size)]
              for k, t in concatenated_examples.items()}
    result["labels"] = result["input_ids"].copy()
    return result


def make_course_collator(tokenizer, wwm_probability=0.2):
    "The course's whole-word collator (a per-token Python loop), verbatim apart from the closure."
    def whole_word_masking_data_collator(features):
        for feature in features:
            word_ids = feature.pop("word_ids")
            mapping = collections.defaultdict(list)
            current_word_index = -1
            current_word = None
            for idx, word_id in enumerate(word_ids):
                if word_id is not None:
                    if word_id != current_word:
                        current_word = word_id
                        current_word_index += 1
                    mapping[current_word_index].append(idx)
            mask = np.random.binomial(1, wwm_probability, (len(mapping),))
            input_ids = feature["input_ids"]
            labels = feature["labels"]
            new_labels = [-100] * len(labels)
            for word_id in np.where(mask)[0]:
                word_id = word_id.item()
                for idx in mapping[word_id]:
                    new_labels[idx] = labels[idx]
                    input_ids[idx] = tokenizer.mask_token_id
            feature["labels"] = new_labels
        return default_data_collator(features)
    return whole_word_masking_data_collator


def median_time(fn, make_args, repeats):
    "Median wall time of `fn(*make_args())` over `repeats` runs (argument preparation not timed)."
    ts = []
    for _ in range(repeats):
        args = make_args()
        t0 = time.perf_counter(); fn(*args); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(n_reviews=1000, repeats=3, chunk_size=128):
    set_seed(0)
    ckpt = default_checkpoint('mlm')
    tok = mlm_tokenizer(ckpt)
    reviews = movie_reviews()
    n_reviews = min(n_reviews, len(reviews))
    toks = tokenize_for_mlm(reviews.select(range(n_reviews)), tok)
    batch = toks[:]  # column -> list of token lists, what Dataset.map(batched=True) hands to group_texts
    n_tokens = sum(map(len, batch['input_ids']))
    rows = []

    ours = group_texts(batch, chunk_size)
    assert ours == course_group_texts(batch, chunk_size), "ftnb's group_texts differs from the course's"
    t_course = median_time(course_group_texts, lambda: (batch, chunk_size), repeats)
    t_ours = median_time(group_texts, lambda: (batch, chunk_size), repeats)
    rows.append(dict(name=f'group_texts, {n_reviews} reviews ({n_tokens:,} tokens, {len(batch)} columns)',
                     course_s=t_course, ftnb_s=t_ours, speedup=t_course / t_ours, target=100))

    chunks = [{k: ours[k][i] for k in ours} for i in range(len(ours['input_ids']))]
    # the course stores None (not -1) as the word id of special tokens
    course_chunks = [{**c, 'word_ids': [None if w < 0 else w for w in c['word_ids']]} for c in chunks]
    course_coll, our_coll = make_course_collator(tok, 0.2), whole_word_collator(tok, 0.2)
    enc = tok(list(reviews.select(range(n_reviews))['text']), return_offsets_mapping=True, return_special_tokens_mask=True)
    off = group_texts({k: enc[k] for k in ('input_ids', 'attention_mask', 'offset_mapping', 'special_tokens_mask')},
                      chunk_size)
    off_chunks = [{k: off[k][i] for k in ('input_ids', 'attention_mask', 'offset_mapping', 'special_tokens_mask')}
                  for i in range(len(off['input_ids']))]
    lib_coll = DataCollatorForLanguageModeling(tok, whole_word_mask=True, mlm_probability=0.2)
    for bs in (64, 1000):  # a training batch; a fixed_eval_masks map batch
        bs = min(bs, len(chunks))
        # the course's collator mutates its input, so every run gets a fresh deep copy (not timed)
        t_course = median_time(course_coll, lambda: (copy.deepcopy(course_chunks[:bs]),), repeats)
        t_ours = median_time(our_coll, lambda: (chunks[:bs],), repeats)
        t_lib = median_time(lib_coll, lambda: (copy.deepcopy(off_chunks[:bs]),), repeats)
        # rows as numpy arrays, as `Dataset.with_format('numpy')` yields them: no list -> array conversion
        np_chunks = [{k: np.asarray(v) for k, v in c.items()} for c in chunks[:bs]]
        t_np = median_time(our_coll, lambda: (np_chunks,), repeats)
        rows.append(dict(name=f'whole-word collator, {bs} chunks of {chunk_size}', course_s=t_course, ftnb_s=t_ours,
                         speedup=t_course / t_ours, target=20, transformers_offsets_s=t_lib,
                         ftnb_numpy_rows_s=t_np, speedup_numpy_rows=t_course / t_np))

    print(f"\nftnb.mlm benchmarks ({ckpt.split('/')[-1] if '/' in ckpt else ckpt}; torch threads "
          f"{torch.get_num_threads()}; median of {repeats})\n")
    print(f"{'benchmark':58s} {'course':>10s} {'ftnb':>10s} {'speedup':>9s} {'target':>7s}")
    for r in rows:
        ok = 'ok' if r['speedup'] >= r['target'] else 'MISSED'
        print(f"{r['name']:58s} {r['course_s']*1e3:8.1f}ms {r['ftnb_s']*1e3:8.2f}ms {r['speedup']:8.0f}x "
              f"{'>=' + str(r['target']) + 'x':>7s} {ok}")
        if 'ftnb_numpy_rows_s' in r:
            print(f"{'  (ftnb, rows already numpy arrays)':58s} {'':>10s} {r['ftnb_numpy_rows_s']*1e3:8.2f}ms "
                  f"{r['speedup_numpy_rows']:8.0f}x")
        if 'transformers_offsets_s' in r:
            print(f"{'  (transformers 5 whole_word_mask=True, offsets)':58s} {'':>10s} "
                  f"{r['transformers_offsets_s']*1e3:8.2f}ms")
    out = ROOT/'bench'/'results'/'mlm.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    res = dict(benchmark='mlm', checkpoint=str(ckpt), reviews=n_reviews, tokens=n_tokens, chunk_size=chunk_size,
               repeats=repeats, statistic='median', machine=platform.machine(), cpu_count=os.cpu_count(),
               torch_threads=torch.get_num_threads(), torch=torch.__version__, python=platform.python_version(),
               date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
               load_average=os.getloadavg()[0] if hasattr(os, 'getloadavg') else None, results=rows)
    tmp = out.with_suffix('.json.tmp'); tmp.write_text(json.dumps(res, indent=1)); os.replace(tmp, out)
    print(f"\nwrote {out.relative_to(ROOT)}")
    return res


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--reviews', type=int, default=1000)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    main(a.reviews, a.repeats)
