#ifndef MATTE_KERNELS_H
#define MATTE_KERNELS_H

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

#endif
