"""Saved outputs are for a reader: no machine paths, ANSI codes, library load reports or progress-bar frames, and
no single output over 20 KB, in any notebook or the README."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOISE = {'a machine path': re.compile(r'/work/|/root/|/home/\w|/tmp/|site-packages'), 'an ANSI code': re.compile(r'\x1b\['),
         'a library load report or bar': re.compile(r'LOAD REPORT|Loading weights|Writing model shards'),
         'progress-bar frames': re.compile(r'\r(?!\n)')}

def outputs(path):
    "`(cell index, text)` of every saved output of a notebook."
    for i, c in enumerate(json.loads(path.read_text())['cells']):
        for o in c.get('outputs', []):
            yield i, ''.join(o.get('text', '')) + ''.join(''.join(v) if isinstance(v, list) else str(v)
                                                           for k, v in o.get('data', {}).items() if k.startswith('text'))

@pytest.mark.parametrize('nb', sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb')))
def test_saved_outputs_are_clean(nb):
    for i, t in outputs(ROOT/'nbs'/nb):
        for what, rx in NOISE.items(): assert not rx.search(t), f'{nb} cell {i}: {what}: {rx.search(t).group(0)!r}'
        assert len(t) <= 20_000, f'{nb} cell {i}: an output of {len(t):,} characters (limit 20,000)'

def test_readme_is_clean():
    text = re.sub(r'```python\n.*?```', '', (ROOT/'README.md').read_text(), flags=re.S)   # outputs and prose, not code
    for what, rx in NOISE.items(): assert not rx.search(text), f'README.md: {what}'
