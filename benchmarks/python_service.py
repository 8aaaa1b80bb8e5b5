#!/usr/bin/python3
"""The two endpoints of `imgpipe serve` that benchmarks/serve_bench.py loads, written as our
users' Python services were: FastAPI on uvicorn, one worker, OpenCV for the pixels; the
baseline the benchmark measures imgpipe against, in the same run.

    /usr/bin/python3 benchmarks/python_service.py [--port 8000]

listens on 127.0.0.1 (Debian 12: python3-fastapi, python3-uvicorn, python3-multipart,
python3-opencv). The image work runs in FastAPI's thread pool, as a plain `def` endpoint's does.

  GET /readyz            200 "ready".
  POST /v1/chains/effects
      body: an encoded image (any content type). The chain of benchmarks/serve/chains/effects.yaml:
      long side at most 1024 px (area interpolation, never enlarged); brightness and contrast
      as one table on every channel, v' = (v * 1.05 - 127.5) * 1.15 + 127.5; saturation x 1.1
      on OpenCV's 8-bit HSV; unsharp mask v + 0.5 (v - gaussian(v, sigma 1)); JPEG quality 85.
      Answers image/jpeg.
  POST /v1/palette?k=10
      multipart/form-data: `image` (an encoded image) and `palettes` (JSON: name -> list of
      "#rrggbb"). For EACH palette the whole job of benchmarks/palette_reference.py again, as the
      services that made one request per variation did: shrink to 1024 px, k-means (k colours,
      seed 12345), every full-resolution pixel given its nearest centre, recoloured with the
      palette, PNG. Answers multipart/mixed, one image/png part per palette, in the JSON's order.
"""
import argparse
import json
import uuid

import cv2
import numpy as np
import uvicorn
from fastapi import FastAPI, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from palette_reference import (ANALYSIS_SIDE, ATTEMPTS, CRITERIA, K, SEED, cie_lightness, colour_table,
                               lab_samples, nearest_centre, shrunk)

EFFECTS_SIDE = 1024
TONE = np.clip(np.rint((np.arange(256) * 1.05 - 127.5) * 1.15 + 127.5), 0, 255).astype(np.uint8)
SATURATION = np.clip(np.rint(np.arange(256) * 1.1), 0, 255).astype(np.uint8)

app = FastAPI()


def decoded(data):
    """The image in `data` as 8-bit BGR; 400 when it is not one."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise HTTPException(400, "not a decodable image")
    return bgr


def effects_jpeg(data):
    bgr = cv2.LUT(shrunk(decoded(data), EFFECTS_SIDE), TONE)
    hue, saturation, value = cv2.split(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV))
    bgr = cv2.cvtColor(cv2.merge((hue, cv2.LUT(saturation, SATURATION), value)), cv2.COLOR_HSV2BGR)
    bgr = cv2.addWeighted(bgr, 1.5, cv2.GaussianBlur(bgr, (0, 0), 1.0), -0.5, 0)
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def parsed_palettes(text):
    """[(name, uint8 array of BGR colours, darkest first)], as palette_reference.read_palettes."""
    try:
        palettes = json.loads(text)
        result = []
        for name, colours in palettes.items():
            rgb = sorted((tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in colours),
                         key=lambda c: cie_lightness(*c))
            result.append((name, np.array([(b, g, r) for r, g, b in rgb], np.uint8)))
    except (ValueError, AttributeError, TypeError) as error:
        raise HTTPException(400, f"palettes: {error}")
    return result


def variation_png(bgr, palette, k):
    """One palette variation from scratch: cluster, map every pixel, recolour, encode."""
    cv2.setRNGSeed(SEED)  # OpenCV's RNG is per thread: seed the one this job runs in
    _, _, centres = cv2.kmeans(lab_samples(shrunk(bgr, ANALYSIS_SIDE)), k, None, CRITERIA, ATTEMPTS,
                               cv2.KMEANS_RANDOM_CENTERS)
    labels = nearest_centre(lab_samples(bgr), centres)
    recoloured = colour_table(centres, palette)[labels].reshape(bgr.shape)
    return cv2.imencode(".png", recoloured)[1].tobytes()


@app.get("/readyz", response_class=PlainTextResponse)
async def readyz():
    return "ready"


@app.post("/v1/chains/effects")
async def effects(request: Request):
    return Response(await run_in_threadpool(effects_jpeg, await request.body()), media_type="image/jpeg")


@app.post("/v1/palette")
def palette(image: UploadFile = File(...), palettes: str = Form(...), k: int = Query(K, ge=1, le=255)):
    bgr = decoded(image.file.read())
    boundary = uuid.uuid4().hex
    body = b""
    for name, colours in parsed_palettes(palettes):
        body += (f"--{boundary}\r\nContent-Type: image/png\r\n"
                 f'Content-Disposition: inline; name="{name}"; filename="{name}.png"\r\n\r\n').encode()
        body += variation_png(bgr, colours, k) + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return Response(body, media_type=f"multipart/mixed; boundary={boundary}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, workers=1, log_level="warning")
