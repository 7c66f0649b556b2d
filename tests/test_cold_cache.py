"""A new user's first run: several processes of one torch.distributed group start together on an empty cache
(what the ranks of `accelerate launch` do). Each cache entry must be built once, be complete, and be the same folder for every process; no
temporary folder may be left behind. (Regression: rank 1 once renamed a half-built smoke model into place.)"""
import json, os, shutil, subprocess, sys, textwrap
from pathlib import Path

CHILD = textwrap.dedent('''
    import json, sys, time
    import torch.distributed as dist
    rank, world, pg = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dist.init_process_group('gloo', init_method=f'file://{pg}', rank=rank, world_size=world)  # as under accelerate launch
    from ftnb.core import smoke_checkpoint, fetch_asset
    if rank == 0: time.sleep(3)   # the main rank arrives last: another rank builds the entries
    from ftnb.data import load_pairs
    from transformers import AutoModelForSequenceClassification
    ck = smoke_checkpoint()
    AutoModelForSequenceClassification.from_pretrained(ck, num_labels=2)   # loads: the entry is complete
    raw = load_pairs()
    print(json.dumps({'ck': ck, 'train': len(raw['train']), 'asset': str(fetch_asset('vader'))}))
    dist.destroy_process_group()
''')

def test_concurrent_first_use(tmp_path):
    cache = tmp_path/'cache'
    warm = Path(os.environ.get('FTNB_CACHE') or Path.home()/'.cache'/'ftnb')/'assets'
    if warm.is_dir(): shutil.copytree(warm, cache/'assets')   # the download itself is tested by chapter 00
    env = {**os.environ, 'FTNB_CACHE': str(cache), 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1',
           'TOKENIZERS_PARALLELISM': 'false', 'TRANSFORMERS_VERBOSITY': 'error'}
    n = 3
    procs = [subprocess.Popen([sys.executable, '-c', CHILD, str(r), str(n), str(tmp_path/'pg')], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(n)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs): assert p.returncode == 0, err[-3000:]
    got = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert all(g == got[0] for g in got), got
    names = {p.name for p in Path(got[0]['ck']).iterdir()}
    assert {'config.json', 'model.safetensors', 'tokenizer_config.json'} <= names, names
    left = [str(p) for p in cache.rglob('*') if p.name.endswith(('.tmp', '.old'))]
    assert not left, f'temporary files left behind: {left}'
