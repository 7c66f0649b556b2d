"""Collect the headline numbers of bench/results/*.json into bench/results/summary.json (one row per target);
the README's Benchmarks section displays it."""
import json
from pathlib import Path
R = Path(__file__).resolve().parent/'results'

def load(name):
    "A result file, with the date git last committed it (`_committed`) to date results that record no machine."
    import subprocess
    f = R/f'{name}.json'
    if not f.exists(): return None
    d = json.loads(f.read_text())
    when = subprocess.run(['git', 'log', '-1', '--format=%ad', '--date=short', '--', str(f)], cwd=R, capture_output=True, text=True).stdout.strip()
    return {**d, '_committed': when or 'not yet'} if isinstance(d, dict) else d

rows = []
def mach(d) -> str:
    "The CPU a result was measured on, as recorded in its JSON."
    m = d.get('machine') if isinstance(d.get('machine'), dict) else {}
    if not m.get('cpu_model'): return f"CPU model not recorded (older result, committed {d.get('_committed', 'earlier')})"
    return f"{m['cpu_model']}, native bf16 {'yes' if m.get('native_bf16') else 'no'}, {m.get('date', '')[:10]}"
def row(bench, what, value, target=None, met=None, note='', machine=None):
    rows.append(dict(bench=bench, what=what, value=value, target=target, met=met, note=note, machine=machine))

if (d := load('data')):
    eff = {(p['batch_size'], p['strategy']): p['efficiency'] for p in d['padding']}
    for bs in (8, 32):
        row('data', f'padding efficiency, batch {bs}: pad_to_max / random / length',
            f"{eff[bs,'pad_to_max']:.1%} / {eff[bs,'random']:.1%} / {eff[bs,'length']:.1%}", '>= 95% (length)', eff[bs, 'length'] >= 0.95, machine=mach(d))
    t = d['tokenization']
    row('data', 'tokenize_pairs of the train split, uncached (examples/s)', f"{t['tokenize_pairs_uncached']['examples_per_s']:,.0f}", machine=mach(d))
if (m := load('mlm')):
    for r in m['results']:
        if r.get('target'): row('mlm', r['name'].strip(), f"{r['speedup']:.0f}x", f">= {r['target']}x", r['speedup'] >= r['target'], machine=mach(m))
if (f := load('mfu')):
    goal = {'fp32': 0.7, 'bf16': 0.5}  # each precision against its own matmul peak (#31); the fastest dtype's peak shown too
    for p, r in f['results'].items():
        own = r.get('mfu_vs_own_dtype_peak', r['mfu'])
        row('mfu', f'{p} MFU at batch {f["batch_size"]} ({r["samples_per_s"]:.1f} samples/s) against the {p} matmul peak '
            f'({r["peak_tflops"]:.2f} TFLOPS); against the fastest ({r["best_peak_tflops"]:.2f}): {r["mfu"]:.0%}', f"{own:.0%}",
            f'>= {goal[p]:.0%}' if p in goal else None, own >= goal[p] if p in goal else None, machine=mach(f))
if (pr := load('profile')):
    g = pr['groups']; mm = sum(v['share'] for k, v in g.items() if k.startswith('matmul'))
    row('profile', "share of ftnb's training step in matmuls (torch.profiler, self CPU time)", f"{mm:.0%}",
        note=', '.join(f"{k} {v['share']:.0%}" for k, v in list(g.items())[:6]), machine=mach(pr))
    t = pr['padded_tokens_per_example']
    row('profile', 'padded tokens per training example: course (random, batch 8) / ftnb (grouped, batch 32)',
        ' / '.join(f'{v:.1f}' for v in t.values()), note=f"real tokens per example {pr['real_tokens_per_example']:.1f}", machine=mach(pr))
courses = []  # a course result shared by both files (--reuse-course) is shown once
for name in ('finetune', 'finetune_fp32'):  # the precision picked here, and fp32 forced (what a CPU without native bf16 picks)
    if not (e := load(name)): continue
    s, cpu = e['summary'], mach(e)
    if 'course' in s and s['course'] not in courses:
        courses.append(s['course'])
        c = s['course']
        row(name, f"course recipe ({c['precision']}): wall time, val / test acc (median of seeds)",
            f"{c['seconds']:.0f} s, {c['val_accuracy']:.3f} / {c['test_accuracy']:.3f}",
            machine=mach(e['course_runs_from']) if e.get('course_runs_from') else cpu)  # runs reused from an earlier result
    if 'ftnb' in s:
        f = s['ftnb']; tt = f.get('time_to_target')
        rc = f['recipe']
        row(name, f"ftnb recipe (batch {rc['batch_size']}, lr {rc['lr']:g}, {rc['epochs']} epochs, warm-up {rc.get('warmup', 0):g}, "
            f"{rc.get('pooling', 'auto')} head, {f['precision']}): time to the course's final val acc, wall time, val / test acc",
            f"{'never' if tt is None else f'{tt:.0f} s'}, {f['seconds']:.0f} s, {f['val_accuracy']:.3f} / {f['test_accuracy']:.3f}", machine=cpu)
    if 'course' in s and 'ftnb' in s:
        ratio, ok_acc = s.get('time_ratio'), s['ftnb']['val_accuracy'] >= s['course']['val_accuracy']
        row(name, f"ftnb ({s['ftnb']['precision']})'s time to the course's final accuracy / the course's wall time",
            'never reached' if ratio is None else f'{ratio:.2f}x', '<= 0.33x, final acc not lower',
            ratio is not None and ratio <= 1/3 and ok_acc, machine=cpu)
if (pd_ := load('predict')):
    sp, tg = pd_['speed'], pd_['target']
    for prec in ('fp32', 'bf16'):
        r = sp.get(f'predict_{prec}')
        if r: row('predict', f"predict ({prec}) vs pipeline(batch_size=32), {sp['rows']:,} rows: rows/s, same labels",
                  f"{r['speedup_median']:.1f}x ({r['rows_per_s_best']:.0f} vs {sp['pipeline']['rows_per_s_best']:.0f} rows/s), {r['same_label']:.2%}",
                  f">= {tg['speedup_min']:.0f}x", r['speedup_median'] >= tg['speedup_min'], machine=mach(pd_))
    mem = pd_['memory']
    mib = ' / '.join(f"{v['max_rss_mib']:.0f}" for v in mem['runs'].values())
    row('predict', f'peak RSS of predict, 100,000 rows / 1,000 rows ({mib} MiB)', f"{mem['ratio']:.2f}x", f"<= {tg['rss_ratio_max']}x",
        mem['ratio'] <= tg['rss_ratio_max'], note=mem.get('checkpoint', ''), machine=mach(mem) if 'machine' in mem else mach(pd_))
if (lo := load('lora')):
    for r in lo['summary']:
        row('lora', f"{r['config']} (lr {r['lr']:g}, {lo['train_examples']} pairs, {lo['epochs']} epochs): trainable, samples/s, saved, val acc",
            f"{r['trainable']:,} ({r['trainable_pct']}%), {r['samples_per_s']:.1f}/s, {r['saved_mb']:.2f} MB, {r['val_accuracy']:.3f}", machine=mach(lo))
if (tu := load('tune')):
    for r in tu['comparison']:
        row('tune', f"{r.get('pruner')} pruning, {tu['trials']} trials on {tu['train_examples']} pairs: best val acc, wall time",
            f"{r.get('best_value', float('nan')):.3f}, {r.get('seconds', float('nan')):.0f} s", machine=mach(tu))
if (ld := load('long_docs')):
    runs = [r for r in ld['runs'] if r['method'] != 'tfidf']
    tf = next((r for r in ld['runs'] if r['method'] == 'tfidf'), None)
    acc = lambda m: [r['test']['accuracy'] for r in runs if r['method'] == m]
    stat = lambda xs: f"{sum(xs) / len(xs):.3f} ± {(sum((x - sum(xs) / len(xs)) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else 0:.3f} ({len(xs)} seeds)"
    ms = list(dict.fromkeys(r['method'] for r in runs))
    n = ld['data'].get('train_sample') or ld['data']['splits']['train']
    for m in ms:
        row('long_docs', f"{m}: test acc of 250 reviews ({n} training reviews); train s (load varied)", f"{stat(acc(m))}; "
            f"{sum(r['train_seconds'] for r in runs if r['method'] == m) / len(acc(m)):.0f} s", machine=mach(ld))
    trunc, wins = [m for m in ms if m.startswith('trunc')], [m for m in ms if m.startswith('win')]
    if tf: row('long_docs', 'TF-IDF + logistic regression: test acc', f"{tf['test']['accuracy']:.3f}", machine=mach(ld))
    if trunc and wins and tf:
        bt = max(trunc, key=lambda m: sum(acc(m)) / len(acc(m))); bw = max(wins, key=lambda m: sum(acc(m)) / len(acc(m)))
        seeds = sorted({r['seed'] for r in runs if r['method'] == bw} & {r['seed'] for r in runs if r['method'] == bt})
        a = {(r['method'], r['seed']): r['test']['accuracy'] for r in runs}
        d = [a[bw, s] - a[bt, s] for s in seeds]
        mean = sum(d) / len(d); sd = (sum((x - mean) ** 2 for x in d) / (len(d) - 1)) ** 0.5 if len(d) > 1 else float('inf')
        row('long_docs', f"{bw} - {bt}, test acc paired by seed ({len(d)} seeds)", f"{mean:+.3f} ± {sd:.3f}",
            'windows > best truncation by more than the seed spread', len(d) >= 3 and mean > sd, machine=mach(ld))
        row('long_docs', f"{bw} - TF-IDF, test acc", f"{sum(acc(bw)) / len(acc(bw)) - tf['test']['accuracy']:+.3f}", '> 0',
            sum(acc(bw)) / len(acc(bw)) > tf['test']['accuracy'], machine=mach(ld))
if (sk := load('skewed')) and isinstance(sk.get('summary'), dict):
    sm, rare, n = sk['summary'], sk['task']['rare'], len(sk['seeds'])
    ms = (('accuracy', 'acc'), ('macro_f1', 'macro F1'), ('balanced_accuracy', 'balanced acc'), ('rare_recall', f'{rare} recall'))
    for arm in ('none', 'balanced'):
        row('skewed', f"class weights {arm}, 3-class snippets with {rare} cut to {sk['task']['keep']:.0%} ({n} seeds): "
            + ' / '.join(l for _, l in ms), ' / '.join(f"{sm[arm][m]['mean']:.3f} ± {sm[arm][m]['std']:.3f}" for m, _ in ms), machine=mach(sk))
    d = sm['paired_difference_balanced_minus_none']
    row('skewed', f"balanced - none, paired by seed: macro F1 / {rare} recall", f"{d['macro_f1']['mean']:+.3f} ± {d['macro_f1']['std']:.3f} / "
        f"{d['rare_recall']['mean']:+.3f} ± {d['rare_recall']['std']:.3f}", 'gain > seed spread',
        d['macro_f1']['mean'] > d['macro_f1']['std'] and d['rare_recall']['mean'] > d['rare_recall']['std'], machine=mach(sk))
if (ad := load('adapt')) and isinstance(ad.get('summary'), dict):
    for task, arms in ad['summary'].items():
        o = arms['original']
        row('adapt', f"{task}: original encoder's test acc ({o['n']} seeds); each adapted encoder's gain, paired by seed (points)",
            f"{o['accuracy']['mean']:.3f} ± {o['accuracy']['std']:.3f}; " + ', '.join(
                f"{arm} {100 * a['gain']['mean']:+.1f} ± {100 * a['gain']['std']:.1f}" for arm, a in arms.items() if a.get('gain')),
            machine=mach(ad))
    cost = {arm if arm.startswith('domain') else f"{arm} ({task})": a['adapt_seconds']
            for task, arms in ad['summary'].items() for arm, a in arms.items() if 'adapt_seconds' in a}
    row('adapt', 'adapting cost, one thread (s)', ', '.join(f"{arm} {s:.0f}" for arm, s in cost.items()), machine=mach(ad))
    b = ad['best_gain']
    row('adapt', f"best arm on the worse of the two tasks ({b['arm']}): accuracy points", f"{b['points']:+.2f}",
        '>= +1.0 on both tasks, > seed spread, <= 10 min', b['points'] >= 1.0 and all(
            ad['summary'][t][b['arm']]['gain']['mean'] > ad['summary'][t][b['arm']]['gain']['std']
            and ad['summary'][t][b['arm']]['adapt_seconds'] <= 600 for t in ad['summary']), machine=mach(ad))
if (ox := load('onnx')) and isinstance(ox.get('results'), dict):
    for task, r in ox['results'].items():
        sp, base = r['speed'], r['speed']['torch_fp32']
        x = lambda w: sp[w]['rows_per_s'] / base['rows_per_s']
        pts = lambda w: 100 * (sp[w]['test_accuracy'] - base['test_accuracy'])
        row('onnx', f"{task} ({base['rows']:,} rows, {ox['threads']} thread): rows/s vs ftnb's fp32 torch predict — pipeline / torch "
            f"{ox['picked']} / ONNX fp32 / ONNX int8", ' / '.join(f"{x(w):.2f}x" for w in ('pipeline', 'torch_picked', 'onnx_fp32', 'onnx_int8'))
            + f" ({base['rows_per_s']:.0f} rows/s fp32)", machine=mach(ox))
        row('onnx', f"{task}: ONNX int8 speed-up, test-accuracy change (points), same label as fp32; peak RSS torch fp32 / int8 / int8 without torch",
            f"{x('onnx_int8'):.2f}x, {pts('onnx_int8'):+.2f}, {sp['onnx_int8']['agreement']:.1%}; {r['rss_mib']['torch_fp32']:.0f} / "
            f"{r['rss_mib']['onnx_int8']:.0f} / {r['rss_mib']['onnx_int8_bare']:.0f} MiB", '>= 2x at <= 0.5 points lost',
            x('onnx_int8') >= 2 and pts('onnx_int8') >= -0.5, machine=mach(ox))
if (fl := load('few_labels')):
    for task, sm in fl['summary'].items():
        def gain(n):
            acc = {(r['method'], r['seed']): r['accuracy'] for r in fl['runs'] if r['task'] == task and str(r['n']) == n}
            d = [acc['few_shot', s] - acc['standard', s] for m, s in acc if m == 'few_shot' and ('standard', s) in acc]
            mu = sum(d) / len(d); sd = (sum((x - mu) ** 2 for x in d) / (len(d) - 1)) ** 0.5
            return mu, sd, len(d)
        g = {n: gain(n) for n in ('8', '16')}
        row('few_labels', f"{task}: few-shot − standard recipe, test accuracy at 8 / 16 examples per class (paired by seed)",
            ' / '.join(f"{mu:+.3f} ± {sd:.3f} ({k} seeds)" for mu, sd, k in g.values()), '> seed spread at 8 and 16',
            all(mu > sd for mu, sd, _ in g.values()), machine=mach({'machine': fl['machines'][task]}))
        c = fl['crossings'][task]
        row('few_labels', f"{task}: examples per class at which the standard recipe's mean accuracy reaches few-shot's",
            f"{c['at']} (few-shot ahead at {c['below']})" if c['at'] else f"not reached (few-shot ahead up to {c['below']})", machine=mach({'machine': fl['machines'][task]}))
if (ds := load('distributed')):
    if (p := ds.get('predict')):
        m = p['median_s']; a = list(m)
        row('distributed', f"ftnb predict, {p['rows']} rows, wall s: " + ' / '.join(a), ' / '.join(f"{m[k]:.1f}" for k in a),
            note=f"same labels: {p['same_labels']}, max |prob diff| {p['max_abs_prob_diff']:.0e}", machine=mach(p))
    if (t_ := ds.get('tune')):
        m = t_['median_trials_per_min']; a = list(m)
        row('distributed', f"ftnb tune, trials per minute ({t_['space']}): " + ' / '.join(a), ' / '.join(f"{m[k]:.2f}" for k in a), machine=mach(t_))
if (t := load('tests')):
    runs = {k: v for k, v in t.items() if isinstance(v, dict) and 'seconds' in v} or {'': t}
    worst = max(v['seconds'] for v in runs.values())
    row('tests', 'make test wall time (pytest, install excluded)' + (f" — {' / '.join(runs)}" if '' not in runs else ''),
        ' / '.join(f"{v['seconds']/60:.1f} min" for v in runs.values()), '<= 15 min', worst <= 900, machine=mach(t))

def markdown(rows) -> str:
    "The rows as a Markdown table, then one sentence per target: met or missed."
    esc = lambda x: str(x if x is not None else '').replace('|', '\\|')
    lines = ['| bench | what | value | target | |', '|---|---|---|---|---|']
    lines += [f"| {r['bench']} | {esc(r['what'])} | {esc(r['value'])} | {esc(r['target'])} | "
              f"{'' if r['met'] is None else ('met' if r['met'] else '**missed**')} |" for r in rows]
    tgt = [r for r in rows if r['met'] is not None]
    missed = [r for r in tgt if not r['met']]
    lines += ['', f"{len(tgt) - len(missed)} of {len(tgt)} targets met" + (': missed — ' + '; '.join(
        f"{r['bench']}: {r['what']} is {r['value']} (target {r['target']})" for r in missed) if missed else '.') ]
    by = {}  # machine -> the benches measured on it (a bench whose rows come from two machines is under both)
    for r in rows:
        if r.get('machine'): by.setdefault(r['machine'], []).append(r['bench'])
    if by: lines += ['', 'Measured on: ' + '; '.join(f"{m}: {', '.join(dict.fromkeys(b))}" for m, b in sorted(by.items())) + '.']
    return '\n'.join(lines) + '\n'

(R/'summary.json').write_text(json.dumps(rows, indent=1))
(R/'summary.md').write_text(markdown(rows))
for r in rows: print(f"{r['bench']:9s} {r['what']:70s} {r['value']:>28s}  {r['target'] or '':>22s} {'' if r['met'] is None else ('met' if r['met'] else 'MISSED')}")
