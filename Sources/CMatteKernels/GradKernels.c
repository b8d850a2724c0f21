// Grad's separable passes in C, built for the baseline instruction set and for AVX2 and chosen
// at run time: Swift has no per-function target, and four doubles per instruction instead of two
// is most of what the gradient costs. See include/MatteKernels.h.
#include "MatteKernels.h"

#include "vectors.h"

#define MG_BODY "grad_body.h"
#include "two_builds.h"

#if !defined(__x86_64__)
// No AVX2 elsewhere: the names exist and run the baseline build.
void mg_grad_rows_avx2(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                       long outStride, const double *g, const double *d) {
  mg_grad_rows_baseline(x, xStride, rows, count, smooth, deriv, outStride, g, d);
}
void mg_grad_columns_avx2(const double *smooth, const double *deriv, long stride, long rows, long count,
                          double *out, long outStride, const double *g, const double *d) {
  mg_grad_columns_baseline(smooth, deriv, stride, rows, count, out, outStride, g, d);
}
#endif

int mg_has_avx2(void) {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
  return 0;
#endif
}

void mg_grad_rows(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                  long outStride, const double *g, const double *d) {
  if (mg_has_avx2())
    mg_grad_rows_avx2(x, xStride, rows, count, smooth, deriv, outStride, g, d);
  else
    mg_grad_rows_baseline(x, xStride, rows, count, smooth, deriv, outStride, g, d);
}

void mg_grad_columns(const double *smooth, const double *deriv, long stride, long rows, long count, double *out,
                     long outStride, const double *g, const double *d) {
  if (mg_has_avx2())
    mg_grad_columns_avx2(smooth, deriv, stride, rows, count, out, outStride, g, d);
  else
    mg_grad_columns_baseline(smooth, deriv, stride, rows, count, out, outStride, g, d);
}
