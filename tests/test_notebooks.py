"Every notebook runs top to bottom as a test (nbdev_test), one pytest case per notebook, in the smoke profile."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))

@pytest.mark.parametrize('nb', NBS)
def test_notebook(nb):
    env = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    nbdev_test = Path(sys.executable).parent/'nbdev_test'
    r = subprocess.run([str(nbdev_test), '--path', f'nbs/{nb}', '--do_print'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f'{nb} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}'
