"""`imgpipe serve` under concurrent requests and through a shutdown (SIGTERM) under load."""
import concurrent.futures
import threading
import time

from conftest import IMAGES, Server, slow_request_in_flight

PHOTOS = ["fruits.jpg", "rocket.jpg", "building.jpg", "butterfly.jpg"]


def test_concurrent_requests_answer_what_one_at_a_time_answers(chains_dir):
    server = Server(chains_dir, "--max-concurrent", "4")
    try:
        inputs = [(IMAGES / name).read_bytes() for name in PHOTOS]
        alone = [server.post_image("/v1/chains/web", data)[2] for data in inputs]

        def send(i):
            status, _, body = server.post_image("/v1/chains/web", inputs[i % len(inputs)])
            return i, status, body

        before = server.metrics()['imgpipe_requests_total{chain="web",status="200"}']
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, range(48), timeout=120))
        assert all(status == 200 for _, status, _ in results)
        assert all(body == alone[i % len(inputs)] for i, _, body in results)
        m = server.metrics()
        assert m['imgpipe_requests_total{chain="web",status="200"}'] == before + 48
        assert m["imgpipe_in_flight_requests"] == 0 and m["imgpipe_memory_admitted_bytes"] == 0
    finally:
        assert server.stop() == 0


def test_sigterm_under_load_finishes_what_is_in_flight_and_exits_0(chains_dir):
    server = Server(chains_dir, "--max-concurrent", "2", "--shutdown-timeout", "30")
    photo = (IMAGES / "fruits.jpg").read_bytes()
    statuses, refused = [], []
    lock = threading.Lock()
    stop_sending = threading.Event()

    def client():
        # Keep sending until the server stops taking connections (bounded: 200 requests).
        for _ in range(200):
            if stop_sending.is_set():
                return
            try:
                status = server.post_image("/v1/chains/web", photo, timeout=60)[0]
            except ConnectionError:  # refused, or reset in the backlog: never taken
                with lock:
                    refused.append(1)
                return
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(statuses) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    code = server.stop(seconds=40)
    stop_sending.set()
    for t in threads:
        t.join(60)
    assert code == 0
    assert time.monotonic() - started < 30
    # Every request that was answered was answered whole; none was cut off by the shutdown.
    assert statuses and all(status == 200 for status in statuses), statuses


def test_sigterm_with_a_slow_request_waits_for_it(chains_dir):
    server = Server(chains_dir, "--shutdown-timeout", "60")
    results = []
    thread, _ = slow_request_in_flight(server, results, IMAGES / "autumn-2560x1600.jpg")
    assert server.stop(seconds=90) == 0
    thread.join(60)
    status, headers, body = results[0]
    assert status == 200 and headers["content-type"] == "image/png" and body.startswith(b"\x89PNG")


def test_sigterm_past_the_shutdown_deadline_cancels_and_exits_0(chains_dir):
    server = Server(chains_dir, "--shutdown-timeout", "0.2")
    results = []
    thread, _ = slow_request_in_flight(server, results, IMAGES / "shell-5120x2880.jpg")
    started = time.monotonic()
    assert server.stop(seconds=30) == 0
    assert time.monotonic() - started < 8  # Cloud Run's SIGKILL comes 10 s after SIGTERM
    thread.join(60)
    status, headers, _ = results[0]
    assert status == 503 and headers["retry-after"] == "1"
