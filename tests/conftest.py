"Records every test's wall time in tests/artifacts/durations.json (per notebook for test_notebooks.py)."
import json, time
from pathlib import Path

_times, _t0 = {}, time.time()

def pytest_runtest_logreport(report):
    if report.when == 'call': _times[report.nodeid] = round(report.duration, 1)

def pytest_sessionfinish(session, exitstatus):
    out = Path(__file__).parent/'artifacts'; out.mkdir(exist_ok=True)
    (out/'durations.json').write_text(json.dumps({'seconds': round(time.time() - _t0, 1), 'exitstatus': int(exitstatus),
                                                   'tests': _times}, indent=1))
