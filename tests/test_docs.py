"""The docs site: built from the notebooks by docs/build.py (what `make docs` runs), served on 127.0.0.1 and
opened page by page in headless Chromium. Screenshots of the home page and the learning-curves page are
saved to tests/artifacts/ (git-ignored).

The browser is Debian's `chromium` (`make browser` installs it; `$FTNB_CHROMIUM` overrides the lookup).
If none is found and it cannot be installed, the browser tests are skipped with the reason."""
from __future__ import annotations
import ast, base64, functools, json, os, re, shutil, subprocess, sys, tempfile, threading, time
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT/'tests'/'artifacts'
NBS = sorted((ROOT/'nbs').glob('*.ipynb'))
CANDIDATES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')

def _find_browser():
    env = os.environ.get('FTNB_CHROMIUM')
    if env: return shutil.which(env) or (env if Path(env).is_file() else None)
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)

@functools.lru_cache(None)
def browser() -> str | None:
    "Path of a Chromium; installs Debian's `chromium` with apt when absent and we are root."
    b = _find_browser()
    if b or os.environ.get('FTNB_CHROMIUM') or not shutil.which('apt-get') or os.geteuid() != 0: return b
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    subprocess.run('apt-get update -qq && apt-get install -y -qq chromium', shell=True, env=env,
                   capture_output=True, timeout=900)
    return _find_browser()

def need_browser():
    b = browser()
    if b is None:
        pytest.skip('no Chromium: `chromium` is not installed and could not be installed '
                    '(run `apt-get install chromium` as root, or set FTNB_CHROMIUM to a Chrome/Chromium binary)')
    return b

# ----------------------------------------------------------------------------------------------- fixtures
def nb_info(path: Path) -> dict:
    "Title (the first `# ` heading) and whether the saved outputs hold an image, read from the notebook itself."
    nb = json.loads(path.read_text(encoding='utf-8'))
    title = path.stem
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            m = re.search(r'^#\s+(.+)$', ''.join(c['source']), re.M)
            if m: title = m.group(1).strip(); break
    imgs = {k for c in nb['cells'] for o in c.get('outputs', []) for k in o.get('data', {}) if k.startswith('image/')}
    return dict(title=title, images=imgs, url='' if path.stem == 'index' else f'{path.stem}/')

def read_public_api() -> dict[str, list[str]]:
    "Public functions and classes (`__all__` names defined by `def`/`class`) of each ftnb module, read from source."
    idx = {}
    exec((ROOT/'ftnb'/'_modidx.py').read_text(), idx)
    res = {}
    for mod in idx['d']['syms']:
        tree = ast.parse((ROOT/(mod.replace('.', '/') + '.py')).read_text(encoding='utf-8'))
        defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        alls = [ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, 'id', None) == '__all__' for t in n.targets)]
        res[mod] = [nm for nm in (alls[0] if alls else sorted(defs)) if nm in defs and not nm.startswith('_')]
    return res

@pytest.fixture(scope='module')
def public_api(site): return site[1]

@pytest.fixture(scope='module')
def site_dir(site): return site[0]

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the site the way `make docs` does (into a temporary folder) and time it."
    tmp = tmp_path_factory.mktemp('docs')
    api = read_public_api()  # read just before the build, so that both see the same ftnb/
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, 'docs/build.py', '--proc', str(tmp/'proc'), '--site', str(tmp/'site')],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f'docs/build.py failed:\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}'
    print(f'\nsite built in {time.perf_counter()-t0:.1f}s\n{r.stdout}')
    return tmp/'site', api

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture(scope='module')
def server(site_dir):
    "The built site on 127.0.0.1, a free port, served from a thread."
    srv = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(site_dir)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown(); srv.server_close()

def chromium(url: str, *args: str, timeout=120) -> subprocess.CompletedProcess:
    "Run headless Chromium on `url` with a fresh profile; no request leaves 127.0.0.1 (CDN scripts fail fast)."
    with tempfile.TemporaryDirectory() as prof:
        cmd = [need_browser(), '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
               '--disable-dev-shm-usage', f'--user-data-dir={prof}',
               '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', *args, url]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f'chromium failed on {url}:\n{r.stderr[-3000:]}'
    return r

def dom(url: str) -> str:
    "The DOM after load, as Chromium serialises it."
    return chromium(url, '--virtual-time-budget=5000', '--dump-dom').stdout

def screenshot(url: str, path: Path, size='1280,1600'):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists(): path.unlink()
    chromium(url, f'--window-size={size}', '--hide-scrollbars', '--virtual-time-budget=5000', f'--screenshot={path}')
    assert path.stat().st_size > 10_000, f'{path} looks empty ({path.stat().st_size} bytes)'

class Page(HTMLParser):
    "What the checks need from a page: <title>, <h1> texts, <img> sources, links, visible text, stderr outputs."
    def __init__(self, html):
        super().__init__()
        self.title, self.h1, self.imgs, self.links, self.text, self.stderr = '', [], [], [], [], []
        self._open = dict(title=0, h1=0, script=0, style=0, err=0)
        self.feed(html)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'img': self.imgs.append(a.get('src') or '')
        if tag == 'a' and a.get('href'): self.links.append(a['href'])
        if tag == 'h1': self.h1.append('')
        if tag in self._open: self._open[tag] += 1
        if a.get('data-mime-type') == 'application/vnd.jupyter.stderr': self.stderr.append(''); self._open['err'] = 1
    def handle_endtag(self, tag):
        if tag in self._open and self._open[tag]: self._open[tag] -= 1
        if tag == 'div': self._open['err'] = 0
    def handle_data(self, d):
        o = self._open
        if o['script'] or o['style']: return
        if o['title']: self.title += d
        if o['h1']: self.h1[-1] += d
        if o['err']: self.stderr[-1] += d
        self.text.append(d)

def check_page(url: str, info: dict) -> tuple[Page, str]:
    "Open `url` in Chromium and check what every page must show; returns the parsed page and its DOM."
    html = dom(url)
    p = Page(html)
    text = ' '.join(p.text)
    h1 = [h.replace('¶', '').strip() for h in p.h1]
    assert info['title'] in h1, f'{url}: no <h1> {info["title"]!r} (h1s: {h1})'
    assert p.title.startswith(info['title']), f'{url}: <title> is {p.title!r}'
    assert 'Traceback' not in text, f'{url}: a traceback is shown'
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    dead = [t for t in re.findall(r'href="#([^"]+)" class="md-nav__link"', html) if t not in ids]
    assert not dead, f'{url}: table-of-contents links to missing anchors: {dead}'
    errs = [e for e in p.stderr if re.search(r'^\s*\w*(Error|Exception)\b.*:', e, re.M)]
    assert not errs, f'{url}: error output shown: {errs[0][:500]}'
    if info.get('images', set()) - {'image/svg+xml'}:
        data = [s for s in p.imgs if s.startswith('data:image/')]
        assert data, f'{url}: the notebook has plots but the page shows no image'
        png = [s for s in data if s.startswith('data:image/png;base64,')]
        if png: assert base64.b64decode(png[0].split(',', 1)[1])[:8] == b'\x89PNG\r\n\x1a\n', f'{url}: bad PNG'
    if 'image/svg+xml' in info.get('images', set()):
        assert 'jp-RenderedSVG' in html and '<svg' in html, f'{url}: the notebook has SVG plots but the page shows none'
    return p, html

# ----------------------------------------------------------------------------------------------- tests
def test_site_files(site_dir):
    "One page per notebook plus the API page, and a search index that covers them."
    for nb in NBS:
        info = nb_info(nb)
        assert (site_dir/info['url']/'index.html').is_file(), f'no page for {nb.name}'
    assert (site_dir/'api'/'index.html').is_file()
    idx = json.loads((site_dir/'search'/'search_index.json').read_text())
    locs = {d['location'].split('#')[0] for d in idx['docs']}
    for nb in NBS: assert nb_info(nb)['url'] in locs, f'{nb.name} is not in the search index'
    assert 'api/' in locs

def test_progress_bars_collapsed(site):
    "A tqdm bar saved in a notebook (hundreds of `\\r` rewrites) reaches the processed notebook as its last state only."
    proc = site[0].parent/'proc'
    for nb in NBS:
        outs = [o for c in json.loads((proc/nb.name).read_text(encoding='utf-8'))['cells'] for o in c.get('outputs', [])
                if o.get('output_type') == 'stream']
        assert not any('\r' in ''.join(o['text']) for o in outs), f'{nb.name}: a stream output still holds carriage returns'

@pytest.mark.parametrize('nb', [p.name for p in NBS])
def test_page_in_browser(server, nb):
    "Each notebook's page renders its title, its plots, no traceback, and links to its source notebook."
    info = nb_info(ROOT/'nbs'/nb)
    p, _ = check_page(server + info['url'], info)
    assert any(h.endswith(f'/nbs/{nb}') for h in p.links), f'{nb}: no link to the source notebook'

def test_api_page_in_browser(server, public_api):
    "The API reference shows every public function and class of ftnb, with its docments."
    p, html = check_page(server + 'api/', dict(title='API reference'))
    heads = set(re.findall(r'<h3 id="([^"]+)"', html))
    missing = [f'{m}.{nm}' for m, names in public_api.items() for nm in names if nm.lower() not in heads]
    assert public_api and not missing, f'not on the API page: {missing}'
    assert re.search(r'<span class="c1">#', html), 'no docments (parameter comments) in the API signatures'

def test_screenshots(server):
    "Screenshots of the home page and the learning-curves page (when that chapter exists), for a person to look at."
    screenshot(server, ARTIFACTS/'docs_home.png')
    curves = [nb for nb in NBS if 'curve' in nb.stem]
    for nb in curves: screenshot(server + nb_info(nb)['url'], ARTIFACTS/f'docs_{nb.stem}.png', size='1280,2400')
