"""Python's lock is released while pixels are processed: other Python threads run meanwhile."""
import threading
import time

import numpy as np

import imgpipe


def test_other_threads_run_while_a_chain_runs():
    image = imgpipe.Image.from_array(np.random.default_rng(2).integers(0, 256, (1500, 1500, 3), np.uint8))
    chain = imgpipe.Chain([{"gaussian_blur": {"sigma": 8}}, "pop_art"])
    calls = []  # (start, end) of each chain run in the worker

    def work():
        for _ in range(3):
            start = time.perf_counter()
            chain.run(image, threads=1)
            calls.append((start, time.perf_counter()))

    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.0005)
    worker.join()
    assert len(calls) == 3
    # Ticks of this thread fall inside the worker's calls: it did not hold the lock throughout.
    inside = [t for t in ticks if any(start < t < end for start, end in calls)]
    assert len(inside) >= 10, f"{len(inside)} of {len(ticks)} ticks inside {calls}"


def test_two_threads_share_one_chain_and_get_the_same_result():
    image = imgpipe.load(imgpipe.encode(np.full((300, 400, 3), 90, np.uint8), "png"))
    chain = imgpipe.Chain([{"resize": {"width": 200}}, {"adjust_colors": {"contrast": 1.4}}, "sharpen"])
    expected = np.asarray(chain.run(image)).copy()
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(np.asarray(chain.run(image)).copy())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 40
    for r in results:
        np.testing.assert_array_equal(r, expected)
