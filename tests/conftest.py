"""Shared test set-up.

- Records every test's wall time in tests/artifacts/durations.json (per notebook for test_notebooks.py).
- `precision_env`: the environment for a precision-sensitive test, run twice: with the precision this machine
  picks (`FTNB_PRECISION` as the caller set it, usually unset) and with the one it would *not* pick
  (`FTNB_PRECISION` forced), so the bf16 and the fp32 paths are both exercised on every CPU.
- `run_main`: the `ftnb` command's `main(argv)` in the test's own process (smoke profile, offline), for the many
  cases that need no console script of their own (each one would spend seconds importing)."""
import functools, json, time
from pathlib import Path
import pytest

_times, _t0 = {}, time.time()
OTHER = {'bf16': 'fp32', 'fp32': 'bf16'}

@functools.lru_cache(None)
def picked_precision() -> str:
    "The precision ftnb uses on this machine's CPU when nothing forces one."
    from ftnb.core import pick_precision
    return pick_precision('cpu')

def precision_params():
    "`[(id, env)]`: the picked precision (env unchanged) and the other one (FTNB_PRECISION forced)."
    p = picked_precision()
    return [(f'{p}-picked', {}), (f'{OTHER[p]}-forced', {'FTNB_PRECISION': OTHER[p]})]

def pytest_generate_tests(metafunc):
    if 'precision_env' in metafunc.fixturenames:
        ps = precision_params()
        metafunc.parametrize('precision_env', [env for _, env in ps], ids=[i for i, _ in ps])

def pytest_runtest_logreport(report):
    if report.when == 'call': _times[report.nodeid] = round(report.duration, 1)

def pytest_sessionfinish(session, exitstatus):
    out = Path(__file__).parent/'artifacts'; out.mkdir(exist_ok=True)
    (out/'durations.json').write_text(json.dumps({'seconds': round(time.time() - _t0, 1), 'exitstatus': int(exitstatus),
                                                   'precision': picked_precision(), 'tests': _times}, indent=1))

@pytest.fixture
def run_main(monkeypatch):
    "`run_main(*argv)` -> `(exit code, stdout, stderr)` of `ftnb.cli.main(argv)` run here, smoke profile, offline (`helpers.here`)."
    from helpers import SMOKE, here
    for k, v in SMOKE.items(): monkeypatch.setenv(k, v)  # for the rest of the test too (e.g. a pipeline on its output)
    def run(*argv):
        r = here(*argv)
        return r.returncode, r.stdout, r.stderr
    return run
