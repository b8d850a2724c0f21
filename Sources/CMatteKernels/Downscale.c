#include "MatteKernels.h"

// ⌊num / den⌋. A double division gives the same floor, at a fraction of a 64-bit division's
// cost, while num < 2^53 and den < 2^40: both are exact as doubles, the quotient (at most about
// 256 here) is rounded by under 256·2^-53 < 2^-44, and a quotient that is not an integer lies at
// least 1/den > 2^-40 below the next one.
static inline uint64_t mg_floor_quotient(uint64_t num, uint64_t den) {
  return num < (1ull << 53) && den < (1ull << 40) ? (uint64_t)((double)num / (double)den) : num / den;
}

// Area-average reduction of 16-bit gray samples to 8 bits, for previews. Block edges along each
// axis are given by the caller (`xs`, `ys`: count + 1 positions, every block at least one
// sample wide), so the Swift reference (Downscale.gray8) and this agree exactly: each output is
// (Σ·255 + n·max/2) / (n·max), integer arithmetic throughout.
void mg_downscale_gray8(const uint16_t *src, long width, const long *xs, long outWidth, const long *ys,
                        long outHeight, long maxValue, uint32_t *columnSums, uint8_t *out) {
  for (long oy = 0; oy < outHeight; oy++) {
    long y0 = ys[oy], y1 = ys[oy + 1] > y0 ? ys[oy + 1] : y0 + 1;
    // Each column's sum over the block's rows first (a plain loop the compiler vectorises; the
    // caller keeps a block under 65 537 rows, so a column's sum fits 32 bits), then each block's
    // columns.
    const uint16_t *first = src + y0 * width;
    for (long x = 0; x < width; x++) columnSums[x] = first[x];
    for (long y = y0 + 1; y < y1; y++) {
      const uint16_t *row = src + y * width;
      for (long x = 0; x < width; x++) columnSums[x] += row[x];
    }
    for (long ox = 0; ox < outWidth; ox++) {
      long x0 = xs[ox], x1 = xs[ox + 1] > x0 ? xs[ox + 1] : x0 + 1;
      uint64_t sum = 0;
      for (long x = x0; x < x1; x++) sum += columnSums[x];
      const uint64_t den = (uint64_t)((y1 - y0) * (x1 - x0)) * (uint64_t)maxValue;
      const uint64_t v = mg_floor_quotient(sum * 255 + den / 2, den);
      out[oy * outWidth + ox] = (uint8_t)(v > 255 ? 255 : v);
    }
  }
}

// Area-average reduction of one 8-bit plane (a YUV picture's luma or chroma, for the preview's
// colour), rows `srcStride` bytes apart: each output is the block's mean rounded half up,
// (Σ + n/2) / n. Equal to Downscale.plane8Reference.
void mg_downscale_plane8(const uint8_t *src, long srcStride, long width, const long *xs, long outWidth,
                         const long *ys, long outHeight, uint32_t *columnSums, uint8_t *out, long outStride) {
  for (long oy = 0; oy < outHeight; oy++) {
    long y0 = ys[oy], y1 = ys[oy + 1] > y0 ? ys[oy + 1] : y0 + 1;
    const uint8_t *first = src + y0 * srcStride;
    for (long x = 0; x < width; x++) columnSums[x] = first[x];
    for (long y = y0 + 1; y < y1; y++) {
      const uint8_t *row = src + y * srcStride;
      for (long x = 0; x < width; x++) columnSums[x] += row[x];
    }
    uint8_t *o = out + oy * outStride;
    for (long ox = 0; ox < outWidth; ox++) {
      long x0 = xs[ox], x1 = xs[ox + 1] > x0 ? xs[ox + 1] : x0 + 1;
      uint64_t sum = 0;
      for (long x = x0; x < x1; x++) sum += columnSums[x];
      const uint64_t n = (uint64_t)((y1 - y0) * (x1 - x0));
      const uint64_t v = mg_floor_quotient(sum + n / 2, n);
      o[ox] = (uint8_t)(v > 255 ? 255 : v);
    }
  }
}
