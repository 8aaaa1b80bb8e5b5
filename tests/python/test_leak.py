"""10,000 calls leave the process's memory where it was."""
import numpy as np

import imgpipe


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_no_leak_over_ten_thousand_calls():
    array = np.random.default_rng(3).integers(0, 256, (64, 64, 3), np.uint8)
    chain = imgpipe.Chain([{"adjust_colors": {"brightness": 1.1}}, "grayscale"])
    png = imgpipe.encode(array, "png")

    def once():
        out = chain.run(array)
        np.asarray(out).sum()
        imgpipe.load(png)
        chain.encode(png, format="png")

    for _ in range(1000):  # warm up: allocator pools, TBB threads, caches
        once()
    before = rss_bytes()
    for _ in range(10_000):
        once()
    grown = rss_bytes() - before
    # A leak of even one 64x64 image per call would be 120 MB.
    assert grown < 8 << 20, f"RSS grew by {grown / 1e6:.1f} MB over 10,000 calls"
