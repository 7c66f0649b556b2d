"""The README is generated from nbs/index.ipynb: its example must run as shown in a fresh Python (smoke profile),
and its benchmark section must be the current bench/results/summary.md (generated from the JSON results)."""
import json, os, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def section(md, title):
    "The text of the `## title` section of `md`."
    m = re.search(rf'^## {re.escape(title)}\n(.*?)(?=^## |\Z)', md, re.S | re.M)
    assert m, f'README has no section {title!r}'
    return m.group(1)

def test_example_runs_standalone(tmp_path):
    code = '\n'.join(re.findall(r'```python\n(.*?)```', section((ROOT/'README.md').read_text(), 'Fine-tune in ten lines'), re.S))
    assert 'from ftnb' in code and 'train(' in code
    env = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    r = subprocess.run([sys.executable, '-c', code + '\nprint(evaluate(model, eval_dl)["accuracy"])'], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 0 <= float(r.stdout.strip().splitlines()[-1]) <= 1

def test_benchmarks_are_current():
    summary = (ROOT/'bench'/'results'/'summary.md').read_text().strip()
    assert summary in (ROOT/'README.md').read_text(), 'README benchmarks are stale: run bench/summary.py, re-run nbs/index.ipynb, make export'
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    shown = [''.join(o['data']['text/markdown']).strip() for c in nb['cells'] for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    assert summary in shown, 'the docs home shows stale benchmarks: re-run nbs/index.ipynb'
