// sharp peer for benchmarks/batch_bench.sh: the batch chain on every file of a folder, with a
// fixed number of images in flight.
//   node batch.js IN_DIR OUT_DIR WIDTH HEIGHT IN_FLIGHT
// Chain (the same work as the imgpipe chain file the script writes):
//   resize fit inside WIDTHxHEIGHT (shrink-on-load as sharp does by default)
//   -> linear 1.32, -25.5 (imgpipe's adjust_colors brightness 1.1 contrast 1.2:
//      ((v/255 * 1.1) - 0.5) * 1.2 + 0.5 = v/255 * 1.32 - 0.1)
//   -> unsharp mask sigma 1, slope 0.3 (libvips sharpen with m1 = m2 = 0.3 and no clipping)
//   -> white text watermark, 4 % of the shorter output side, 60 % opacity, bottom-right, 16 px margin
//   -> WebP quality 85, effort (method) 4.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

const [inDir, outDir, widthArg, heightArg, inFlightArg] = process.argv.slice(2);
if (!inDir || !outDir || !widthArg || !heightArg || !inFlightArg) {
  console.error('usage: node batch.js IN_DIR OUT_DIR WIDTH HEIGHT IN_FLIGHT');
  process.exit(2);
}
const width = Number(widthArg);
const height = Number(heightArg);
const inFlight = Number(inFlightArg);
const margin = 16;

// The watermark is rendered once per output size and reused, as a batch server would.
const watermarks = new Map();
async function watermarkFor(outWidth, outHeight) {
  const key = `${outWidth}x${outHeight}`;
  if (!watermarks.has(key)) {
    const textHeight = Math.max(1, Math.round(0.04 * Math.min(outWidth, outHeight)));
    const rendered = await sharp({
      text: {
        text: '<span foreground="#ffffff" fgalpha="60%">© imgpipe</span>',
        font: `DejaVu Sans ${textHeight}px`,
        rgba: true,
      },
    })
      .extend({ right: margin, bottom: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    watermarks.set(key, rendered);
  }
  return watermarks.get(key);
}

// The output size of fit inside, computed from the header as sharp computes it.
function insideSize(meta) {
  const scale = Math.min(width / meta.width, height / meta.height);
  return [Math.round(meta.width * scale), Math.round(meta.height * scale)];
}

async function processOne(file) {
  const input = path.join(inDir, file);
  const output = path.join(outDir, file.replace(/\.[^.]+$/, '') + '.webp');
  const [outWidth, outHeight] = insideSize(await sharp(input).metadata());
  const overlay = await watermarkFor(outWidth, outHeight);
  await sharp(input)
    .resize(width, height, { fit: 'inside' })
    .linear(1.32, -25.5)
    .sharpen({ sigma: 1, m1: 0.3, m2: 0.3, x1: 2, y2: 1000, y3: 1000 })
    .composite([{ input: overlay, gravity: 'southeast' }])
    .webp({ quality: 85, effort: 4 })
    .toFile(output);
}

async function main() {
  const files = fs.readdirSync(inDir).filter((f) => /\.jpe?g$/i.test(f)).sort();
  fs.mkdirSync(outDir, { recursive: true });
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const file = files[next++];
      await processOne(file);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  console.log(JSON.stringify({ images: files.length, vips_threads_per_image: sharp.concurrency() }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
