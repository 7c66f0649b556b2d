"""Execute notebooks in place, saving their outputs: `python docs/run_nb.py nbs/02_trainer.ipynb [...]`.

Run without FTNB_SMOKE to refresh the full-profile outputs that the docs show (minutes per chapter on a
CPU); the saved outputs are then cleaned of volatile metadata by `nbdev_clean`. A progress bar (tqdm) redraws its
line with carriage returns; only each line's final state is saved, which is what a reader of the page needs."""
import os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def final_frames(text:str) -> str:
    "Each line of a stream as it looked last: the frames a progress bar drew with carriage returns are dropped."
    return '\n'.join(l.rstrip('\r').split('\r')[-1] for l in text.split('\n'))

def keep_final_frames(nb):
    "Apply `final_frames` to every stream output of `nb` (in place)."
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': o['text'] = final_frames(''.join(o['text']))

def run(path):
    path = Path(path).resolve()
    nb = read_nb(path)
    os.chdir(path.parent)
    t0 = time.perf_counter()
    sh = CaptureShell(path=path.parent, mpl_format='png')
    sh.run_all(nb, exc_stop=True)
    keep_final_frames(nb)
    write_nb(nb, path)
    print(f'{path.name}: {time.perf_counter()-t0:.0f}s ({"smoke" if os.environ.get("FTNB_SMOKE") else "full"} profile)')

if __name__ == '__main__':
    cwd = os.getcwd()
    for p in sys.argv[1:]:
        os.chdir(cwd); run(p)
