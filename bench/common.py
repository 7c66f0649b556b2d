"""What every bench script shares: the full-profile, offline, quiet set-up; the machine facts each result records;
timing; and writing results. Import it before ftnb: `from common import *` (bench/ is the script's folder)."""
import os, json, time, platform, statistics
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT/'results'

def full_profile(tokenizers_parallelism:str='false'):
    "Benchmarks always run the full profile on the embedded (offline) defaults, with library chatter off."
    os.environ.pop('FTNB_SMOKE', None)
    os.environ['HF_HUB_OFFLINE'] = '1'
    os.environ.setdefault('TOKENIZERS_PARALLELISM', tokenizers_parallelism)
    from ftnb.core import quiet_libraries; quiet_libraries()

def cpu_model() -> str:
    "The CPU's model name (from /proc/cpuinfo; `platform.processor()` elsewhere)."
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def native_bf16() -> bool:
    "Does the CPU have native bf16 instructions (AVX512-BF16 or AMX-BF16)?"
    try: flags = Path('/proc/cpuinfo').read_text().split()
    except OSError: return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags

def machine_info(**extra) -> dict:
    "The facts a benchmark result needs to be read: CPU model, native bf16, cores, load, versions, the picked precision."
    import torch
    from ftnb.core import pick_precision
    return dict(platform=platform.platform(), cpu_model=cpu_model(), native_bf16=native_bf16(), cpus=os.cpu_count(),
                load_average_1min=os.getloadavg()[0], python=platform.python_version(), torch=torch.__version__,
                threads=torch.get_num_threads(), precision_picked=pick_precision('cpu'),
                date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), **extra)

def median_time(f, n:int=3) -> tuple:
    "`(median seconds, all seconds)` of `n` calls of `f()`."
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts

def write_result(name:str, result:dict) -> Path:
    "Write `result` (with `machine_info()` added unless present) to bench/results/NAME.json, atomically."
    from ftnb.core import atomic_file
    result = {'machine': machine_info(), **result} if 'machine' not in result else result
    path = RESULTS/f'{name}.json'
    with atomic_file(path) as f: json.dump(result, f, indent=1)
    print(f'wrote {path.relative_to(ROOT.parent)}')
    return path

def embedded_task():
    "`(checkpoint, tokenizer, raw pairs)` of the embedded default task."
    from transformers import AutoTokenizer
    from ftnb.core import embedded_checkpoint
    from ftnb.data import load_pairs
    ck = embedded_checkpoint()
    return ck, AutoTokenizer.from_pretrained(ck), load_pairs()

def model_dir(tmp:Path, smoke:bool=False) -> Path:
    "A saved 3-class classifier folder (embedded MiniLM, or the smoke checkpoint; a fresh, seeded head), as `ftnb train` writes one."
    from transformers import AutoTokenizer
    from ftnb.core import default_checkpoint, set_seed, temp_env
    from ftnb.models import load_classifier
    with temp_env(FTNB_SMOKE='1') if smoke else nullcontext():
        ck = default_checkpoint('cls')
        set_seed(0)
        m = load_classifier(ck, ['negative', 'neutral', 'positive'])
    m.config.ftnb_text_columns = ['text', None]
    d = tmp/('smoke-model' if smoke else 'model')
    m.save_pretrained(d); AutoTokenizer.from_pretrained(ck).save_pretrained(d)
    return d
