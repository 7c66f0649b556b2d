"""One worker of a shared search for tests/test_shared_tune.py: `python tune_worker.py OUT URL N_TRIALS [slow]`.

Heartbeats every second, a worker silent for 2 s counts as dead (the defaults, 10 s and 60 s, would make the test
wait a minute). `slow` adds 0.3 s per optimizer step, so that a test can kill it inside a trial."""
import json, sys, time, optuna
import ftnb.tune as T
optuna.logging.set_verbosity(optuna.logging.WARNING)
T.HEARTBEAT.update(interval=1, grace=2)
out, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if sys.argv[4:] == ['slow']:
    run = T.run_trial
    def slow(*a, **k):
        k['callbacks'] = list(k.get('callbacks', ())) + [lambda s, h: time.sleep(0.3)]
        return run(*a, **k)
    T.run_trial = slow
r = T.tune_run(output_dir=out, storage=url, n_trials=n, pruner='none', space=T.search_space(epochs=(1, 1)), max_train=96, max_eval=32)
print(json.dumps({k: r[k] for k in ('n_complete', 'n_pruned', 'n_failed', 'best_trial', 'best_value')}), flush=True)
