"What the process-level resume tests share: a child's last checkpoint step, a SIGKILL at a given step, exact comparisons."
import json, os, signal, time
from pathlib import Path
from safetensors.torch import load_file
from ftnb import core

def ckpt_step(state_json) -> int:
    "The optimizer step saved in a checkpoint's `state.json` (0 while there is none, or while it is being replaced)."
    try: return json.loads(Path(state_json).read_text())['step']
    except (OSError, ValueError, KeyError): return 0

def kill_at(p, state_json, step:int, timeout:float=300) -> int:
    "SIGKILL the child `p` once its checkpoint reaches `step`; return the step the checkpoint then holds."
    t0 = time.time()
    while ckpt_step(state_json) < step and p.poll() is None and time.time() - t0 < timeout: time.sleep(0.05)
    assert p.poll() is None, 'the run finished before it could be killed: ' + p.stderr.read()[-2000:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    return ckpt_step(state_json)

def same_weights(a, b) -> bool:
    "Two safetensors files hold bit-identical tensors under the same names (`ftnb.core.same_weights` of their contents)."
    return core.same_weights(load_file(a), load_file(b))

def without_seconds(records) -> list:
    "History records without their wall times (the one field a resumed run cannot reproduce)."
    return [{k: v for k, v in r.items() if k != 'seconds'} for r in records]
