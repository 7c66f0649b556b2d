"""`ftnb train` on 2 CPU processes the Accelerate way (`accelerate launch` + mpirun), smoke profile.

Checks that both ranks ran in the precision ftnb's order gives (run twice: the precision this machine picks and,
forced with `FTNB_PRECISION`, the other one), that a rank asked for another precision mid-launch refuses in one
line, that evaluation metrics were gathered over the whole validation set exactly once although the set does not
split evenly over 2 processes x batch 8, and that only rank 0 wrote files."""
import json, os, shutil, stat, subprocess, sys, textwrap
from pathlib import Path
import pytest
from conftest import picked_precision
from ftnb.accel import free_port

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'FTNB_SMOKE': '1', 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false',
       'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1', 'OMPI_MCA_rmaps_base_oversubscribe': '1'}
N_EVAL = 60  # 3 rounds of 2 processes x 8, plus 12: the last round is padded to 16

CHILD = textwrap.dedent('''
    import os, sys
    from accelerate import PartialState
    st = PartialState(cpu=True)
    if st.process_index == 1:  # mark what rank 1 creates: group 4242 (as root), else private file modes
        try: os.setegid(4242)
        except (PermissionError, OSError): os.umask(0o077)
    from ftnb.cli import main
    from ftnb.accel import _launched_run
    out, report, n_eval = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rc = main(['train', '--smoke', '--cpu', '--epochs', '1', '--max-train', '48', '--output-dir', out])
    from accelerate.state import AcceleratorState
    from ftnb.accel import AccelerateRuntime
    used = {'no': 'fp32'}.get(AcceleratorState().mixed_precision, AcceleratorState().mixed_precision)
    try: AccelerateRuntime({'fp32': 'bf16', 'bf16': 'fp32'}[used], cpu=True)  # the launch has one precision
    except ValueError as e: print(f"rank {st.process_index} refused: {e}", flush=True)
    _launched_run(48, n_eval, report)
    print(f"rank {st.process_index} of {st.num_processes} finished rc={rc} in {used}", flush=True)
    sys.exit(rc)
''')

def launch(tmp_path, env, n=2):
    (tmp_path/'hostfile').write_text(f'localhost slots={n}\n')
    (tmp_path/'child.py').write_text(CHILD)
    cmd = [str(BIN/'accelerate'), 'launch', '--cpu', '--num_processes', str(n), '--num_machines', '1',
           '--main_process_port', free_port(),  # not the default 29500: another launch may be running on this machine
           '--mpirun_hostfile', str(tmp_path/'hostfile'), str(tmp_path/'child.py'),
           str(tmp_path/'out'), str(tmp_path/'report.json'), str(N_EVAL)]
    return subprocess.run(cmd, env={**ENV, **env}, capture_output=True, text=True, timeout=900, cwd=tmp_path)

@pytest.mark.skipif(shutil.which('mpirun') is None, reason="mpirun not found: Accelerate's multi-CPU launch needs "
                    "OpenMPI (`apt-get install openmpi-bin`, or `make mpi`)")
def test_two_cpu_processes(tmp_path, precision_env):
    r = launch(tmp_path, precision_env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # both ranks ran to the end, in the precision forced by FTNB_PRECISION (or else the one this machine picks)
    want = precision_env.get('FTNB_PRECISION') or picked_precision()
    assert f'rank 0 of 2 finished rc=0 in {want}' in r.stdout and f'rank 1 of 2 finished rc=0 in {want}' in r.stdout, r.stdout[-2000:]
    assert f'process(es) on cpu, {want}' in r.stdout  # the CLI's start line
    # a runtime in another precision is refused on both ranks, in one line that names the fix
    # (counted in the whole output: the two ranks print at once, and their lines can interleave)
    assert r.stdout.count(' refused: ') == 2 and r.stdout.count('start the launch with FTNB_PRECISION=') == 2, r.stdout[-2000:]
    assert 'rank 0 refused: ' in r.stdout and 'rank 1 refused: ' in r.stdout
    # metrics over the whole validation set, exactly once, although each process evaluated padding
    rep = json.loads((tmp_path/'report.json').read_text())
    assert rep['world_size'] == 2
    assert rep['n_eval'] == N_EVAL and rep['gathered_n'] == N_EVAL
    assert rep['per_process_eval'] == [32, 32]  # 4 batches each, the last padded: 64 evaluated, 60 counted
    assert rep['final']['accuracy'] == pytest.approx(rep['eval']['accuracy'])
    # the CLI ran on both ranks but printed its summary once, and only rank 0 wrote files
    assert r.stdout.count('ftnb train:') == 1 and r.stdout.count('validation loss') == 1, r.stdout[-2000:]
    out = tmp_path/'out'
    names = {p.name for p in out.iterdir()}
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'history.json', 'curves.png'} <= names
    assert not any(n.endswith(('.tmp', '.old')) or n == 'checkpoints' for n in names), names
    for p in [out, *out.rglob('*'), tmp_path/'report.json']:
        if os.geteuid() == 0: assert p.stat().st_gid != 4242, f'{p} was written by rank 1'
        elif p.is_file() and p.suffix != '.safetensors':  # safetensors writes 0600 files itself
            assert stat.S_IMODE(p.stat().st_mode) & 0o044, f'{p} was written by rank 1'
    h = json.loads((out/'history.json').read_text())
    assert [r['split'] for r in h].count('eval') == 1
