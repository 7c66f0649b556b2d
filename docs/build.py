"""Build the docs site from the notebooks: `python docs/build.py` (what `make docs` runs).

nbdev renders its sites with Quarto, which cannot be installed here, so this script does the two halves
itself, offline:

1. Every `nbs/*.ipynb` goes through nbdev's own notebook processors (`nbdev.processors`, run by
   `NBProcessor`): frontmatter from the `# title` / `> description` cell, a `show_doc` after each
   exported definition, hidden/exported cells and `#|` directives removed, ANSI codes stripped, tqdm bars
   shown in their last state (what Jupyter does with their `\\r` rewrites). Only the
   Quarto-specific steps are left out (fenced divs, `#| output: asis`, code folding). Each `show_doc` is
   rendered by nbdev's `BasicMarkdownRenderer` on the *installed* `ftnb` module (an import, not a notebook
   run) and becomes a markdown cell. An API reference page (`api.md`) collects every public function and
   class of `ftnb`. The result goes to `_proc/`.
2. `mkdocs build` (mkdocs-material + mkdocs-jupyter, `mkdocs.yml`) turns `_proc/` into the site in `_docs/`.

No notebook is executed: the pages show the outputs saved in the notebooks, which are the full-profile
outputs (refresh them with `docs/run_nb.py`, see CONTRIBUTING.md). A saved error output fails the build.
"""
from __future__ import annotations
import argparse, importlib, inspect, logging, re, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from execnb.nbio import read_nb, write_nb, mk_cell
from nbdev.config import get_config
from nbdev.process import NBProcessor, Processor
from nbdev.frontmatter import FrontmatterProc
from nbdev.processors import (populate_language, add_show_docs, mv_exports, strip_ansi, hide_line,
                              rm_header_dash, rm_export, clean_magics, hide_, strip_hidden_metadata)
from nbdev.showdoc import BasicMarkdownRenderer
import fastcore.docments
from unittest.mock import patch

CFG = get_config(path=ROOT)
GIT_URL, BRANCH = CFG.git_url.rstrip('/'), CFG.get('branch', 'main')
LIB = CFG.lib_name

def blob_url(path: str) -> str:
    "GitHub url of a file of the repository (`path` relative to its root)."
    return f'{GIT_URL}/blob/{BRANCH}/{path}'

# ---------------------------------------------------------------------------------------------- show_doc
def _src_link(obj) -> str | None:
    "`source` link to the definition of `obj` on GitHub, with its line (nbdev 2.4.14 writes `#LNone`)."
    try:
        f = inspect.unwrap(getattr(obj, 'fget', None) or obj)
        path = Path(inspect.getsourcefile(f)).resolve().relative_to(ROOT)
        line = inspect.getsourcelines(f)[1]
    except (TypeError, OSError, ValueError): return None
    return f'{blob_url(path.as_posix())}#L{line}'

def doc_md(obj, name: str | None = None, level: int = 3) -> str:
    "Markdown for `obj` as nbdev's `show_doc` renders it (signature with docments, docstring), plus a source link."
    try: r = BasicMarkdownRenderer(obj, name=name, title_level=level)
    except NameError as e:  # a string annotation its module cannot resolve: show it as written
        print(f'warning: {getattr(obj, "__module__", "?")}.{name or obj.__name__}: annotation not resolvable ({e}); '
              'import that name at module level so show_doc can evaluate it', file=sys.stderr)
        with patch.object(fastcore.docments, 'signature', lambda s, eval_str=False: inspect.signature(s)):
            r = BasicMarkdownRenderer(obj, name=name, title_level=level)
    body = super(BasicMarkdownRenderer, r)._repr_markdown_()  # the part without nbdev's Quarto-only link syntax
    link = _src_link(obj)
    a = f'<a class="ftnb-source" href="{link}" target="_blank" rel="noopener">source</a>\n\n' if link else ''
    return f'---\n\n{a}{"#" * level} {r.nm}\n\n{body}\n'

def _show_doc(sym, renderer=None, name: str | None = None, title_level: int = 3) -> str:
    "Stand-in for `nbdev.showdoc.show_doc` when a notebook's `show_doc(...)` cells are rendered."
    return doc_md(sym, name=name, level=title_level)

_re_show_doc = re.compile(r'^\s*show_doc\(.*\)\s*;?\s*$')

class render_show_docs(Processor):
    "Turn `show_doc(...)` code cells (written or added by `add_show_docs`) into markdown cells of their docs."
    def __init__(self, nb, ns): super().__init__(nb); self.ns = ns
    def cell(self, cell):
        if cell.cell_type != 'code' or not cell.source: return
        lines = [l for l in cell.source.splitlines() if l.strip()]
        if not lines or not all(_re_show_doc.match(l) for l in lines): return
        try: md = '\n'.join(eval(l.strip().rstrip(';'), self.ns) for l in lines)
        except Exception as e:
            raise RuntimeError(f'{self.nb.path_}: cannot render `{cell.source.strip()}` from the installed {LIB} '
                               f'({type(e).__name__}: {e}). Run `make export` so that {LIB}/ matches the notebooks.') from e
        cell.cell_type, cell.source = 'markdown', md
        for k in ('outputs', 'execution_count'): cell.pop(k, None)

def quarto_options(cell):
    "Apply the Quarto cell options nbdev leaves to Quarto: `include: false`, `echo: false`, `output: false`."
    d = getattr(cell, 'directives_', None) or {}
    val = lambda k: str((d.get(k) or [''])[0]).lower()
    if val('include:') == 'false': del cell['source']; return
    if cell.cell_type != 'code': return
    if val('output:') == 'false': cell['outputs'] = []
    if val('echo:') == 'false' or (not cell.source.strip() and cell.get('outputs')):
        cell.metadata.setdefault('tags', []).append('remove_input')

def collapse_cr(cell):
    "Stream outputs as Jupyter and a terminal show them: of a line rewritten with `\\r` (a tqdm bar), its last state only."
    for o in cell.get('outputs', []):
        if o.get('output_type') != 'stream' or '\r' not in ''.join(o.get('text', '')): continue
        lines = ''.join(o['text']).split('\n')
        o['text'] = '\n'.join(next((seg for seg in reversed(l.split('\r')) if seg), '') for l in lines)

def drop_empty(cell):
    "Remove cells left with nothing to show."
    if cell.cell_type == 'code' and not cell.source.strip() and not cell.get('outputs'): del cell['source']
    elif cell.cell_type == 'markdown' and not cell.source.strip(): del cell['source']

# ---------------------------------------------------------------------------------------------- notebooks
def _module_ns(nb) -> dict:
    "Names a notebook's `show_doc` cells can see: all of `ftnb`, its own module's names taking precedence."
    ns = {}
    for m in lib_modules(): ns.update(vars(m))
    exp = next((re.search(r'^#\|\s*default_exp\s+(\S+)', c.source, re.M) for c in nb.cells
                if c.cell_type == 'code' and re.search(r'^#\|\s*default_exp\s', c.source, re.M)), None)
    if exp: ns.update(vars(importlib.import_module(f'{LIB}.{exp.group(1)}')))
    ns['show_doc'] = _show_doc
    return ns

def _header(fm: dict, src: Path) -> str:
    "Title, description and a link to the source notebook: what Quarto would make of the frontmatter."
    title = fm.get('title') or src.stem
    desc = fm.get('description')
    rel = src.resolve().relative_to(ROOT).as_posix() if src.resolve().is_relative_to(ROOT) else f'nbs/{src.name}'
    link = (f'<p class="ftnb-nblink">Source notebook: <a href="{blob_url(rel)}" target="_blank" '
            f'rel="noopener"><code>{rel}</code></a></p>')
    return f'# {title}\n\n' + (f'> {desc}\n\n' if desc else '') + link

def keep_title_extras(nb):
    """nbdev's `FrontmatterProc` turns the whole first `# title` cell into frontmatter (title, the first `> `
    line, `- key: value` lines): move anything else in that cell to a cell of its own so it stays on the page."""
    from nbdev.frontmatter import _md2dict
    if any(c.cell_type == 'raw' and c.source.lstrip().startswith('---') for c in nb.cells): return
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'markdown' or not _md2dict(c.source): continue
        lines, seen_h1, seen_desc, extra = c.source.splitlines(), False, False, []
        for l in lines:
            if not seen_h1 and re.match(r'^#\s+\S', l): seen_h1 = True
            elif not seen_desc and re.match(r'^>\s+\S', l): seen_desc = True
            elif not re.match(r'^-\s+\S.*:.*\S\s*$', l): extra.append(l)
        if '\n'.join(extra).strip(): nb.cells.insert(i + 1, mk_cell('\n'.join(extra).strip(), 'markdown'))
        return

def process_nb(src: Path, dst: Path) -> dict:
    "Process one notebook into `dst` with nbdev's processors; returns a summary."
    nb = read_nb(src)
    errors = [i for i, c in enumerate(nb.cells) for o in c.get('outputs', []) if o.get('output_type') == 'error']
    if errors:
        raise RuntimeError(f'{src}: cells {errors} have saved error outputs. Fix the notebook and refresh its outputs '
                           f'(HF_HUB_OFFLINE=1 .venv/bin/python docs/run_nb.py {src.relative_to(ROOT) if src.is_relative_to(ROOT) else src}).')
    ns = _module_ns(nb)
    keep_title_extras(nb)
    procs = [FrontmatterProc, populate_language, add_show_docs, mv_exports, strip_ansi, hide_line, rm_header_dash,
             render_show_docs(nb, ns), rm_export, hide_, clean_magics, quarto_options,
             strip_hidden_metadata, collapse_cr, drop_empty]
    NBProcessor(nb=nb, procs=procs).process()
    fm = getattr(nb, 'frontmatter_', {}) or {}
    nb.cells = [c for c in nb.cells if not (c.cell_type == 'raw' and c.source.lstrip().startswith('---'))]
    nb.cells.insert(0, mk_cell(_header(fm, src), 'markdown'))
    for c in nb.cells:  # keep only what nbformat knows about
        for k in [k for k in c if k.endswith('_') or k == 'has_sd']: c.pop(k)
    write_nb(nb, dst)
    n_img = sum(any(k.startswith('image/') for k in o.get('data', {})) for c in nb.cells for o in c.get('outputs', []))
    return dict(title=fm.get('title') or src.stem, images=n_img)

# ---------------------------------------------------------------------------------------------- API page
def lib_modules(order: list[str] = ()) -> list:
    "The modules of `ftnb` (from nbdev's `_modidx`), those named in `order` first, in that order."
    idx = list(importlib.import_module(f'{LIB}._modidx').d['syms'])
    names = [f'{LIB}.{o}' for o in order if f'{LIB}.{o}' in idx] + sorted(m for m in idx if m.split('.', 1)[1] not in order)
    return [importlib.import_module(m) for m in names]

def _public(mod) -> list[str]:
    return list(getattr(mod, '__all__', None) or [n for n in vars(mod) if not n.startswith('_')])

def _members(cls) -> list:
    "Public methods and properties a class defines itself, with a docstring."
    res = []
    for n, v in vars(cls).items():
        if n.startswith('_'): continue
        f = getattr(v, '__func__', None) or getattr(v, 'fget', None) or v
        if (inspect.isfunction(f) or isinstance(v, property)) and inspect.getdoc(f): res.append((n, f))
    return res

def api_page(chapters: dict[str, tuple[str, str]]) -> tuple[str, int]:
    "Markdown of the API reference: every public function and class of `ftnb`, module by module."
    parts, n = ['# API reference\n',
                f'Every public function and class of `{LIB}`, module by module, as `show_doc` renders it in the '
                'chapters: signature, docments (one comment per parameter) and docstring. Each module is written '
                'and explained in its chapter.\n'], 0
    for mod in lib_modules(list(chapters)):
        short = mod.__name__.split('.', 1)[1]
        page, title = chapters.get(short, (None, None))
        parts.append(f'## `{mod.__name__}`\n')
        if mod.__doc__: parts.append(f'{mod.__doc__.strip()}\n')
        if page: parts.append(f'Written and explained in the chapter [{title}]({page}) (`nbs/{page}`).\n')
        consts = []
        for nm in _public(mod):
            obj = getattr(mod, nm, None)
            if inspect.isclass(obj) or inspect.isfunction(obj) or (callable(obj) and hasattr(obj, '__wrapped__')):
                parts.append(doc_md(obj, nm, 3)); n += 1
                if inspect.isclass(obj):
                    for mn, f in _members(obj): parts.append(doc_md(f, f'{nm}.{mn}', 4))
            elif obj is not None: consts.append(f'`{nm}` ({type(obj).__name__})')
        if consts: parts.append('Constants: ' + ', '.join(consts) + '.\n')
    return '\n'.join(parts), n

# ---------------------------------------------------------------------------------------------- build
def build(nbs: Path = ROOT/'nbs', proc: Path = ROOT/'_proc', site: Path | None = ROOT/'_docs',
          config: Path = ROOT/'mkdocs.yml') -> dict:
    "Process `nbs` into `proc`, then build the site into `site` (None: stop after processing)."
    t0 = time.perf_counter()
    if proc.exists(): shutil.rmtree(proc)
    proc.mkdir(parents=True)
    shutil.copytree(ROOT/'docs'/'assets', proc/'assets')
    pages, chapters = {}, {}
    for src in sorted(nbs.glob('*.ipynb')):
        pages[src.name] = process_nb(src, proc/src.name)
        nb_src = src.read_text(encoding='utf-8')
        m = re.search(r'#\|\s*default_exp\s+([\w.]+)', nb_src)
        if m: chapters[m.group(1)] = (src.name, pages[src.name]['title'])
    md, n_api = api_page(chapters)
    (proc/'api.md').write_text(md, encoding='utf-8')
    t1 = time.perf_counter()
    res = dict(pages=pages, api_entries=n_api, proc_seconds=t1 - t0)
    if site is not None:
        from mkdocs.config import load_config
        from mkdocs.commands.build import build as mk_build
        logging.basicConfig(format='%(levelname)s - %(message)s', level=logging.WARNING)
        cfg = load_config(str(config), docs_dir=str(proc.resolve()), site_dir=str(site.resolve()))
        cfg.plugins.on_startup(command='build', dirty=False)
        try: mk_build(cfg)
        finally: cfg.plugins.on_shutdown()
        res['site_seconds'] = time.perf_counter() - t1
        res['html_pages'] = len(list(site.rglob('index.html')))
    return res

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--nbs', type=Path, default=ROOT/'nbs', help='folder of notebooks (default nbs/)')
    p.add_argument('--proc', type=Path, default=ROOT/'_proc', help='processed notebooks (default _proc/)')
    p.add_argument('--site', type=Path, default=ROOT/'_docs', help='built site (default _docs/)')
    p.add_argument('--no-site', action='store_true', help='stop after processing the notebooks')
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    try: res = build(a.nbs, a.proc, None if a.no_site else a.site)
    except RuntimeError as e: sys.exit(f'docs/build.py: {e}')
    for name, info in res['pages'].items(): print(f"  {name:28s} {info['title']!r}, {info['images']} image output(s)")
    print(f"processed {len(res['pages'])} notebooks + API page ({res['api_entries']} entries) in {res['proc_seconds']:.1f}s")
    if 'site_seconds' in res:
        print(f"mkdocs: {res['html_pages']} pages in {a.site} in {res['site_seconds']:.1f}s; total {time.perf_counter()-t0:.1f}s")

if __name__ == '__main__': main()
