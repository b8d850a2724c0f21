#ifndef MATTE_KERNELS_H
#define MATTE_KERNELS_H

#include <stdint.h>

/// The separable passes of Grad's gradient magnitude over a block's rows, summed in exactly the
/// order of `Grad.smoothed` / `Grad.differentiated` (Sources/MatteMetrics/Grad.swift), without
/// fused multiply-adds, so every value equals the Swift reference bit for bit.
///
/// Each function exists three times: the plain name picks the AVX2 build when the processor has
/// AVX2 and the baseline build otherwise; `_baseline` and `_avx2` are there for tests (call
/// `_avx2` only where `mg_has_avx2()` is true).
///
/// `g` holds G[4], G[3], G[2], G[1], G[0] (the folded smoothing factor), `d` holds
/// G′[0], G′[1], G′[2], G′[3] (the folded derivative factor).

/// Whether this processor runs the AVX2 builds.
int mg_has_avx2(void);

/// Row passes: for each of `rows` rows of `x` (`xStride` apart), smooth[c] = G·x[c…c+8] and
/// deriv[c] = G′·x[c…c+8] for c < count, written `outStride` apart.
void mg_grad_rows(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                  long outStride, const double *g, const double *d);
void mg_grad_rows_baseline(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                           long outStride, const double *g, const double *d);
void mg_grad_rows_avx2(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                       long outStride, const double *g, const double *d);

/// Column passes and magnitude: for each of `rows` output rows, out[c] = √(gx² + gy²) with
/// gx = G·deriv and gy = G′·smooth down the column (input rows `stride` apart, starting at the
/// row's own), for c < count; output rows `outStride` apart.
void mg_grad_columns(const double *smooth, const double *deriv, long stride, long rows, long count, double *out,
                     long outStride, const double *g, const double *d);
void mg_grad_columns_baseline(const double *smooth, const double *deriv, long stride, long rows, long count,
                              double *out, long outStride, const double *g, const double *d);
void mg_grad_columns_avx2(const double *smooth, const double *deriv, long stride, long rows, long count,
                          double *out, long outStride, const double *g, const double *d);

/// What `FrameScorer`'s per-pixel terms need besides the pixels: the maximum codes of the
/// prediction and truth, their reciprocals (and those of the previous frame's), and l′/10 for
/// l′ = 0…10 (`Conn.tenths`).
typedef struct {
  double pMax, gMax, ip, ig, ipp, igp;
  const double *tenths;
} mg_block_constants;

/// SAD, MSE, Grad and Conn terms of the 16-pixel rows of one block (`rows` rows, codes and
/// region bits `stride` apart), added to byPattern[4·bits + 0…3] as `FrameScorer`'s scalar
/// path defines them: the difference d = p·(1/pMax) − g·(1/gMax), 0 where the codes are equal in
/// value; |d|, d², (|∇p̂| − |∇ĝ|)² and |φ(g) − φ(p)| with φ as `Conn.phi`. `levels` (Conn's l′,
/// `stride` apart) is NULL when prediction and truth are equal across the block; `pMagnitude`
/// and `gMagnitude` (16 per row) are NULL where a magnitude is 0. A row whose pixels share one
/// region pattern adds its four sums once. Both builds give identical sums.
void mg_block_spatial(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                      const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                      const mg_block_constants *c, double *byPattern);
void mg_block_spatial_baseline(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                               const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                               const mg_block_constants *c, double *byPattern);
void mg_block_spatial_avx2(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                           const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                           const mg_block_constants *c, double *byPattern);

/// dtSSD terms ((p − p′) − (g − g′))² of the 16-pixel rows of one block, added to
/// byPattern[bits] with the previous frame's region bits.
void mg_block_temporal(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                       long stride, long rows, const uint8_t *bits, const mg_block_constants *c, double *byPattern);
void mg_block_temporal_baseline(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                                const uint16_t *previousG, long stride, long rows, const uint8_t *bits,
                                const mg_block_constants *c, double *byPattern);
void mg_block_temporal_avx2(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                            const uint16_t *previousG, long stride, long rows, const uint8_t *bits,
                            const mg_block_constants *c, double *byPattern);

/// MESSDdt terms |E′(x) − E(x + v(x))| of the pixels x of the listed blocks, added to
/// byPattern[bits[x]] with the previous frame's region bits: E = (p·ip − g·ig)² of frame t, E′
/// the same of frame t−1 (ipp, igp), and x + v(x) the pixel's target (`targets`, as
/// mg_motion_targets makes them from v = (dx, dy)), as
/// `TemporalMetrics.messddtMap` defines them (each term equal to the map's bit for bit).
/// `blocks` holds `count` indices of a grid `columns` blocks wide of `blockWidth`×`blockHeight`
/// pixels (the last row and column cut to the frame). A pixel left out adds nothing only when
/// its E′ is 0 and its target's E is 0.
void mg_messddt_blocks(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                       const int32_t *targets, const uint8_t *bits, long width, long height, const int32_t *blocks,
                       long count, long columns, long blockWidth, long blockHeight, const mg_block_constants *c,
                       double *byPattern);

/// Each pixel's MESSDdt target as an index y·width + x: the pixel moved by (dx, dy) rounded to
/// the nearest pixel (halves away from zero), clamped to the frame.
void mg_motion_targets(const float *dx, const float *dy, long width, long height, int32_t *targets);

/// Per block of that grid, the largest |dx| or |dy| of its pixels (infinite where one is NaN).
void mg_motion_reach(const float *dx, const float *dy, long width, long height, long columns, long blockWidth,
                     long blockHeight, float *reach);

/// Per block of that grid, the bounding box of its pixels' targets: lowest x, highest x, lowest y,
/// highest y (4 entries a block).
void mg_motion_boxes(const int32_t *targets, long width, long height, long columns, long blockWidth,
                     long blockHeight, int32_t *boxes);

/// A `.npy` body of `width`×`height` little-endian float32 pairs (dx, dy) split into `dx` and
/// `dy`, with `reach` as mg_motion_reach makes it (infinite where a vector is not finite),
/// `targets` as mg_motion_targets makes them and `boxes` as mg_motion_boxes makes them, in one
/// pass. Returns the index (y·width + x) of the first pixel whose vector is not finite, or −1.
/// `dx` and `dy` may be NULL (not written).
long mg_motion_split(const uint8_t *pairs, long width, long height, long columns, long blockWidth, long blockHeight,
                     float *dx, float *dy, float *reach, int32_t *targets, int32_t *boxes);

/// Asks for the cache line holding `address` ahead of its use (a hint; it never faults).
static inline void mg_prefetch(const void *address) { __builtin_prefetch(address); }

/// mg_prefetch of `rows` addresses `strideBytes` apart from `first`: one line of each row of a
/// block whose rows fit in a cache line.
static inline void mg_prefetch_rows(const void *first, long strideBytes, long rows) {
  for (long r = 0; r < rows; r++) __builtin_prefetch((const char *)first + r * strideBytes);
}

/// For x in [start, start + count) of a row `width` samples long: the least and greatest sample
/// of row[x − radius … x + radius] (the part inside the row) into lows[x] and highs[x].
/// How BlockGrid tells two mattes' codes apart in value (p/pMax ≠ g/gMax): mode 0 at equal
/// maxima (p ≠ g); 1 when gMax = k·pMax (p·k ≠ g on 16 bits, `limit` = ⌊65535/k⌋); 2 when
/// pMax = k·gMax (g·k ≠ p); 3 otherwise (p·gMax ≠ g·pMax on 32 bits).
typedef struct {
  int mode;
  uint16_t k, limit;
  uint32_t pMax, gMax;
} mg_grid_depths;

/// Lowest and highest code of every 4×4 cell (`cellLow`, `cellHigh`: ⌈w/4⌉ × ⌈h/4⌉) and
/// 16×8 block (⌈w/16⌉ × ⌈h/8⌉) of the w×h plane `m`; with `other` (same size), 1 in `differs`
/// for each block holding a pixel where the two differ in value.
void mg_block_grid(const uint16_t *m, const uint16_t *other, long w, long h, const mg_grid_depths *depths,
                   uint16_t *cellLow, uint16_t *cellHigh, uint16_t *blockLow, uint16_t *blockHigh, uint8_t *differs);

/// Conn's row segments (SegmentLevels): runs of equal q = min(qp[p], qg[g]) within each row, a
/// block where both mattes are constant taken whole. Writes each segment's first column, end
/// column (exclusive) and q, and where each of the h rows' segments start (h + 1 entries);
/// returns the number of segments (at most one per pixel).
long mg_conn_segments(const uint16_t *p, const uint16_t *g, long w, long h, const uint8_t *qp, const uint8_t *qg,
                      const uint16_t *pLow, const uint16_t *pHigh, const uint16_t *gLow, const uint16_t *gHigh,
                      long columns, long blockWidth, long blockHeight, int32_t *start, int32_t *end, uint8_t *q,
                      int32_t *rowStart);

/// BlockGrid.gradientActive: 1 for each 16×8 block some 4×4 cell within one cell of which is
/// not constant or holds another constant. `scratch`: cellRows × columns.
void mg_gradient_active(const uint16_t *cellLow, const uint16_t *cellHigh, long cellColumns, long cellRows,
                        long columns, long rows, int32_t *scratch, uint8_t *active);

/// FrameScorer.motionBlocks: the blocks MESSDdt visits, in raster order, into `out`; returns how
/// many: those that differed at t − 1 (`before`, may be NULL) and those whose targets' bounding
/// box (`boxes`, as mg_motion_boxes makes them) touches a block that differs at t (`differs`).
/// `area`: (rows + 1) × (columns + 1).
long mg_motion_blocks(const uint8_t *differs, const uint8_t *before, const int32_t *boxes, long columns, long rows,
                      long blockWidth, long blockHeight, int32_t *area, int32_t *out);

void mg_row_range(const uint16_t *row, long width, long start, long count, long radius, uint16_t *lows,
                  uint16_t *highs);

/// Area-average reduction of a gray picture (`width` samples a row, values 0…maxValue) to
/// `outWidth`×`outHeight` 8-bit samples, with the block edges `xs` (outWidth + 1 entries) and
/// `ys` (outHeight + 1); `columnSums` holds `width` scratch values. Equal to
/// Downscale.gray8Reference.
void mg_downscale_gray8(const uint16_t *src, long width, const long *xs, long outWidth, const long *ys,
                        long outHeight, long maxValue, uint32_t *columnSums, uint8_t *out);

/// Area-average reduction of an 8-bit plane whose rows are `srcStride` bytes apart, `width`
/// samples wide, to `outWidth`×`outHeight` means rounded half up (rows `outStride` apart), with
/// block edges `xs` and `ys` as above; `columnSums` holds `width` scratch values. Equal to
/// Downscale.plane8Reference.
void mg_downscale_plane8(const uint8_t *src, long srcStride, long width, const long *xs, long outWidth,
                         const long *ys, long outHeight, uint32_t *columnSums, uint8_t *out, long outStride);

#endif
