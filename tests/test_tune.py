"""The search (ftnb.tune), smoke profile: pruning decisions on synthetic histories, resume from the study's storage
after a real kill -9, the trial log, the best model, and one-line errors for bad search ranges."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1'}

from ftnb.curves import synthetic_history
from ftnb.tune import prune_reason, search_space, read_trials

def upto(h, epoch): return [r for r in h if r['epoch'] <= epoch + 1e-9]

@pytest.mark.parametrize('kind', ['healthy', 'overfitting'])
def test_good_runs_go_on(kind):
    h = synthetic_history(kind, noise=0.02, seed=1)
    assert prune_reason(h) is None
    assert all(prune_reason(upto(h, e)) is None for e in (0.5, 1, 2))

def test_unstable_is_pruned():
    assert prune_reason(synthetic_history('unstable')).startswith('unstable')

def test_underfitting_is_pruned_only_after_grace():
    h = synthetic_history('underfitting', epochs=3)
    assert prune_reason(upto(h, 1.0), grace=2) is None
    r = prune_reason(upto(h, 2.0), grace=2)
    assert r.startswith('underfitting at epoch 2.00')

def test_chance_level_counts_for_multiclass():
    "A loss that stays at ln 3 underfits a 3-class task; ln 2 would not flag it."
    h = [dict(r) for r in synthetic_history('healthy')]
    for r in h:
        if r.get('loss') is not None: r['loss'] = 1.0986 * (1 + 0.001 * (r['step'] % 3))
    assert prune_reason(h, num_labels=3).startswith('underfitting')

@pytest.mark.parametrize('kw,msg', [(dict(lr=(1e-3, 1e-5)), 'search range for lr is inverted'),
                                    (dict(epochs=()), 'search range for epochs is empty'),
                                    (dict(batch_size=[]), 'search range for batch_size is empty'),
                                    (dict(warmup=(0.1,)), 'must be (low, high)')])
def test_bad_ranges(kw, msg):
    with pytest.raises(ValueError) as e: search_space(**kw)
    assert msg in str(e.value) and '\n' not in str(e.value)

CHILD = r'''
import sys, time, optuna, ftnb.tune as T
optuna.logging.set_verbosity(optuna.logging.WARNING)
run = T.run_trial
def slow(*a, **k):
    k['callbacks'] = list(k.get('callbacks', ())) + [lambda s, h: time.sleep(0.2)]
    return run(*a, **k)
if sys.argv[2] == 'slow': T.run_trial = slow
print(T.tune_run(output_dir=sys.argv[1], n_trials=3, pruner='none', space=T.search_space(epochs=(1, 1)), max_train=96, max_eval=32))
'''

def test_search_resumes_after_kill(tmp_path):
    out = tmp_path/'search'
    p = subprocess.Popen([sys.executable, '-c', CHILD, str(out), 'slow'], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while len(read_trials(out)) < 1 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    time.sleep(0.5)  # inside the next trial
    assert p.poll() is None, 'the search finished before it could be killed: ' + p.stderr.read()[-2000:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    before = read_trials(out)
    assert 1 <= len(before) < 3
    r = subprocess.run([sys.executable, '-c', CHILD, str(out), 'fast'], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    import optuna
    st = optuna.load_study(study_name='ftnb-tune', storage=f"sqlite:///{out/'study.db'}")
    states = [t.state.name for t in st.trials]
    assert states.count('COMPLETE') == 3 and states.count('RUNNING') == 0 and states.count('FAIL') <= 1
    if 'FAIL' in states:  # the killed trial's parameters ran again
        failed = st.trials[states.index('FAIL')]
        assert any(t.params == failed.params and t.state.name == 'COMPLETE' for t in st.trials[failed.number + 1:])
    rows = read_trials(out)
    assert rows[:len(before)] == before and len(rows) == 3 and len({r['trial'] for r in rows}) == 3
    assert all(set(r) >= {'params', 'verdict', 'value', 'seconds', 'pruned_at', 'state'} for r in rows)
    assert (out/'best'/'config.json').is_file() and (out/'best'/'history.json').is_file() and (out/'search.png').is_file()
    best = max(rows, key=lambda r: r['value'])
    assert json.loads((out/'best'/'history.json').read_text())[-1]['accuracy'] == best['value']

def test_sigterm_stops_search_and_it_resumes(tmp_path):
    "SIGTERM inside a trial: exit 75 and the resume line; the trial is failed and queued; the same command finishes it."
    import optuna
    out = tmp_path/'search'
    cmd = [str(Path(sys.executable).parent/'ftnb'), 'tune', '--smoke', '--trials', '4', '--pruner', 'none', '--max-train', '96',
           '--max-eval', '32', '--output-dir', str(out)]
    p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while len(read_trials(out)) < 1 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    time.sleep(0.3)  # inside the next trial
    assert p.poll() is None, 'the search finished before the signal: ' + p.stderr.read()[-2000:]
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 75, err[-3000:]
    assert f"ftnb tune: stopped by SIGTERM; resume with: ftnb tune --smoke --trials 4" in err, err[-2000:]
    st = optuna.load_study(study_name='ftnb-tune', storage=f"sqlite:///{out/'study.db'}")
    failed = [t for t in st.trials if t.state.name == 'FAIL']
    assert len(failed) == 1 and failed[0].user_attrs['verdict'] == 'preempted', [(t.state.name, t.user_attrs) for t in st.trials]
    queued = [t for t in st.trials if t.state.name == 'WAITING']
    assert len(queued) == 1 and queued[0].system_attrs['fixed_params'] == failed[0].params  # queued: its parameters fixed
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    st = optuna.load_study(study_name='ftnb-tune', storage=f"sqlite:///{out/'study.db'}")
    again = st.trials[queued[0].number]
    assert again.state.name == 'COMPLETE' and again.params == failed[0].params  # the interrupted parameters ran again, first
    assert sum(t.state.name in ('COMPLETE', 'PRUNED') for t in st.trials) == 4
