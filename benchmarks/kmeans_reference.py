#!/usr/bin/python3
"""Reference clustering for the palette benchmark: cv2.kmeans on EVERY full-resolution pixel in
float CIE Lab (L* 0..100), k-means++ initialisation, 3 attempts -- the "exact" k-means that
imgpipe's histogram clustering is judged against. Writes the image recoloured with its centres.
usage: kmeans_reference.py IMAGE K OUT.png"""
import sys, time
import numpy as np, cv2

image, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bgr = cv2.imread(image, cv2.IMREAD_COLOR)
lab = cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab).reshape(-1, 3)
cv2.setRNGSeed(12345)
start = time.time()
criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 0.01)
_, labels, centres = cv2.kmeans(lab, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
seconds = time.time() - start
colours = cv2.cvtColor(centres.reshape(1, -1, 3), cv2.COLOR_Lab2BGR).reshape(-1, 3)
colours = np.clip(np.rint(colours * 255.0), 0, 255).astype(np.uint8)
cv2.imwrite(out, colours[labels.ravel()].reshape(bgr.shape))
print(f"{seconds:.2f}")
