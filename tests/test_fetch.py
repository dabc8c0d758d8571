"""`cyclonediff data fetch` against an HTTP server on 127.0.0.1 started here, serving files in the real layouts
(GridSat-B1 netCDF and the IBTrACS CSV, written by the project's own writers) under the NCEI archive's paths. The
server honours Range requests, counts the body bytes it sends per file, and can be told to cut a file's connection
half-way once, to send a corrupt copy once, to answer 503 once, or to ignore Range."""
import hashlib, os, subprocess, sys, threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cyclonediff.fetch import (FetchConfig, FetchError, GRIDSAT_PATH, IBTRACS_PATH, download, fetch, fetch_plan,
                               http_jobs, is_valid, fetch_files, reader)
from cyclonediff.formats import example_tracks, write_gridsat, write_ibtracs_csv

START, END, BOX = '2020-09-06 00:00', '2020-09-06 09:00', '10,20,-46,-38'   # 4 GridSat-B1 times
FAST = FetchConfig(tries=4, backoff_s=0.01, timeout_s=10, chunk_bytes=4096, workers=4)


class Archive(ThreadingHTTPServer):
    "The files (URL path -> bytes) and the faults to play, with what was sent."
    daemon_threads = True

    def __init__(self, files):
        super().__init__(('127.0.0.1', 0), Handler)
        self.files, self.sent, self.gets, self.lock = files, Counter(), Counter(), threading.Lock()
        self.cut_once, self.corrupt_once, self.fail_once, self.ignore_range = set(), set(), set(), False

    def take(self, faults, path):
        with self.lock:
            if path in faults: faults.discard(path); return True
        return False

    @property
    def url(self): return f'http://127.0.0.1:{self.server_address[1]}/'


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def do_GET(self):
        srv, path = self.server, self.path.lstrip('/')
        with srv.lock: srv.gets[path] += 1
        if path not in srv.files: return self.send_error(404, 'Not Found')
        if srv.take(srv.fail_once, path): return self.send_error(503, 'Service Unavailable')
        body = srv.files[path]
        if srv.take(srv.corrupt_once, path): body = b'\0' * 64 + body[64:]      # same size, a broken header
        start = int(self.headers['Range'].split('=')[1].split('-')[0]) if self.headers.get('Range') else 0
        if start and not srv.ignore_range:
            if start >= len(body): return self.send_error(416, 'Range Not Satisfiable')
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{len(body) - 1}/{len(body)}')
        else:
            start = 0; self.send_response(200)
        self.send_header('Content-Length', str(len(body) - start)); self.end_headers()
        chunk = body[start:]
        if srv.take(srv.cut_once, path): chunk = chunk[:len(chunk) // 2]; self.close_connection = True
        self.wfile.write(chunk); self.wfile.flush()
        with srv.lock: srv.sent[path] += len(chunk)


def archive_files(tmp) -> dict:
    "URL path -> bytes of the IBTrACS CSV and 4 small GridSat-B1 files (the real encodings, a 24 x 32 grid)."
    out, files = Path(tmp), {}
    csv = write_ibtracs_csv(example_tracks(), out / 'ibtracs.ALL.list.v04r01.csv')
    files[IBTRACS_PATH] = csv.read_bytes()
    lat, lon = np.linspace(10, 20, 24), np.linspace(-46, -38, 32)
    for k, t in enumerate(pd.date_range(START, END, freq='3h')):
        tb = 200 + 80 * np.random.default_rng(k).random((lat.size, lon.size))
        p = write_gridsat(out, t, lat, lon, tb)
        files[GRIDSAT_PATH.format(y=t.year, m=t.month, d=t.day, h=t.hour)] = p.read_bytes()
    return files


@pytest.fixture
def archive(tmp_path):
    srv = Archive(archive_files(tmp_path / 'src'))
    th = threading.Thread(target=srv.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True); th.start()
    yield srv
    srv.shutdown(); srv.server_close()


def gridsat_job(srv, out, k=0):
    return [j for j in http_jobs(fetch_plan(START, END, BOX, base_url=srv.url), out) if j.kind == 'gridsat'][k]


def test_the_served_files_are_in_the_real_layouts(archive, tmp_path):
    for path, body in archive.files.items():
        (tmp_path / Path(path).name).write_bytes(body)
        assert is_valid(tmp_path / Path(path).name, 'ibtracs' if path.endswith('.csv') else 'gridsat')
    assert len(archive.files) == 5 and len(reader('ibtracs')(tmp_path / Path(IBTRACS_PATH).name)) == len(example_tracks())


def test_an_interrupted_download_resumes_without_resending(archive, tmp_path):
    job = gridsat_job(archive, tmp_path)
    path = GRIDSAT_PATH.format(y=2020, m=9, d=6, h=0)
    archive.cut_once.add(path)
    got = download(job.url, job.dest, reader('gridsat'), FAST)
    assert job.dest.read_bytes() == archive.files[path]
    assert archive.gets[path] == 2 and archive.sent[path] == len(archive.files[path]) == got   # no byte sent twice
    assert not job.dest.with_name(job.dest.name + '.part').exists()


def test_a_server_that_ignores_range_gets_the_file_from_the_start(archive, tmp_path):
    job = gridsat_job(archive, tmp_path, 1)
    path = job.url.removeprefix(archive.url)
    archive.cut_once.add(path); archive.ignore_range = True
    download(job.url, job.dest, reader('gridsat'), FAST)
    assert job.dest.read_bytes() == archive.files[path]
    assert archive.sent[path] == len(archive.files[path]) // 2 + len(archive.files[path])


def test_a_corrupt_file_is_detected_and_fetched_again(archive, tmp_path):
    jobs = http_jobs(fetch_plan(START, END, BOX, base_url=archive.url), tmp_path)[:2]    # the CSV and a GridSat file
    for j in jobs: archive.corrupt_once.add(j.url.removeprefix(archive.url))
    rows = fetch_files(jobs, FAST, progress=False)
    for j, r in zip(jobs, rows):
        path = j.url.removeprefix(archive.url)
        assert r['status'] == 'fetched' and archive.gets[path] == 2 and j.dest.read_bytes() == archive.files[path]


def test_5xx_is_retried_and_a_404_names_the_url_at_once(archive, tmp_path):
    job = gridsat_job(archive, tmp_path, 2)
    archive.fail_once.add(job.url.removeprefix(archive.url))
    download(job.url, job.dest, reader('gridsat'), FAST)
    assert archive.gets[job.url.removeprefix(archive.url)] == 2
    missing = archive.url + 'no/such/GRIDSAT-B1.1980.01.01.00.v02r01.nc'
    with pytest.raises(FetchError, match=f'{missing}: HTTP 404') as e:
        download(missing, tmp_path / 'x.nc', reader('gridsat'), FAST)
    assert archive.gets['no/such/GRIDSAT-B1.1980.01.01.00.v02r01.nc'] == 1 and '\n' not in str(e.value)


def test_a_file_that_keeps_failing_stops_after_the_tries(archive, tmp_path):
    job = gridsat_job(archive, tmp_path, 3)
    path = job.url.removeprefix(archive.url)
    archive.files[path] = b'not netCDF at all ' * 100
    with pytest.raises(FetchError, match='failed 4 tries.*does not open'):
        download(job.url, job.dest, reader('gridsat'), FAST)
    assert archive.gets[path] == 4 and not job.dest.exists() and not list(tmp_path.rglob('*.part'))


def test_parallel_fetch_gives_identical_bytes_and_a_rerun_downloads_nothing(archive, tmp_path):
    rows = fetch(START, END, BOX, tmp_path, sources=('gridsat', 'ibtracs'), cfg=FAST, base_url=archive.url,
                 progress=False)
    assert [r['status'] for r in rows] == ['fetched'] * 5
    for r in rows:
        assert Path(r['path']).read_bytes() == archive.files[r['url'].removeprefix(archive.url)]
    sent = sum(archive.sent.values())
    assert sent == sum(len(b) for b in archive.files.values())
    again = fetch(START, END, BOX, tmp_path, sources=('gridsat', 'ibtracs'), cfg=FAST, base_url=archive.url,
                  progress=False)
    assert [r['status'] for r in again] == ['present'] * 5 and sum(archive.sent.values()) == sent
    assert sum(archive.gets.values()) == 5


def cli(*args, env=None):
    return subprocess.run([sys.executable, '-m', 'cyclonediff.cli', *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_cli_fetches_then_a_rerun_fetches_nothing(archive, tmp_path):
    args = ('data', 'fetch', '--start', START, '--end', END, '--box', BOX, '--out', tmp_path, '--workers', 3,
            '--sources', 'gridsat,ibtracs', '--no-progress')
    r = cli(*args, '--base-url', archive.url)
    assert r.returncode == 0, r.stderr
    assert 'gridsat: 4 files' in r.stdout and '(4 fetched, 0 already there' in r.stdout
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    assert {digest(p) for p in (tmp_path / 'gridsat').glob('*.nc')} == {
        hashlib.sha256(b).hexdigest() for k, b in archive.files.items() if k.endswith('.nc')}
    r = cli(*args, env={'CYCLONEDIFF_NCEI_URL': archive.url})         # the base URL from the environment
    assert r.returncode == 0 and '(0 fetched, 4 already there' in r.stdout and sum(archive.gets.values()) == 5


def test_cli_404_is_one_line_and_a_nonzero_exit(archive, tmp_path):
    r = cli('data', 'fetch', '--start', '1980-01-01', '--end', '1980-01-01', '--box', BOX, '--out', tmp_path,
            '--sources', 'gridsat', '--no-progress', '--base-url', archive.url)
    url = archive.url + GRIDSAT_PATH.format(y=1980, m=1, d=1, h=0)
    assert r.returncode != 0 and r.stderr.strip().count('\n') == 0 and f'{url}: HTTP 404' in r.stderr, r.stderr


def test_cli_era5_without_cdsapi_is_one_line(tmp_path):
    env = {'PYTHONPATH': os.pathsep.join([str(tmp_path / 'shadow'), os.environ.get('PYTHONPATH', '')])}
    (tmp_path / 'shadow').mkdir(); (tmp_path / 'shadow' / 'cdsapi.py').write_text("raise ImportError('hidden')")
    r = cli('data', 'fetch', '--start', START, '--end', END, '--box', BOX, '--out', tmp_path, '--sources', 'era5',
            env=env)
    assert r.returncode != 0 and r.stderr.strip().count('\n') == 0 and "pip install 'cyclonediff[era5]'" in r.stderr


def test_cli_era5_from_a_zarr_in_the_arco_layout(tmp_path):
    "ERA5 cut from an analysis-ready zarr (a local copy in Google's ARCO layout) equals the source's values."
    from cyclonediff.data import example_era5
    from cyclonediff.readers import open_era5
    src = example_era5(times=pd.date_range('2020-09-06', periods=12, freq='1h'), res=2.0)
    names = {'u': 'u_component_of_wind', 'v': 'v_component_of_wind', 'sst': 'sea_surface_temperature',
             'msl': 'mean_sea_level_pressure'}
    arco = src.rename(names).rename(lat='latitude', lon='longitude').sortby('latitude', ascending=False)
    arco.assign_coords(longitude=arco.longitude % 360).sortby('longitude').to_zarr(tmp_path / 'arco.zarr', zarr_format=2)   # as Google's
    r = cli('data', 'fetch', '--start', START, '--end', END, '--box', BOX, '--out', tmp_path / 'out',
            '--sources', 'era5-zarr', env={'CYCLONEDIFF_ERA5_ZARR': str(tmp_path / 'arco.zarr')})
    assert r.returncode == 0 and 'era5: 1 files' in r.stdout, r.stderr
    got = open_era5(tmp_path / 'out' / 'era5')
    want = src.sel(time=pd.date_range(START, END, freq='3h'), lat=slice(10, 20), lon=slice(-46, -38))
    assert got.sizes == want.sizes
    for v in names: np.testing.assert_allclose(got[v].values, want[v].values, rtol=1e-6)


def test_a_stopped_download_keeps_its_part_and_a_rerun_continues_it(archive, tmp_path):
    job = gridsat_job(archive, tmp_path)
    path = job.url.removeprefix(archive.url)
    def stop(n): raise InterruptedError('stopped')             # what fetch_files does to its threads on Ctrl-C
    cfg = FetchConfig(tries=4, backoff_s=0.01, timeout_s=10, chunk_bytes=1024)
    with pytest.raises(InterruptedError): download(job.url, job.dest, reader('gridsat'), cfg, stop)
    part = job.dest.with_name(job.dest.name + '.part')
    assert archive.gets[path] == 1 and part.stat().st_size == 1024 and not job.dest.exists()
    download(job.url, job.dest, reader('gridsat'), cfg)
    assert job.dest.read_bytes() == archive.files[path] and archive.gets[path] == 2
