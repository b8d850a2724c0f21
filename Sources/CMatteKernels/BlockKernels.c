// FrameScorer's per-pixel terms for whole 16-pixel block rows in C, built for the baseline
// instruction set and for AVX2 and chosen at run time (see include/MatteKernels.h).
#include "MatteKernels.h"

// The terms are the scalar definitions lane by lane: no a·b + c fused into one rounding.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

typedef double mg_v4 __attribute__((vector_size(32)));
typedef long long mg_m4 __attribute__((vector_size(32)));
typedef double mg_v4u __attribute__((vector_size(32), aligned(8)));
typedef uint16_t mg_u16x4 __attribute__((vector_size(8), aligned(2)));
typedef uint8_t mg_u8x4 __attribute__((vector_size(4), aligned(1)));

// Macros rather than helper functions (see GradKernels.c): each build inlines its own code.
#define mg_splat(v) ((mg_v4){(v), (v), (v), (v)})
#define mg_load(p) ((mg_v4)(*(const mg_v4u *)(p)))
#define mg_load_u16(p) __builtin_convertvector(*(const mg_u16x4 *)(p), mg_v4)
#define mg_load_u8(p) __builtin_convertvector(*(const mg_u8x4 *)(p), mg_v4)
// Lanes of `a` where the mask is set, of `b` elsewhere.
#define mg_select(mask, a, b) ((mg_v4)(((mg_m4)(mask) & (mg_m4)(a)) | (~(mg_m4)(mask) & (mg_m4)(b))))
// Σ of four vectors' lanes in one fixed order: the vectors first, then ((l0 + l1) + (l2 + l3)).
#define mg_sum(v)                                                                                       \
  __extension__({                                                                                      \
    const mg_v4 s_ = ((v)[0] + (v)[1]) + ((v)[2] + (v)[3]);                                          \
    (s_[0] + s_[1]) + (s_[2] + s_[3]);                                                                 \
  })

#define MG_NAME(name) name##_baseline
#include "block_body.h"
#undef MG_NAME

#if defined(__x86_64__)
#define MG_NAME(name) __attribute__((target("avx2"))) name##_avx2
#include "block_body.h"
#undef MG_NAME
#else
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
