#!/usr/bin/python3
"""Python/OpenCV peer and decode+encode floor for benchmarks/batch_bench.sh.

  batch_reference.py chain IN_DIR OUT_DIR WIDTH HEIGHT WORKER WORKERS
      The batch chain on every WORKERS-th JPEG of IN_DIR (sorted), starting at WORKER:
      decode (libjpeg-turbo scaled decode when the reduced image still covers the target,
      as imgpipe's balanced preset does) -> cv2.INTER_AREA resize to fit inside WIDTHxHEIGHT
      -> v * 1.32 - 25.5 (adjust_colors brightness 1.1, contrast 1.2) -> unsharp mask sigma 1,
      amount 0.3 -> white text watermark at 60 % opacity, bottom-right, 16 px margin
      -> WebP quality 85 (cv2.imwrite, libwebp's simple API: method 4).
      Run two of these (WORKER 0 and 1 of 2) for a two-process batch.

  batch_reference.py floor IN_DIR WIDTH HEIGHT [WORKER WORKERS]
      The least any tool must do, in one thread: decode every JPEG (or every WORKERS-th,
      starting at WORKER, to run one floor process per core) from memory at the size
      that is actually needed (the same scaled decode as above), and encode the resized image
      as WebP quality 85, method 4, to memory. Resizing, file reads and writes are not timed.
      Times are CPU seconds of the calling thread (libjpeg-turbo and libwebp run in it), which
      other programs on the machine disturb much less than wall time.
      Prints JSON: images, decode_s, encode_s, decoded and output sizes.
"""
import json
import os
import sys
import time

import cv2
import numpy as np

MARGIN = 16
OPACITY = 0.6


def jpeg_files(folder):
    return sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg")))


def inside_size(width, height, box_width, box_height):
    scale = min(box_width / width, box_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def image_size(path):
    """Width and height from the JPEG header (SOF marker), without decoding."""
    with open(path, "rb") as f:
        data = f.read()
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    raise ValueError(f"{path}: no JPEG frame header")


def decode_mode(width, height, out_width, out_height):
    """IMREAD_REDUCED_COLOR_k for the largest k in 2, 4, 8 that keeps at least the output size."""
    for k, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                    (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if width // k >= out_width and height // k >= out_height:
            return flag
    return cv2.IMREAD_COLOR


def make_watermark(out_width, out_height):
    """White '(c) imgpipe' text as a float mask (Hershey fonts have no ©), 4 % of the shorter side."""
    text_height = max(1, round(0.04 * min(out_width, out_height)))
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = cv2.getFontScaleFromHeight(font, text_height, 2)
    (text_width, text_h), baseline = cv2.getTextSize("(c) imgpipe", font, scale, 2)
    mask = np.zeros((text_h + baseline, text_width), np.uint8)
    cv2.putText(mask, "(c) imgpipe", (0, text_h), font, scale, 255, 2, cv2.LINE_AA)
    return (mask.astype(np.float32) * (OPACITY / 255.0))[:, :, None]


def run_chain(in_dir, out_dir, box_width, box_height, worker, workers):
    os.makedirs(out_dir, exist_ok=True)
    cv2.setNumThreads(1)  # one process per core: the two processes are the parallelism
    tone = np.clip(np.arange(256) * 1.32 - 25.5, 0, 255).round().astype(np.uint8)
    watermarks = {}
    files = jpeg_files(in_dir)[worker::workers]
    for name in files:
        path = os.path.join(in_dir, name)
        width, height = image_size(path)
        out_width, out_height = inside_size(width, height, box_width, box_height)
        image = cv2.imread(path, decode_mode(width, height, out_width, out_height))
        image = cv2.resize(image, (out_width, out_height), interpolation=cv2.INTER_AREA)
        image = cv2.LUT(image, tone)
        blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
        image = cv2.addWeighted(image, 1.3, blurred, -0.3, 0)
        key = (out_width, out_height)
        if key not in watermarks:
            watermarks[key] = make_watermark(out_width, out_height)
        alpha = watermarks[key]
        h, w = alpha.shape[:2]
        y, x = out_height - MARGIN - h, out_width - MARGIN - w
        roi = image[y:y + h, x:x + w].astype(np.float32)
        image[y:y + h, x:x + w] = (roi * (1 - alpha) + 255.0 * alpha).round().astype(np.uint8)
        out = os.path.join(out_dir, os.path.splitext(name)[0] + ".webp")
        if not cv2.imwrite(out, image, [cv2.IMWRITE_WEBP_QUALITY, 85]):
            raise RuntimeError(f"{out}: cv2.imwrite failed")
    print(json.dumps({"worker": worker, "images": len(files)}))


def floor(in_dir, box_width, box_height, worker=0, workers=1):
    cv2.setNumThreads(1)
    decode_s = encode_s = 0.0
    decoded = output = None
    files = jpeg_files(in_dir)[worker::workers]
    for name in files:
        path = os.path.join(in_dir, name)
        width, height = image_size(path)
        out_width, out_height = inside_size(width, height, box_width, box_height)
        with open(path, "rb") as f:
            data = np.frombuffer(f.read(), np.uint8)
        start = time.thread_time()
        image = cv2.imdecode(data, decode_mode(width, height, out_width, out_height))
        decode_s += time.thread_time() - start
        decoded = f"{image.shape[1]}x{image.shape[0]}"
        small = cv2.resize(image, (out_width, out_height), interpolation=cv2.INTER_AREA)
        start = time.thread_time()
        ok, _ = cv2.imencode(".webp", small, [cv2.IMWRITE_WEBP_QUALITY, 85])
        encode_s += time.thread_time() - start
        if not ok:
            raise RuntimeError(f"{path}: WebP encode failed")
        output = f"{out_width}x{out_height}"
    print(json.dumps({"images": len(files), "decode_s": decode_s, "encode_s": encode_s,
                      "decoded_size": decoded, "output_size": output}))


def main(argv):
    if len(argv) == 8 and argv[1] == "chain":
        run_chain(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]))
    elif len(argv) in (5, 7) and argv[1] == "floor":
        floor(argv[2], int(argv[3]), int(argv[4]), *(int(a) for a in argv[5:7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
