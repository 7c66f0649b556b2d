"""Execute notebooks in place, saving their outputs: `python docs/run_nb.py nbs/02_trainer.ipynb [...]`.

Run without FTNB_SMOKE to refresh the full-profile outputs that the docs show (minutes per chapter on a
CPU); the saved outputs are then cleaned of volatile metadata by `nbdev_clean`. A progress bar (tqdm) redraws its
line with carriage returns; only each line's final state is saved, which is what a reader of the page needs. Figures are
re-encoded with a 64-colour palette (`shrink_pngs`): line plots look the same at a third of the size.
`python docs/run_nb.py --shrink-only nbs/X.ipynb` does only that, to saved outputs."""
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

def shrink_pngs(nb, colors:int=64) -> int:
    "Re-encode every PNG output with an adaptive palette of `colors` (plots have few colours: same look, ~3x smaller); bytes saved."
    import base64, io
    from PIL import Image
    saved = 0
    for c in nb.cells:
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if 'image/png' not in d: continue
            raw = base64.b64decode(d['image/png'])
            out = io.BytesIO()
            Image.open(io.BytesIO(raw)).convert('RGB').quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(out, format='PNG', optimize=True)
            if len(out.getvalue()) < len(raw): d['image/png'] = base64.b64encode(out.getvalue()).decode(); saved += len(raw) - len(out.getvalue())
    return saved

def run(path):
    path = Path(path).resolve()
    nb = read_nb(path)
    os.chdir(path.parent)
    t0 = time.perf_counter()
    sh = CaptureShell(path=path.parent, mpl_format='png')
    sh.run_all(nb, exc_stop=True)
    keep_final_frames(nb); shrink_pngs(nb)
    write_nb(nb, path)
    print(f'{path.name}: {time.perf_counter()-t0:.0f}s ({"smoke" if os.environ.get("FTNB_SMOKE") else "full"} profile)')

if __name__ == '__main__':
    cwd, args = os.getcwd(), sys.argv[1:]
    if args[:1] == ['--shrink-only']:  # re-encode the saved figures of notebooks without running them
        for p in args[1:]:
            nb = read_nb(p); n = shrink_pngs(nb); write_nb(nb, p); print(f'{p}: {n / 1024:.0f} KB smaller')
    else:
        for p in args:
            os.chdir(cwd); run(p)
