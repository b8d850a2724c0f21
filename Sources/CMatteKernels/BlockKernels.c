// FrameScorer's per-pixel terms for whole 16-pixel block rows in C, built for the baseline
// instruction set and for AVX2 and chosen at run time (see include/MatteKernels.h).
#include "MatteKernels.h"

#include "vectors.h"

#define MG_BODY "block_body.h"
#include "two_builds.h"

#if !defined(__x86_64__)
void mg_block_spatial_avx2(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                           const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                           const mg_block_constants *c, double *byPattern) {
  mg_block_spatial_baseline(p, g, stride, rows, levels, pMagnitude, gMagnitude, bits, c, byPattern);
}
void mg_block_temporal_avx2(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                            const uint16_t *previousG, long stride, long rows, const uint8_t *bits,
                            const mg_block_constants *c, double *byPattern) {
  mg_block_temporal_baseline(p, g, previousP, previousG, stride, rows, bits, c, byPattern);
}
#endif

void mg_block_spatial(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                      const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                      const mg_block_constants *c, double *byPattern) {
  if (mg_has_avx2())
    mg_block_spatial_avx2(p, g, stride, rows, levels, pMagnitude, gMagnitude, bits, c, byPattern);
  else
    mg_block_spatial_baseline(p, g, stride, rows, levels, pMagnitude, gMagnitude, bits, c, byPattern);
}

void mg_block_temporal(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                       long stride, long rows, const uint8_t *bits, const mg_block_constants *c, double *byPattern) {
  if (mg_has_avx2())
    mg_block_temporal_avx2(p, g, previousP, previousG, stride, rows, bits, c, byPattern);
  else
    mg_block_temporal_baseline(p, g, previousP, previousG, stride, rows, bits, c, byPattern);
}
