"""The project as a new user meets it in JupyterLab: a real `jupyter lab` server, its REST API, and a kernel of that
server running nbs/06_cli.ipynb cell by cell over the websocket channels (Jupyter messaging protocol v5)."""
import asyncio, json, os, re, secrets, signal, socket, subprocess, sys, time, urllib.error, urllib.request, uuid
from datetime import datetime, timezone
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ['00_data.ipynb', '01_vae.ipynb', '02_unet.ipynb', '03_losses.ipynb', '04_trainer.ipynb',
             '05_eval.ipynb', '06_cli.ipynb', 'index.ipynb']
RUN_NB = 'nbs/06_cli.ipynb'
START_TIMEOUT, CELL_TIMEOUT, KERNEL_TIMEOUT = 60, 180, 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _our_jupyter_pids(markers) -> set:
    """Pids of jupyter/ipykernel processes (Linux /proc) whose command line holds one of `markers`: this test's token
    (the server) or its runtime dir (kernels: `ipykernel_launcher -f <runtime>/kernel-<id>.json`)."""
    out = set()
    for d in Path('/proc').iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid(): continue
        try: cmd = (d / 'cmdline').read_bytes().replace(b'\0', b' ').decode(errors='replace')
        except OSError: continue
        if ('jupyter' in cmd or 'ipykernel' in cmd) and any(m in cmd for m in markers): out.add(int(d.name))
    return out


class Server:
    "A `jupyter lab` subprocess and a tiny client for its REST API."
    def __init__(self, tmp: Path):
        self.port, self.token = _free_port(), secrets.token_hex(24)
        self.base = f'http://127.0.0.1:{self.port}'
        self.runtime = tmp / 'runtime'
        self.log = open(tmp / 'jupyter-lab.log', 'w+b')
        env = {**os.environ, 'JUPYTER_RUNTIME_DIR': str(self.runtime), 'PYTHONUNBUFFERED': '1'}
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1',
             f'--ServerApp.port={self.port}', '--ServerApp.port_retries=0', f'--ServerApp.token={self.token}',
             f'--ServerApp.root_dir={ROOT}', '--ServerApp.open_browser=False']
            + (['--allow-root'] if os.geteuid() == 0 else []),   # CI containers often run as root
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def output(self) -> str:
        self.log.flush(); self.log.seek(0)
        return self.log.read().decode(errors='replace')[-8000:]

    def api(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f'{self.base}{path}', data=data, method=method,
                                     headers={'Authorization': f'token {self.token}', 'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)

    def wait_ready(self):
        t0, last = time.monotonic(), None
        while time.monotonic() - t0 < START_TIMEOUT:
            if self.proc.poll() is not None:
                pytest.fail(f'jupyter lab exited with code {self.proc.returncode} before answering; output:\n{self.output()}')
            try:
                st, js = self.api('GET', '/api/status', timeout=5)
                if st == 200: return js
            except (urllib.error.URLError, ConnectionError, OSError) as e: last = e
            time.sleep(0.25)
        pytest.fail(f'jupyter lab did not answer /api/status within {START_TIMEOUT} s (last error: {last!r}); '
                    f'output:\n{self.output()}')

    def stop(self):
        "POST /api/shutdown, then terminate/kill the process group if it lingers."
        if self.proc.poll() is None:
            try: self.api('POST', '/api/shutdown', timeout=10)
            except Exception: pass
            try: self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
                    try: os.killpg(self.proc.pid, sig)
                    except ProcessLookupError: break
                    try: self.proc.wait(timeout=wait); break
                    except subprocess.TimeoutExpired: pass
        self.log.close()


def _plain(text: str) -> str: return re.sub(r'\x1b\[[0-9;]*m', '', text)   # IPython colours tracebacks


def _msg(msg_type, content, session, channel='shell'):
    "A v5 message in jupyter_server's JSON websocket framing (see jupyter_client.session.Session.msg)."
    return {'header': {'msg_id': uuid.uuid4().hex, 'msg_type': msg_type, 'username': 'test', 'session': session,
                       'date': datetime.now(timezone.utc).isoformat(), 'version': '5.3'},
            'parent_header': {}, 'metadata': {}, 'content': content, 'buffers': [], 'channel': channel}


async def _run_cells(ws_url, token, cells):
    """Send each code cell as an execute_request on one websocket; returns [(source, reply content, outputs text)].
    A cell is done when both its shell execute_reply and its iopub status=idle have arrived."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect
    ws = await asyncio.wait_for(websocket_connect(HTTPRequest(ws_url, headers={'Authorization': f'token {token}'})),
                                KERNEL_TIMEOUT)
    session, results = uuid.uuid4().hex, []
    try:
        for src in cells:
            m = _msg('execute_request', {'code': src, 'silent': False, 'store_history': True, 'user_expressions': {},
                                         'allow_stdin': False, 'stop_on_error': True}, session)
            await ws.write_message(json.dumps(m))
            reply, idle, out = None, False, []
            deadline = time.monotonic() + CELL_TIMEOUT
            while reply is None or not idle:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f'cell did not finish within {CELL_TIMEOUT} s:\n{src}\noutput so far:\n{"".join(out)}')
                raw = await asyncio.wait_for(ws.read_message(), left)
                if raw is None: raise AssertionError(f'kernel websocket closed while running cell:\n{src}\n{"".join(out)}')
                if isinstance(raw, bytes): continue   # binary-framed messages carry buffers only (not used by these cells)
                r = json.loads(raw)
                if r.get('parent_header', {}).get('msg_id') != m['header']['msg_id']: continue
                t, c = r['msg_type'], r['content']
                if t == 'execute_reply': reply = c
                elif t == 'status' and c.get('execution_state') == 'idle': idle = True
                elif t == 'stream': out.append(c['text'])
                elif t == 'error': out.append(_plain('\n'.join(c.get('traceback', []))) + '\n')
            results.append((src, reply, ''.join(out)))
            if reply['status'] != 'ok': break
    finally: ws.close()
    return results


def test_jupyterlab_lists_notebooks_and_runs_cli_notebook_in_its_kernel(tmp_path):
    srv, kid, sid = Server(tmp_path), None, None
    try:
        status = srv.wait_ready()
        assert 'started' in status, status

        # the file browser's view of nbs/
        st, listing = srv.api('GET', '/api/contents/nbs')
        names = {f['name'] for f in listing['content'] if f['type'] == 'notebook'}
        missing = [n for n in NOTEBOOKS if n not in names]
        assert not missing, f'notebooks missing from /api/contents/nbs: {missing}; listed: {sorted(names)}'

        # open the notebook as JupyterLab does: read it through the contents API, create a session (kernel cwd = nbs/)
        st, nb = srv.api('GET', f'/api/contents/{RUN_NB}?content=1&type=notebook')
        assert nb['type'] == 'notebook' and nb['format'] == 'json'
        cells = [c['source'] if isinstance(c['source'], str) else ''.join(c['source'])
                 for c in nb['content']['cells'] if c['cell_type'] == 'code']
        assert len(cells) >= 5, f'{RUN_NB}: only {len(cells)} code cells'
        st, sess = srv.api('POST', '/api/sessions', {'path': RUN_NB, 'type': 'notebook', 'name': Path(RUN_NB).name,
                                                    'kernel': {'name': 'python3'}}, timeout=KERNEL_TIMEOUT)
        assert st == 201, (st, sess)
        sid, kid = sess['id'], sess['kernel']['id']
        st, kernels = srv.api('GET', '/api/kernels')
        assert kid in {k['id'] for k in kernels}

        ws_url = f'ws://127.0.0.1:{srv.port}/api/kernels/{kid}/channels?session_id={uuid.uuid4().hex}'
        probe = 'import os, sys; print(os.getcwd()); print(sys.executable)'
        results = asyncio.run(_run_cells(ws_url, srv.token, [probe] + cells))

        src, reply, out = results[0]
        assert reply['status'] == 'ok', out
        cwd, exe = out.strip().splitlines()[-2:]
        assert Path(cwd).resolve() == (ROOT / 'nbs').resolve(), f'kernel cwd {cwd}, expected {ROOT / "nbs"}'
        assert Path(exe).resolve() == Path(sys.executable).resolve(), f'kernel python {exe}, expected {sys.executable}'
        for i, (src, reply, out) in enumerate(results[1:]):
            tb = '' if reply.get('status') != 'error' or 'Traceback' in out else _plain('\n'.join(reply.get('traceback', [])))
            assert reply['status'] == 'ok', (
                f'{RUN_NB} code cell {i} (0-based, code cells only) failed: {reply.get("ename")}: {reply.get("evalue")}\n'
                f'--- source ---\n{src}\n--- output / traceback ---\n{out}{tb}')
        assert len(results) == len(cells) + 1

        st, _ = srv.api('DELETE', f'/api/kernels/{kid}', timeout=KERNEL_TIMEOUT); kid = None
        assert st == 204
        try: srv.api('DELETE', f'/api/sessions/{sid}')   # session of a deleted kernel may already be gone
        except urllib.error.HTTPError as e: assert e.code == 404, e
        sid = None
        st, kernels = srv.api('GET', '/api/kernels')
        assert kernels == [], kernels
    finally:
        try:
            if kid is not None and srv.proc.poll() is None: srv.api('DELETE', f'/api/kernels/{kid}', timeout=KERNEL_TIMEOUT)
        except Exception: pass
        srv.stop()
        # the kernel runs in its own process session: check it (and the server) are gone too
        deadline, markers = time.monotonic() + 20, (srv.token, str(srv.runtime))
        while (left := _our_jupyter_pids(markers)) and time.monotonic() < deadline: time.sleep(0.2)
        for pid in left:
            try: os.kill(pid, signal.SIGKILL)
            except ProcessLookupError: pass
    assert srv.proc.returncode is not None, 'jupyter lab still running'
    assert not left, f'jupyter/kernel processes left after shutdown: {sorted(left)}'
