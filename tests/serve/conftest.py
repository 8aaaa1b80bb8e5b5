"""The real `imgpipe serve` on a loopback port, and a small HTTP client for it.

CTest runs these tests with Debian's python3 (tests/CMakeLists.txt), IMGPIPE_CLI and
IMGPIPE_SHARED_IMAGES set. Every server listens on 127.0.0.1 on a port the system picks
(--listen 127.0.0.1:0); every wait is bounded in time.
"""
import http.client
import json
import os
import pathlib
import re
import signal
import subprocess
import threading
import time
import uuid

import cv2
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGES = pathlib.Path(os.environ.get("IMGPIPE_SHARED_IMAGES", ROOT.parent / "shared" / "images"))
CLI = os.environ.get("IMGPIPE_CLI", str(ROOT / "build" / "tools" / "imgpipe" / "imgpipe"))

CHAINS = {
    # a photo chain: resize, colours, sharpen, WebP
    "web.yaml": """chain:
  - resize: {width: 640, height: 640, fit: inside}
  - adjust_colors: {brightness: 1.05, contrast: 1.1}
  - sharpen: {amount: 0.4}
output: {format: webp, quality: 80}
""",
    # fans out: one variant per palette
    "posters.yaml": """chain:
  - resize: {max_side: 800}
  - palette: {colors: '{"sea": ["#1d3557", "#457b9d", "#f1faee"], "sun": ["#2b1b3f", "#d9534f", "#fbe3a1"]}', k: 6}
output: {format: png}
""",
    # no output format: the input's own
    "grey.yaml": "chain:\n  - grayscale: {}\n",
    # slow on a large photo: several full-resolution passes (for deadlines, busy and shutdown)
    "slow.yaml": """chain:
  - median: {radius: 4}
  - median: {radius: 4}
  - median: {radius: 4}
  - median: {radius: 4}
output: {format: png, compression: 1}
""",
}


def free_text(process):
    return process.stderr.read().decode(errors="replace") if process.stderr else ""


class Server:
    """`imgpipe serve` started with `args`; `stop()` sends SIGTERM and returns the exit code."""

    def __init__(self, chains_dir, *args, env=None, ready=True):
        self.process = subprocess.Popen(
            [CLI, "serve", "--chains", str(chains_dir), "--listen", "127.0.0.1:0", *args],
            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
        line = self.process.stderr.readline().decode()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"the server did not start: {line}{free_text(self.process)}")
        self.port = int(match.group(1))
        if ready:
            self.wait_ready()

    def wait_ready(self, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.get("/readyz")[0] == 200:
                return
            time.sleep(0.01)
        raise AssertionError("the server did not become ready")

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers as a dict with lower-case names, body bytes)."""
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def post_image(self, path, image_bytes, content_type="image/jpeg", timeout=60):
        return self.request("POST", path, image_bytes, {"Content-Type": content_type}, timeout)

    def post_form(self, path, fields, timeout=60):
        body, content_type = multipart_form(fields)
        return self.request("POST", path, body, {"Content-Type": content_type}, timeout)

    def metrics(self):
        """/metrics as {name with labels: value}."""
        status, _, body = self.get("/metrics")
        assert status == 200
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def stop(self, seconds=20):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(seconds)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def slow_request_in_flight(server, results, image):
    """Sends `image` to the slow chain in a thread (its answer appended to `results`); returns
    the thread and the bytes the governor admitted for it, once it has."""
    def send():
        results.append(server.post_image("/v1/chains/slow", image.read_bytes(), timeout=120))
    thread = threading.Thread(target=send)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        admitted = server.metrics()["imgpipe_memory_admitted_bytes"]
        if admitted > 0:
            return thread, admitted
        time.sleep(0.01)
    raise AssertionError("the slow request was never admitted")


def multipart_form(fields):
    """(body, content type) of multipart/form-data; each value is bytes (a file) or str."""
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        filename = f'; filename="{name}"' if isinstance(value, bytes) else ""
        data = value if isinstance(value, bytes) else value.encode()
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n"
                 .encode() + data + b"\r\n")
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def multipart_parts(content_type, body):
    """[(headers as a dict with lower-case names, bytes)] of a multipart answer."""
    boundary = re.search(r"boundary=([^;]+)", content_type).group(1).encode()
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, data = chunk[2:].split(b"\r\n\r\n", 1)
        headers = {}
        for line in head.decode().split("\r\n"):
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        parts.append((headers, data[:length]))
    return parts


def decode(data):
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "the answer is not an image"
    return image


def run_cli(*args, stdin=None):
    return subprocess.run([CLI, *map(str, args)], input=stdin, capture_output=True, timeout=120)


@pytest.fixture
def chains_dir(tmp_path):
    folder = tmp_path / "chains"
    folder.mkdir()
    for name, text in CHAINS.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def server(chains_dir):
    s = Server(chains_dir)
    yield s
    assert s.stop() == 0


@pytest.fixture
def photo():
    return (IMAGES / "fruits.jpg").read_bytes()


@pytest.fixture
def palettes_json():
    return (ROOT / "examples" / "palettes.json").read_text()


def json_body(body):
    return json.loads(body.decode())
