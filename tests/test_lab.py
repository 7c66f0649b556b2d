"""JupyterLab (`make lab`, the `lab` extra): a chapter opens in the lab and runs on this venv's kernel.

One `jupyter lab` is started headless on 127.0.0.1 (a free port, a token; config, runtime, data and settings
folders temporary, so nothing is written to ~ or nbs/) on the notebooks folder, as `make lab` does. Headless Chromium
(found and driven as in tests/test_docs.py) opens a chapter and the lab must show its cells and start its
kernel; then code runs on that kernel over the server's REST + websocket API (the lab's own channel) and must
import ftnb from this venv, in nbs/. The server and its kernels are always stopped at the end."""
from __future__ import annotations
import configparser, json, os, re, secrets, signal, socket, subprocess, sys, time, uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.request import Request, urlopen
import pytest
from test_docs import ROOT, chromium, need_browser

CHAPTER = '00_core.ipynb'
STARTUP_S = 60  # the lab starts in ~3 s on 2 busy cores

def _version() -> str:
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']['version']

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

class Lab:
    "A running `jupyter lab`: its base URL, token and log; `api(path, method, body)` calls its REST API."
    def __init__(self, proc, url, token, log): self.proc, self.url, self.token, self.log = proc, url, token, log
    def api(self, path, method='GET', body=None, timeout=60):
        req = Request(self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                      headers={'Authorization': f'token {self.token}', 'Content-Type': 'application/json'})
        with urlopen(req, timeout=timeout) as r:
            data = r.read()
        return json.loads(data) if data else None
    def log_tail(self, n=4000): return self.log.read_text(errors='replace')[-n:]

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('lab')
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'HF_HUB_OFFLINE': os.environ.get('HF_HUB_OFFLINE', '1'), 'JUPYTER_PREFER_ENV_PATH': '1',
           **{k: str(tmp/v) for k, v in dict(JUPYTER_CONFIG_DIR='config', JUPYTER_RUNTIME_DIR='runtime',
              JUPYTER_DATA_DIR='data', JUPYTERLAB_SETTINGS_DIR='settings', JUPYTERLAB_WORKSPACES_DIR='workspaces').items()}}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={ROOT/"nbs"}',
           f'--FileCheckpoints.checkpoint_dir={tmp/"checkpoints"}',  # opening a notebook checkpoints it: not into nbs/
           # nothing leaves 127.0.0.1: no news feed, no update check, no PyPI extension listing
           '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LabApp.extension_manager=readonly'] + (['--allow-root'] if os.geteuid() == 0 else [])
    log = tmp/'lab.log'
    with open(log, 'wb') as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Lab(proc, f'http://127.0.0.1:{port}/', token, log)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, f'jupyter lab exited with {proc.returncode}:\n{srv.log_tail()}'
            try: srv.api('api/status', timeout=5); break
            except OSError:
                assert time.monotonic() < deadline, f'jupyter lab not answering after {STARTUP_S} s:\n{srv.log_tail()}'
                time.sleep(0.5)
        yield srv
    finally:
        try:  # shut its kernels down cleanly first, then the server (its process group: no kernel outlives it)
            for s in srv.api('api/sessions', timeout=10): srv.api(f'api/sessions/{s["id"]}', 'DELETE', timeout=30)
        except Exception: pass
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            if proc.poll() is not None: break
            os.killpg(proc.pid, sig)
            try: proc.wait(wait)
            except subprocess.TimeoutExpired: pass

def _notebook(name=CHAPTER) -> dict:
    return json.loads((ROOT/'nbs'/name).read_text(encoding='utf-8'))

def _session(lab: Lab) -> dict:
    "The chapter's session: the one the lab page started, else a new one made as the lab makes it."
    kernel = _notebook()['metadata']['kernelspec']['name']
    return lab.api('api/sessions', 'POST', dict(path=CHAPTER, name=CHAPTER, type='notebook', kernel=dict(name=kernel)))

def run_code(lab: Lab, kernel_id: str, code: str, timeout=60) -> tuple[str, list]:
    "Execute `code` on a kernel over the server's websocket channel: (stdout, error outputs). Fails fast on a dead kernel."
    import websocket  # websocket-client, a jupyter_server dependency
    def fail(why):
        try: state = lab.api(f'api/kernels/{kernel_id}', timeout=10)['execution_state']
        except Exception as e: state = f'unknown ({e})'
        raise AssertionError(f"{why} (kernel state: {state}); the lab's log ends:\n{lab.log_tail()}")
    session, msg_id, deadline = uuid.uuid4().hex, uuid.uuid4().hex, time.monotonic() + timeout
    url = lab.url.replace('http:', 'ws:', 1) + f'api/kernels/{kernel_id}/channels?session_id={session}'
    ws = None
    while ws is None:  # short tries: the server holds a channel to a kernel that never comes up for a long time
        try: ws = websocket.create_connection(url, header=[f'Authorization: token {lab.token}'], timeout=5)
        except (OSError, websocket.WebSocketException) as e:
            try: state = lab.api(f'api/kernels/{kernel_id}', timeout=10)['execution_state']
            except OSError as gone: fail(f'the kernel is gone: {gone!r}')
            if state == 'dead' or time.monotonic() > deadline: fail(f'no channel to the kernel in {timeout} s: {e!r}')
    try:
        ws.send(json.dumps(dict(channel='shell', buffers=[], metadata={}, parent_header={}, header=dict(
            msg_id=msg_id, msg_type='execute_request', session=session, username='test', version='5.3',
            date=datetime.now(timezone.utc).isoformat()), content=dict(
            code=code, silent=False, store_history=False, user_expressions={}, allow_stdin=False, stop_on_error=True))))
        ws.settimeout(2)
        out, errs = [], []
        while time.monotonic() < deadline:
            try: raw = ws.recv()
            except websocket.WebSocketTimeoutException:
                try: dead = lab.api(f'api/kernels/{kernel_id}', timeout=10)['execution_state'] == 'dead'
                except OSError: dead = True
                if dead: fail('the kernel died while running the code')
                continue
            if not isinstance(raw, str): continue  # binary frames carry buffers, not outputs
            m = json.loads(raw)
            if m.get('parent_header', {}).get('msg_id') != msg_id: continue
            kind, c = m['msg_type'], m['content']
            if kind == 'stream' and c['name'] == 'stdout': out.append(c['text'])
            elif kind == 'error' or (kind == 'stream' and c['name'] == 'stderr'): errs.append(c)
            elif kind == 'status' and c['execution_state'] == 'idle': return ''.join(out), errs
        fail(f'the kernel did not finish `{code}` in {timeout} s; stdout so far: {"".join(out)!r}')
    finally: ws.close()

# ----------------------------------------------------------------------------------------------- tests
def test_chapter_opens_in_lab(lab):
    "Chromium opens the chapter in the lab: its title, every cell, the notebook's heading, and a kernel started for it."
    need_browser()
    nb = _notebook()
    html = chromium(f'{lab.url}lab/tree/{CHAPTER}?token={lab.token}', '--virtual-time-budget=60000', '--dump-dom',
                    timeout=90).stdout
    title = re.search(r'<title>([^<]*)</title>', html)
    assert title and title.group(1) == f'{CHAPTER} - JupyterLab', \
        f'the lab page is titled {title and title.group(1)!r}, not after {CHAPTER}:\n{lab.log_tail()}'
    assert 'File Load Error' not in html, f'the lab could not load {CHAPTER}:\n{lab.log_tail()}'
    cells = len(re.findall(r'class="[^"]*\bjp-Notebook-cell\b', html))
    assert cells == len(nb['cells']), f'the lab shows {cells} cells of {CHAPTER}, the notebook has {len(nb["cells"])}'
    h1 = re.search(r'^#\s+(.+)$', ''.join(nb['cells'][0]['source']), re.M)
    shown = [re.sub(r'<[^>]+>|¶', '', h).strip() for h in re.findall(r'<h1\b[^>]*>(.*?)</h1>', html, re.S)]
    if h1: assert h1.group(1).strip() in shown, f'the heading {h1.group(1)!r} is not rendered (h1s: {shown})'
    started = [s for s in lab.api('api/sessions') if s['path'] == CHAPTER]
    assert started, f'the lab page started no kernel for {CHAPTER}:\n{lab.log_tail()}'
    assert started[0]['kernel']['name'] == nb['metadata']['kernelspec']['name']

def test_kernel_runs_ftnb(lab):
    "The chapter's kernel is this venv's python, runs in nbs/ (as nbdev_test does) and imports ftnb."
    s = _session(lab)
    out, errs = run_code(lab, s['kernel']['id'], 'import os, sys, ftnb\nprint(ftnb.__version__, sys.prefix, os.getcwd(), sep="\\n")')
    assert not errs, f'the kernel failed: {errs[0].get("ename", "")}: {errs[0].get("evalue", errs[0].get("text", ""))}'
    version, prefix, cwd = (out.splitlines() + ['', '', ''])[:3]
    assert version == _version(), f'the kernel imported ftnb {version!r}, settings.ini says {_version()!r}:\n{out}'
    assert Path(prefix).resolve() == Path(sys.prefix).resolve(), f'the kernel runs in {prefix}, not this venv ({sys.prefix})'
    assert Path(cwd).resolve() == (ROOT/'nbs').resolve(), f'the kernel runs in {cwd}, not nbs/'
