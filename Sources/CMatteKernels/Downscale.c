// Area-average reduction of pictures for previews (Downscale.swift): each output is its block's
// mean, rounded half up, integer arithmetic throughout, so that the Swift references and these
// kernels agree exactly. Built for the baseline instruction set and for AVX2, chosen at run time.
#include "MatteKernels.h"

#include "vectors.h"

#include <stdlib.h>

// Outputs whose quotients are taken at once.
#define MG_QUOTIENT_CHUNK 64

// Whether every block's numerator stays below 2^53 and its denominator below 2^40, for samples
// of `sampleBits` bits: then a double division gives ⌊num / den⌋ exactly (both are exact as
// doubles, the quotient, at most about 256, is rounded by under 256·2^-53 < 2^-44, and a
// quotient that is not an integer lies at least 1/den > 2^-40 below the next one). A numerator
// is at most area · (2^sampleBits − 1) · 255 plus half the denominator: below area · 2^(bits+8).
static int mg_quotients_exact(const long *xs, long outWidth, const long *ys, long outHeight, int sampleBits) {
  long most = 1, tallest = 1;
  for (long i = 0; i < outWidth; i++) most = xs[i + 1] - xs[i] > most ? xs[i + 1] - xs[i] : most;
  for (long i = 0; i < outHeight; i++) tallest = ys[i + 1] - ys[i] > tallest ? ys[i + 1] - ys[i] : tallest;
  const double area = (double)most * (double)tallest;
  return area * (double)(1L << (sampleBits + 8)) < 9007199254740992.0 &&
         area * (double)(1L << sampleBits) < 1099511627776.0;
}

// ⌊num[i] / den[i]⌋, clamped to 255, into out[i]: in double lanes when `exact` (see above).
static inline void mg_quotients(const int64_t *num, const int64_t *den, long n, int exact, uint8_t *out) {
  if (exact) {
    for (long i = 0; i < n; i++) {
      const int64_t v = (int64_t)((double)num[i] / (double)den[i]);
      out[i] = (uint8_t)(v > 255 ? 255 : v);
    }
  } else {
    for (long i = 0; i < n; i++) {
      const int64_t v = num[i] / den[i];
      out[i] = (uint8_t)(v > 255 ? 255 : v);
    }
  }
}

// One output column's block: its first source column and how many.
typedef struct {
  long first;
  long count;
} mg_block_columns;

// Each output column's block from the edges `xs` (every block at least one column wide);
// NULL if there is no memory.
static mg_block_columns *mg_blocks_of(const long *xs, long outWidth) {
  mg_block_columns *blocks = malloc(sizeof(mg_block_columns) * (size_t)(outWidth > 0 ? outWidth : 1));
  if (!blocks) return NULL;
  for (long i = 0; i < outWidth; i++) {
    blocks[i].first = xs[i];
    blocks[i].count = xs[i + 1] > xs[i] ? xs[i + 1] - xs[i] : 1;
  }
  return blocks;
}

#define MG_BODY "downscale_body.h"
#include "two_builds.h"

void mg_downscale_gray8(const uint16_t *src, long width, const long *xs, long outWidth, const long *ys,
                        long outHeight, long maxValue, uint32_t *columnSums, uint8_t *out) {
  mg_block_columns *blocks = mg_blocks_of(xs, outWidth);
  if (!blocks) abort();
  const int exact = mg_quotients_exact(xs, outWidth, ys, outHeight, 16);
#if defined(__x86_64__)
  if (mg_has_avx2()) {
    mg_downscale_gray8_avx2(src, width, blocks, outWidth, ys, outHeight, maxValue, exact, columnSums, out);
    free(blocks);
    return;
  }
#endif
  mg_downscale_gray8_baseline(src, width, blocks, outWidth, ys, outHeight, maxValue, exact, columnSums, out);
  free(blocks);
}

void mg_downscale_plane8(const uint8_t *src, long srcStride, long width, const long *xs, long outWidth,
                         const long *ys, long outHeight, uint32_t *columnSums, uint8_t *out, long outStride) {
  mg_block_columns *blocks = mg_blocks_of(xs, outWidth);
  if (!blocks) abort();
  const int exact = mg_quotients_exact(xs, outWidth, ys, outHeight, 8);
  int sixteen = 1;
  for (long i = 0; i < outHeight; i++) sixteen &= ys[i + 1] - ys[i] <= 257;
#if defined(__x86_64__)
  if (mg_has_avx2()) {
    mg_downscale_plane8_avx2(src, srcStride, width, blocks, outWidth, ys, outHeight, exact, sixteen, columnSums,
                             out, outStride);
    free(blocks);
    return;
  }
#endif
  mg_downscale_plane8_baseline(src, srcStride, width, blocks, outWidth, ys, outHeight, exact, sixteen, columnSums,
                               out, outStride);
  free(blocks);
}
