// The bodies of the two area-reduction kernels, included twice by Downscale.c (baseline and
// AVX2). Each output row: every column's sum over the block's rows (a plain loop the compiler
// vectorises), then each block's sum of its few columns, then the rounded quotients in double
// lanes (`mg_quotients`). `blocks` holds each output column's first source column and width.

static void MG_NAME(mg_downscale_gray8)(const uint16_t *src, long width, const mg_block_columns *blocks,
                                        long outWidth, const long *ys, long outHeight, long maxValue,
                                        int exact, uint32_t *columnSums, uint8_t *out) {
  for (long oy = 0; oy < outHeight; oy++) {
    const long y0 = ys[oy], y1 = ys[oy + 1] > y0 ? ys[oy + 1] : y0 + 1;
    // The caller keeps a block under 65 537 rows, so a column's sum fits 32 bits.
    const uint16_t *first = src + y0 * width;
    for (long x = 0; x < width; x++) columnSums[x] = first[x];
    for (long y = y0 + 1; y < y1; y++) {
      const uint16_t *row = src + y * width;
      for (long x = 0; x < width; x++) columnSums[x] += row[x];
    }
    const int64_t rowsMax = (int64_t)(y1 - y0) * maxValue;
    uint8_t *o = out + oy * outWidth;
    for (long o0 = 0; o0 < outWidth; o0 += MG_QUOTIENT_CHUNK) {
      const long n = outWidth - o0 < MG_QUOTIENT_CHUNK ? outWidth - o0 : MG_QUOTIENT_CHUNK;
      int64_t num[MG_QUOTIENT_CHUNK], den[MG_QUOTIENT_CHUNK];
      for (long i = 0; i < n; i++) {
        const mg_block_columns b = blocks[o0 + i];
        const uint32_t *c = columnSums + b.first;
        int64_t sum = 0;
        // A handful of columns: a vector reduction would cost more than it saves.
#pragma clang loop vectorize(disable) interleave(disable)
        for (long k = 0; k < b.count; k++) sum += c[k];
        // mean · 255 / maxValue, rounded half up: (Σ·255 + d/2) / d with d = n·maxValue.
        const int64_t d = rowsMax * b.count;
        num[i] = sum * 255 + d / 2;
        den[i] = d;
      }
      mg_quotients(num, den, n, exact, o + o0);
    }
  }
}

static void MG_NAME(mg_downscale_plane8)(const uint8_t *src, long srcStride, long width,
                                         const mg_block_columns *blocks, long outWidth, const long *ys,
                                         long outHeight, int exact, int sixteen, uint32_t *columnSums,
                                         uint8_t *out, long outStride) {
  // With blocks of at most 257 rows (`sixteen`), column sums of bytes fit 16 bits (257 · 255 =
  // 65 535): twice the lanes. Chosen once a call, so the scratch is used through one type only.
  uint16_t *narrow = (uint16_t *)columnSums;
  for (long oy = 0; oy < outHeight; oy++) {
    const long y0 = ys[oy], y1 = ys[oy + 1] > y0 ? ys[oy + 1] : y0 + 1;
    const uint8_t *first = src + y0 * srcStride;
    if (sixteen) {
      for (long x = 0; x < width; x++) narrow[x] = first[x];
      for (long y = y0 + 1; y < y1; y++) {
        const uint8_t *row = src + y * srcStride;
        for (long x = 0; x < width; x++) narrow[x] += row[x];
      }
    } else {
      for (long x = 0; x < width; x++) columnSums[x] = first[x];
      for (long y = y0 + 1; y < y1; y++) {
        const uint8_t *row = src + y * srcStride;
        for (long x = 0; x < width; x++) columnSums[x] += row[x];
      }
    }
    const int64_t rows = y1 - y0;
    uint8_t *o = out + oy * outStride;
    for (long o0 = 0; o0 < outWidth; o0 += MG_QUOTIENT_CHUNK) {
      const long n = outWidth - o0 < MG_QUOTIENT_CHUNK ? outWidth - o0 : MG_QUOTIENT_CHUNK;
      int64_t num[MG_QUOTIENT_CHUNK], den[MG_QUOTIENT_CHUNK];
      for (long i = 0; i < n; i++) {
        const mg_block_columns b = blocks[o0 + i];
        int64_t sum = 0;
        if (sixteen) {
#pragma clang loop vectorize(disable) interleave(disable)
          for (long k = 0; k < b.count; k++) sum += narrow[b.first + k];
        } else {
#pragma clang loop vectorize(disable) interleave(disable)
          for (long k = 0; k < b.count; k++) sum += columnSums[b.first + k];
        }
        // The block's mean rounded half up: (Σ + n/2) / n.
        const int64_t d = rows * b.count;
        num[i] = sum + d / 2;
        den[i] = d;
      }
      mg_quotients(num, den, n, exact, o + o0);
    }
  }
}
