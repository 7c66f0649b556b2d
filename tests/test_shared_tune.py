"""`ftnb tune --storage URL`: several workers share one Optuna study (smoke profile).

SQLite on one machine: two workers share the study and the output folder; one is killed (SIGKILL) inside a trial.
The other (paused meanwhile for longer than the heartbeat's grace period, so that the order of events is certain) finishes the study: no trial runs twice (numbers and parameters distinct, but for the one retry), the
killed worker's trial is marked failed by the heartbeat and its parameters run once more, and `best/` holds the best
trial, saved once. A worker looks for dead workers' trials only when it starts a trial, so the survivor asks for more
trials (7) than the killed one (5): it still has trials to start after the kill even when it ran ahead of the other
(a CI run once had it reach 5 finished trials with its current one, stop, and leave the killed trial running). PostgreSQL: the same two workers against a real server that the test starts (Debian's
`postgresql`, installed by `make postgres`; skipped with the reason where it is missing)."""
import glob, json, os, shutil, signal, subprocess, sys, tempfile, time
from pathlib import Path
import pytest
import optuna

HERE = Path(__file__).parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1'}

def worker(out, url, n, *extra):
    return subprocess.Popen([sys.executable, str(HERE/'tune_worker.py'), str(out), url, str(n), *extra], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def finish(p, timeout=600):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])

def by_worker(study, pid, state):
    return [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get('worker', '').endswith(f':{pid}') and t.state.name == state]

def check_shared(study, out, n):
    "No trial twice, `n` finished, `best/` = the best completed trial, one trials.jsonl row per finished trial."
    done = [t for t in study.trials if t.state.name in ('COMPLETE', 'PRUNED')]
    assert len(done) >= n and not [t for t in study.trials if t.state.name in ('RUNNING', 'WAITING')]
    retried = {t.system_attrs.get('failed_trial') for t in done} - {None}
    fresh = [t for t in done if t.system_attrs.get('failed_trial') is None]
    assert len({json.dumps(t.params, sort_keys=True) for t in fresh}) == len(fresh), 'two workers ran the same parameters'
    best = max((t for t in done if t.state.name == 'COMPLETE'), key=lambda t: t.value)
    assert json.loads((out/'best'/'ftnb_trial.json').read_text()) == {'trial': best.number, 'value': best.value}
    rows = [json.loads(l) for l in (out/'trials.jsonl').read_text().splitlines()]
    assert sorted(r['trial'] for r in rows) == sorted(t.number for t in done)
    return retried

def test_two_workers_one_killed_sqlite(tmp_path):
    out, url = tmp_path/'search', f"sqlite:///{tmp_path/'shared.db'}"
    a, b = worker(out, url, 5, 'slow'), worker(out, url, 7, 'slow')
    st, t0, running = None, time.time(), []
    while time.time() - t0 < 300 and a.poll() is None:  # kill A inside its second trial
        time.sleep(0.2)
        try: st = optuna.load_study(study_name='ftnb-tune', storage=url)
        except Exception: continue  # not created yet
        if not by_worker(st, a.pid, 'COMPLETE'): continue
        os.kill(a.pid, signal.SIGSTOP)  # frozen, A cannot finish the trial we read next
        if running := by_worker(st, a.pid, 'RUNNING'): break
        os.kill(a.pid, signal.SIGCONT)  # between two trials: let it start the next one
    assert running and a.poll() is None, 'worker A finished before it could be killed: ' + a.stderr.read()[-2000:]
    killed = running[0].number
    os.kill(a.pid, signal.SIGKILL); a.wait()
    os.kill(b.pid, signal.SIGSTOP); time.sleep(3.5); os.kill(b.pid, signal.SIGCONT)  # A silent for longer than the grace period
    res = finish(b)
    st = optuna.load_study(study_name='ftnb-tune', storage=url)
    assert st.trials[killed].state.name == 'FAIL'  # the heartbeat found A dead
    assert check_shared(st, out, 5) == {killed}                    # and its parameters ran once more
    retry = [t for t in st.trials if t.system_attrs.get('failed_trial') == killed]
    assert len(retry) == 1 and retry[0].params == st.trials[killed].params
    assert by_worker(st, a.pid, 'COMPLETE') and res['n_complete'] + res['n_pruned'] >= 5

def _pg_bin():
    "The folder of PostgreSQL's server programs (initdb, pg_ctl), or None."
    found = shutil.which('initdb')
    if found: return Path(os.path.realpath(found)).parent
    return next((Path(p) for p in sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True) if Path(p, 'initdb').exists()), None)

def _as_postgres(cmd):
    "`cmd` as the `postgres` user when we are root (the server refuses to run as root)."
    return ['runuser', '-u', 'postgres', '--', *cmd] if os.geteuid() == 0 else cmd

@pytest.fixture
def postgres():
    "A PostgreSQL server on 127.0.0.1, started for the test and stopped after it; yields its URL."
    pytest.importorskip('psycopg', reason="psycopg is not installed: pip install 'ftnb[postgres]'")
    bin_ = _pg_bin()
    if bin_ is None: pytest.skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql, or `make postgres`)")
    if os.geteuid() == 0 and subprocess.run(['id', 'postgres'], capture_output=True).returncode != 0:
        pytest.skip("running as root and there is no `postgres` user to run the server as")
    from ftnb.accel import free_port
    d, port = Path(tempfile.mkdtemp(prefix='ftnb-pg-')), free_port()  # not under pytest's tmp_path: the postgres user must reach it
    if os.geteuid() == 0: shutil.chown(d, 'postgres', 'postgres')
    r = subprocess.run(_as_postgres([str(bin_/'initdb'), '-D', str(d/'data'), '-A', 'trust', '-U', 'ftnb']), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    opts = f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off"
    r = subprocess.run(_as_postgres([str(bin_/'pg_ctl'), '-D', str(d/'data'), '-o', opts, '-l', str(d/'log'), '-w', 'start']),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:] + (d/'log').read_text()[-2000:] if (d/'log').exists() else r.stderr
    try: yield f"postgresql://ftnb@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(bin_/'pg_ctl'), '-D', str(d/'data'), '-m', 'immediate', 'stop']), capture_output=True)
        shutil.rmtree(d, ignore_errors=True)

def test_two_workers_postgresql(tmp_path, postgres):
    out = tmp_path/'search'
    a, b = worker(out, postgres, 4, 'slow'), worker(out, postgres, 4, 'slow')
    finish(a), finish(b)
    st = optuna.load_study(study_name='ftnb-tune', storage=postgres.replace('postgresql://', 'postgresql+psycopg://'))
    assert check_shared(st, out, 4) == set()
    assert by_worker(st, a.pid, 'COMPLETE') and by_worker(st, b.pid, 'COMPLETE'), 'both workers should have run trials'
