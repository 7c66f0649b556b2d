"""Model-FLOPs utilisation of ftnb's training step (MiniLM, real length-grouped batches of the embedded pair task).

MFU = 6 * N * tokens / step time / peak, with N the non-embedding parameters (embedding lookups are not matmuls;
attention score FLOPs are left out, as in the usual 6N rule), tokens the padded tokens of the batch, and the peak
the best matmul FLOP/s measured in this same run (square matmuls up to 2048, in fp32 and in bf16: the machine's
best of the two is the peak, so a CPU without native bf16 cannot score > 100% in bf16). Measured for fp32 and
bf16 (autocast) at batch 32.
Writes bench/results/mfu.json.  Usage: python bench/mfu.py [--steps 20]"""
import time, argparse, statistics
from common import *
full_profile()
import torch
from torch.optim import AdamW
from ftnb.core import set_seed
from ftnb.data import tokenize_pairs, make_loaders
from ftnb.models import load_classifier
from ftnb.loop import Runtime, param_groups


def peak(dtype, sizes=(512, 1024, 2048), reps=5, budget=2.0):
    "Best matmul FLOP/s in `dtype` over square sizes; stops early where one matmul takes > `budget` s (no native kernel)."
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        t0 = time.perf_counter(); a @ b; first = time.perf_counter() - t0
        ts = [first]
        if first < budget:
            for _ in range(reps):
                t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
        best = max(best, 2 * n**3 / statistics.median(ts))
        if first >= budget: break
    return best

def step_times(model, batches, precision, steps):
    rt = Runtime('cpu', precision)
    opt = AdamW(param_groups(model), lr=1e-5)
    model.train()
    out = []
    for i, b in enumerate(batches[:steps + 2]):
        t0 = time.perf_counter()
        with rt.autocast(): loss = model(**b).loss
        rt.backward(loss); rt.step(opt); opt.zero_grad()
        if i >= 2: out.append((time.perf_counter() - t0, b['input_ids'].numel(), int(b['attention_mask'].sum())))
    return out

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--steps', type=int, default=20); ap.add_argument('--batch-size', type=int, default=32)
    a = ap.parse_args()
    ck, tok, raw = embedded_task()
    ds = tokenize_pairs(raw, tok, remove_text=True, rename_label=True)
    dl, _ = make_loaders(ds, tok, batch_size=a.batch_size, group_by_length=True)
    batches = [b for _, b in zip(range(a.steps + 2), dl)]
    set_seed(0)
    model = load_classifier(ck, raw['train'].features['label'].names, pooling='mean')
    n_all = sum(p.numel() for p in model.parameters())
    n_emb = sum(p.numel() for n, p in model.named_parameters() if 'embeddings' in n)
    N = n_all - n_emb
    res, peaks = {}, {}
    for prec, dt in [('fp32', torch.float32), ('bf16', torch.bfloat16)]:
        peaks[prec] = peak(dt)
        print(f"{prec} matmul peak {peaks[prec]/1e9:7.1f} GFLOP/s", flush=True)
    best = max(peaks.values())          # MFU is against the machine's best matmul rate, whatever its dtype
    for prec in ('fp32', 'bf16'):
        ts = step_times(model, batches, prec, a.steps if peaks[prec] >= 0.5 * best else max(3, a.steps // 4))
        secs, toks, real = sum(t for t, _, _ in ts), sum(k for _, k, _ in ts), sum(r for _, _, r in ts)
        achieved = 6 * N * toks / secs
        res[prec] = dict(peak_tflops=peaks[prec] / 1e12, best_peak_tflops=best / 1e12, achieved_tflops=achieved / 1e12,
                         mfu=achieved / best, mfu_real_tokens=6 * N * real / secs / best, mfu_vs_own_dtype_peak=achieved / peaks[prec],
                         samples_per_s=len(ts) * a.batch_size / secs, mean_tokens_per_sample=toks / len(ts) / a.batch_size, steps=len(ts))
        print(f"{prec}: achieved {achieved/1e9:7.1f} GFLOP/s  MFU {achieved/best:6.1%} of the best peak {best/1e9:.1f} GFLOP/s  "
              f"{res[prec]['samples_per_s']:6.1f} samples/s  ({res[prec]['mean_tokens_per_sample']:.0f} tokens/sample)", flush=True)
    print(f"target: fp32 MFU >= 70% -> {'met' if res['fp32']['mfu'] >= 0.7 else 'missed'}")
    write_result('mfu', dict(params=dict(total=n_all, embedding=n_emb, non_embedding=N), batch_size=a.batch_size, results=res))

if __name__ == '__main__': main()
