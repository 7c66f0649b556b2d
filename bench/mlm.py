"""Benchmarks for chapter 06 (ftnb.mlm): chunking and whole-word masking against the course's code.

    .venv/bin/python bench/mlm.py [--reviews 1000] [--repeats 3]

Each side is given what its own pipeline hands it, and does the whole job from there:

1. `group_texts` on one `Dataset.map(batched=True)` batch of 1,000 tokenized movie reviews. The course maps a
   default-format dataset, so its `sum(lists, [])` version gets Python lists and returns Python lists. ftnb's
   `chunk_corpus` maps the dataset `with_format('numpy')`, so `group_texts` gets one numpy array per review and
   returns 2-D arrays (one chunk per row; `map` stores them as the same lists). Target: >= 100x.
   Also shown: ftnb given Python lists (a caller that does not set the format), the concatenation step alone,
   and the whole `Dataset.map` call both ways (formatting, chunking and writing the Arrow table).
2. Whole-word masking, from the examples the DataLoader yields to a masked batch of tensors. The course's
   collator (`whole_word_masking_data_collator`, a per-token Python loop, then `default_data_collator`) gets
   Python-list rows from a default-format dataset; ftnb's vectorised `WholeWordCollator` gets the numpy row
   views that `train_mlm`'s DataLoader (`ftnb.mlm.mlm_loader`'s dataset, a batch fetched straight from Arrow) and
   `fixed_eval_masks` (a `with_format('numpy')` map batch) hand it.
   Sizes: a training batch (64 chunks) and a `fixed_eval_masks` map batch (1,000 chunks). Target: >= 20x.
   Also shown: the same including the DataLoader's fetch of the rows from the dataset (`__getitems__`), ftnb
   given Python-list rows, and transformers 5's offset-based `DataCollatorForLanguageModeling(whole_word_mask=True)`.

Each timing is the median of `--repeats` runs (inputs prepared, untimed, before each run). The machine is shared:
the 1-minute load average at the start and end is recorded. Prints a table and writes bench/results/mlm.json.
"""
import os, sys, json, time, copy, argparse, itertools, statistics, collections
from pathlib import Path
from common import full_profile, machine_info, write_result
full_profile()
import numpy as np
import torch

from ftnb.core import default_checkpoint, set_seed
from ftnb.data import movie_reviews
from ftnb.mlm import mlm_tokenizer, tokenize_for_mlm, group_texts, whole_word_collator, mlm_loader
import datasets
from transformers import DataCollatorForLanguageModeling, default_data_collator
datasets.disable_progress_bars()


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


def row(name, course_s, ftnb_s, target=None, **kw):
    return dict(name=name, course_s=course_s, ftnb_s=ftnb_s, speedup=course_s / ftnb_s, target=target, **kw)


def main(n_reviews=1000, repeats=3, chunk_size=128):
    load_start = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    set_seed(0)
    ckpt = default_checkpoint('mlm')
    tok = mlm_tokenizer(ckpt)
    reviews = movie_reviews()
    n_reviews = min(n_reviews, len(reviews))
    toks = tokenize_for_mlm(reviews.select(range(n_reviews)), tok)
    batch_py = toks[:]                         # what a default-format Dataset.map(batched=True) hands (the course)
    batch_np = toks.with_format('numpy')[:]    # what chunk_corpus's map hands group_texts (one array per review)
    n_tokens = sum(map(len, batch_py['input_ids']))
    rows = []

    # 1. chunking
    expected = course_group_texts(batch_py, chunk_size)
    for b in (batch_py, batch_np):
        assert {k: v.tolist() for k, v in group_texts(b, chunk_size).items()} == expected, "differs from the course"
    del expected
    t_course = median_time(course_group_texts, lambda: (batch_py, chunk_size), repeats)
    t_ours = median_time(group_texts, lambda: (batch_np, chunk_size), repeats)
    t_ours_py = median_time(group_texts, lambda: (batch_py, chunk_size), repeats)
    rows.append(row(f'group_texts, {n_reviews} reviews ({n_tokens:,} tokens, {len(batch_py)} columns)', t_course, t_ours,
                    100, course_input='Python lists (default format)', ftnb_input='numpy rows (chunk_corpus)'))
    rows.append(row('  ftnb given Python lists instead', t_course, t_ours_py,
                    course_input='Python lists', ftnb_input='Python lists'))
    t_sum = median_time(lambda b: {k: sum(b[k], []) for k in b}, lambda: (batch_py,), repeats)
    t_chain = median_time(lambda b: {k: list(itertools.chain.from_iterable(b[k])) for k in b}, lambda: (batch_py,), repeats)
    rows.append(row('  concatenation step only: sum(lists, []) vs chain', t_sum, t_chain))
    kw = dict(batched=True, batch_size=1000, fn_kwargs=dict(chunk_size=chunk_size), load_from_cache_file=False)
    t_map_course = median_time(lambda: toks.map(course_group_texts, **kw), lambda: (), repeats)
    t_map_ours = median_time(lambda: toks.with_format('numpy').map(group_texts, **kw), lambda: (), repeats)
    rows.append(row('  whole Dataset.map (format, chunk, write Arrow)', t_map_course, t_map_ours,
                    course_input='toks.map(course_group_texts)', ftnb_input="toks.with_format('numpy').map(group_texts)"))

    # 2. whole-word masking
    chunks = toks.with_format('numpy').map(group_texts, **kw).with_format(None)
    # the course's dataset stores None (not -1) as the word id of special tokens
    course_ds = chunks.map(lambda b: {'word_ids': [[None if w < 0 else w for w in r] for r in b['word_ids']]},
                           batched=True, load_from_cache_file=False)
    course_coll, our_coll = make_course_collator(tok, 0.2), whole_word_collator(tok, 0.2)
    ours_ds = mlm_loader(chunks, our_coll).dataset   # what train_mlm's DataLoader fetches from (numpy rows)
    enc = tok(list(reviews.select(range(n_reviews))['text']), return_offsets_mapping=True, return_special_tokens_mask=True)
    off = group_texts({k: enc[k] for k in ('input_ids', 'attention_mask', 'offset_mapping', 'special_tokens_mask')},
                      chunk_size)
    off_chunks = [{k: off[k][i].tolist() for k in ('input_ids', 'attention_mask', 'offset_mapping', 'special_tokens_mask')}
                  for i in range(len(off['input_ids']))]
    lib_coll = DataCollatorForLanguageModeling(tok, whole_word_mask=True, mlm_probability=0.2)
    rng = np.random.default_rng(0)
    for bs, what in ((64, 'training batch'), (1000, 'fixed_eval_masks batch')):
        bs = min(bs, len(chunks))
        idx = sorted(rng.choice(len(chunks), bs, replace=False).tolist())
        # the rows each side's DataLoader yields (fixed_eval_masks / insert_random_mask zip a map batch into rows with
        # the same values and types)
        course_rows, our_rows = course_ds.__getitems__(idx), ours_ds.__getitems__(idx)
        assert isinstance(our_rows[0]['input_ids'], np.ndarray) and isinstance(course_rows[0]['input_ids'], list)
        # the course's collator mutates its input, so every run gets a fresh deep copy (not timed)
        t_course = median_time(course_coll, lambda: (copy.deepcopy(course_rows),), repeats)
        t_ours = median_time(our_coll, lambda: (our_rows,), repeats)
        rows.append(row(f'whole-word collator, {what} ({bs} chunks of {chunk_size})', t_course, t_ours, 20,
                        course_input='Python-list rows', ftnb_input='numpy rows (train_mlm / fixed_eval_masks)'))
        # fetch + collate: what one DataLoader step costs (fresh rows each time, so no copy is needed)
        t_course_f = median_time(lambda: course_coll(course_ds.__getitems__(idx)), lambda: (), repeats)
        t_ours_f = median_time(lambda: our_coll(ours_ds.__getitems__(idx)), lambda: (), repeats)
        rows.append(row('  including the DataLoader fetch (__getitems__)', t_course_f, t_ours_f))
        list_rows = chunks.__getitems__(idx)
        rows.append(row('  ftnb given Python-list rows instead', t_course, median_time(our_coll, lambda: (list_rows,), repeats)))
        t_lib = median_time(lib_coll, lambda: (copy.deepcopy(off_chunks[:bs]),), repeats)
        rows.append(row('  transformers 5 whole_word_mask=True (offsets, list rows)', t_course, t_lib))

    load_end = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    print(f"\nftnb.mlm benchmarks ({ckpt.split('/')[-1] if '/' in ckpt else ckpt}; torch threads "
          f"{torch.get_num_threads()}; median of {repeats}; load average {load_start:.1f} -> {load_end:.1f} "
          f"on {os.cpu_count()} cores)\n")
    print(f"{'benchmark':62s} {'course':>10s} {'ftnb':>10s} {'speedup':>9s} {'target':>7s}")
    for r in rows:
        ok = '' if r['target'] is None else 'ok' if r['speedup'] >= r['target'] else 'MISSED'
        tgt = '' if r['target'] is None else '>=' + str(r['target']) + 'x'
        print(f"{r['name']:62s} {r['course_s']*1e3:8.1f}ms {r['ftnb_s']*1e3:8.2f}ms {r['speedup']:8.1f}x {tgt:>7s} {ok}")
    res = dict(benchmark='mlm', checkpoint=str(ckpt), reviews=n_reviews, tokens=n_tokens, chunk_size=chunk_size,
               repeats=repeats, statistic='median', machine=machine_info(load_average_end=load_end), results=rows)
    write_result('mlm', res)
    return res


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--reviews', type=int, default=1000)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    main(a.reviews, a.repeats)
