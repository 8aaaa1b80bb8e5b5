#!/usr/bin/python3
"""`imgpipe serve` against the same two endpoints as a Python service (FastAPI + OpenCV,
benchmarks/python_service.py), under load from keep-alive HTTP clients, in the same run.

    /usr/bin/python3 benchmarks/serve_bench.py [--imgpipe build/tools/imgpipe/imgpipe]
        [--photos build/bench-photos] [--only imgpipe|python] [--concurrency 1,4,16]
        [--imgpipe-requests 8] [--python-requests 1] [--time-cap 60] [--quick] [--json out.json]

Workloads:
  effects  POST /v1/chains/effects (benchmarks/serve/chains/effects.yaml), body one of 10 JPEG
           q90 photos of 1024 px long side, in turn: the two large wallpapers of the benchmark
           photos whole and their four quadrants.
  palette  POST /v1/palette?k=10, multipart/form-data: `image` the 2048x2048 centre crop of
           shell-5120x2880.jpg (JPEG q90, as benchmarks/palette_bench.sh makes it), `palettes`
           benchmarks/palettes.json (7 palettes); the answer is 7 PNGs in multipart/mixed. The
           crop's top-left 8x8 block is another colour in every request of a server, so that no
           request finds its clustering in imgpipe's analysis cache (keyed by the pixels).

Each server is started in turn (imgpipe: `serve --chains benchmarks/serve/chains --listen
127.0.0.1:PORT --max-memory 1GB`). Its ready time is taken from just before it is started to the
first 200 of GET /readyz (polled every millisecond, at most 10 s), over --ready-runs fresh starts
(median reported). Then, started once more, per workload one warm-up
request, then per concurrency level c: c client threads, each with its own keep-alive
connection, send requests until the level has sent max(N * c, 3 * N) (N, requests per client:
--imgpipe-requests, or --python-requests for the Python service's palette requests) or --time-cap seconds have passed (then no new request
starts). Every answer must be a 200 of the right content type with the right body (a JPEG; 7 PNG
parts); any other is counted as failed. Reported per level: successful requests per second over the
level's wall time, p50/p95/p99 latency of the successful requests, and the server's peak RSS (VmHWM
after the level, reset through /proc/PID/clear_refs before it). The clients run on the same
machine as the server. A Python palette request is 7 k-means runs: about 30 s on 2 cores.
--quick: concurrency 1 and 4, one request per client, a 10 s time cap (a smoke run: about 4 min
on 2 cores, nearly all of it the Python palette requests).
Photos: $PHOTOS or build/bench-photos (benchmarks/fetch_photos.sh fetches them when missing).
"""
import argparse
import concurrent.futures
import http.client
import json
import math
import os
import pathlib
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

import cv2

from palette_reference import shrunk

ROOT = pathlib.Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
BUDGET = "1GB"
BUDGET_BYTES = 10**9
LARGE_PHOTOS = ("shell-5120x2880.jpg", "autumn-2560x1600.jpg")
PALETTE_PHOTO = "shell-5120x2880.jpg"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def jpeg(bgr):
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def read_photo(photos, name):
    if not (photos / name).exists():
        subprocess.run([str(ROOT / "benchmarks" / "fetch_photos.sh"), str(photos)], check=True, stdout=sys.stderr)
    return cv2.imread(str(photos / name), cv2.IMREAD_COLOR)


def workloads(photos, palette_images):
    """{name: (path, request bodies, headers, check(status, content type, body) -> error or None)},
    with `palette_images` different palette requests."""
    effects = []
    for name in LARGE_PHOTOS:
        bgr = read_photo(photos, name)
        h, w = bgr.shape[:2]
        for view in (bgr, bgr[:h // 2, :w // 2], bgr[:h // 2, w // 2:], bgr[h // 2:, :w // 2], bgr[h // 2:, w // 2:]):
            effects.append(jpeg(shrunk(view, 1024)))

    bgr = read_photo(photos, PALETTE_PHOTO)
    h, w = bgr.shape[:2]
    side = min(h, w, 2048)
    crop = bgr[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2].copy()
    palettes = (ROOT / "benchmarks" / "palettes.json").read_bytes()
    palette_count = len(json.loads(palettes))
    boundary = uuid.uuid4().hex
    forms = []
    for i in range(palette_images):
        crop[:8, :8] = (i % 256, i // 256 % 256, 128)
        forms.append((f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="crop.jpg"\r\n'
                      f"Content-Type: image/jpeg\r\n\r\n").encode() + jpeg(crop)
                     + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="palettes"\r\n\r\n'.encode()
                     + palettes + f"\r\n--{boundary}--\r\n".encode())

    def check_effects(status, content_type, body):
        if status != 200 or content_type != "image/jpeg" or not body.startswith(b"\xff\xd8"):
            return f"{status} {content_type}, {len(body)} bytes"

    def check_palette(status, content_type, body):
        if (status != 200 or not content_type.startswith("multipart/mixed")
                or body.count(PNG_SIGNATURE) != palette_count):
            return f"{status} {content_type}, {len(body)} bytes, {body.count(PNG_SIGNATURE)} PNGs"

    return {
        "effects": ("/v1/chains/effects", effects, {"Content-Type": "image/jpeg"}, check_effects),
        "palette": ("/v1/palette?k=10", forms, {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                    check_palette),
    }


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(argv, port):
    """The started server and its ready time (s): from just before Popen to the first 200 of /readyz."""
    begin = time.perf_counter()
    process = subprocess.Popen(argv, stdout=sys.stderr)
    try:
        while time.perf_counter() - begin < 10:
            if process.poll() is not None:
                raise SystemExit(f"serve_bench: {shlex.join(argv)} exited with {process.returncode}")
            connection = http.client.HTTPConnection(HOST, port, timeout=1)
            try:
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return process, time.perf_counter() - begin
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            time.sleep(0.001)
        raise SystemExit(f"serve_bench: {shlex.join(argv)} not ready after 10 s")
    except BaseException:
        stop(process)
        raise


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def send(connection, path, body, headers, check):
    """(seconds, error or None) of one request; a connection that failed is reopened by http.client."""
    begin = time.perf_counter()
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        data = response.read()
        error = check(response.status, response.getheader("Content-Type", ""), data)
    except (OSError, http.client.HTTPException) as e:
        connection.close()
        error = repr(e)
    return time.perf_counter() - begin, error


def percentiles(values):
    """p50, p95, p99 (inclusive quantiles); one value is all three, none gives NaN."""
    if len(values) < 2:
        return (values or [float("nan")]) * 3
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def run_level(pid, port, workload, first, clients, requests, time_cap, timeout):
    """One concurrency level; its requests send the workload's bodies from index `first` on."""
    path, bodies, headers, check = workload
    lock = threading.Lock()
    issued = 0
    latencies, failures = [], []

    def client():
        nonlocal issued
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        while True:
            with lock:
                if issued >= requests or time.perf_counter() - begin > time_cap:
                    break
                index = issued
                issued += 1
            seconds, error = send(connection, path, bodies[(first + index) % len(bodies)], headers, check)
            with lock:
                if error:
                    failures.append(error)
                else:
                    latencies.append(seconds)
        connection.close()

    pathlib.Path(f"/proc/{pid}/clear_refs").write_text("5")
    begin = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - begin
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    peak_rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024
    p50, p95, p99 = percentiles(latencies)
    return {"clients": clients, "requests": issued, "failed": len(failures), "failures": failures[:5],
            "wall_s": wall, "req_per_s": len(latencies) / wall, "p50_ms": p50 * 1000, "p95_ms": p95 * 1000,
            "p99_ms": p99 * 1000, "latencies_ms": [s * 1000 for s in latencies], "peak_rss_bytes": peak_rss}


def level_requests(per_client, clients):
    return max(per_client * clients, 3 * per_client)


def ready_times(argv_for, runs):
    """Ready time of `runs` fresh starts of the server (each stopped before the next)."""
    times = []
    for _ in range(runs):
        port = free_port()
        process, ready = start(argv_for(port), port)
        stop(process)
        times.append(ready)
    return times


def bench_server(name, argv_for, loads, levels, per_client, time_cap, timeout, ready_runs):
    """Start the server that argv_for(port) runs, load it, stop it: its ready times and levels.
    `per_client` gives the requests per client and level of each workload."""
    ready = ready_times(argv_for, ready_runs)
    print(f"{name}: ready in {', '.join(f'{r * 1000:.0f}' for r in ready)} ms", file=sys.stderr)
    port = free_port()
    argv = argv_for(port)
    process, _ = start(argv, port)
    result = {"argv": argv, "ready_s": statistics.median(ready), "ready_runs_s": ready, "workloads": {}}
    try:
        for load_name, load in loads.items():
            path, bodies, headers, check = load
            connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
            _, error = send(connection, path, bodies[0], headers, check)
            connection.close()
            if error:
                print(f"{name} {load_name}: warm-up request failed: {error}", file=sys.stderr)
            rows = result["workloads"][load_name] = []
            for clients in levels:
                row = run_level(process.pid, port, load, 1 + sum(r["requests"] for r in rows), clients,
                                level_requests(per_client[load_name], clients), time_cap, timeout)
                rows.append(row)
                print(f"{name} {load_name} c={clients}: {row['requests']} requests, {row['failed']} failed, "
                      f"{row['req_per_s']:.2f} req/s" + "".join(f"\n  failed: {f}" for f in row["failures"]),
                      file=sys.stderr)
    finally:
        stop(process)
    return result


def ratio(a, b):
    return f"{a / b:.1f}x" if b and math.isfinite(a / b) else "–"


def table(load_name, servers, levels):
    lines = [f"### {load_name}", "",
             "| server | clients | requests | failed | req/s | p50 ms | p95 ms | p99 ms | peak RSS MB | budget MB "
             "| req/s vs Python | Python p95 / p95 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    python = servers.get("python", {}).get("workloads", {}).get(load_name)
    for name, server in servers.items():
        for i, row in enumerate(server["workloads"][load_name]):
            ratios = "– | –"
            if name == "imgpipe" and python:
                ratios = (f"{ratio(row['req_per_s'], python[i]['req_per_s'])} "
                          f"| {ratio(python[i]['p95_ms'], row['p95_ms'])}")
            budget = BUDGET_BYTES / 1e6 if name == "imgpipe" else None
            lines.append(f"| {name} | {row['clients']} | {row['requests']} | {row['failed']} | {row['req_per_s']:.2f} "
                         f"| {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f} "
                         f"| {row['peak_rss_bytes'] / 1e6:.0f} | {f'{budget:.0f}' if budget else 'none'} | {ratios} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imgpipe", default=str(ROOT / "build/tools/imgpipe/imgpipe"))
    parser.add_argument("--photos", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("PHOTOS", ROOT / "build" / "bench-photos")))
    parser.add_argument("--only", choices=("imgpipe", "python"))
    parser.add_argument("--concurrency", default="1,4,16", help="client counts, comma-separated")
    parser.add_argument("--imgpipe-requests", type=int, default=8, help="requests per client and level")
    parser.add_argument("--python-requests", type=int, default=1,
                        help="palette requests per client and level of the Python service (its effects requests "
                             "are --imgpipe-requests)")
    parser.add_argument("--ready-runs", type=int, default=5, help="fresh starts whose ready time is taken")
    parser.add_argument("--time-cap", type=float, default=60, help="seconds after which a level starts no request")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one request may take")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=pathlib.Path, help="write the raw numbers here")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.imgpipe_requests, args.python_requests, args.time_cap, args.ready_runs = \
            "1,4", 1, 1, 10, 1
    levels = [int(c) for c in args.concurrency.split(",")]

    # Every palette request of a server a different image: 1 warm-up, then the levels.
    loads = workloads(args.photos, 1 + sum(level_requests(max(args.imgpipe_requests, args.python_requests), c)
                                           for c in levels))
    commands = {
        "imgpipe": (lambda port: [args.imgpipe, "serve", "--chains", str(ROOT / "benchmarks/serve/chains"),
                                  "--listen", f"{HOST}:{port}", "--max-memory", BUDGET],
                    {"effects": args.imgpipe_requests, "palette": args.imgpipe_requests}),
        "python": (lambda port: [sys.executable, str(ROOT / "benchmarks/python_service.py"), "--port", str(port)],
                   {"effects": args.imgpipe_requests, "palette": args.python_requests}),
    }
    servers = {name: bench_server(name, argv_for, loads, levels, per_client, args.time_cap, args.timeout,
                                  args.ready_runs)
               for name, (argv_for, per_client) in commands.items() if args.only in (None, name)}

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    machine = f"{len(os.sched_getaffinity(0))} cores, {cpu}"
    command = shlex.join([sys.executable] + sys.argv)
    print(f"machine: {machine}\ncommand: {command}\n")
    print("ready (median of fresh starts): " + ", ".join(
        f"{name} {s['ready_s'] * 1000:.0f} ms ({', '.join(f'{r * 1000:.0f}' for r in s['ready_runs_s'])})"
        for name, s in servers.items()) + "\n")
    for load_name in loads:
        print(table(load_name, servers, levels) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "command": command, "budget_bytes": BUDGET_BYTES,
                                         "servers": servers}, indent=1))


if __name__ == "__main__":
    main()
