// What the kernels of this target share: four-double vectors and the macros that work on them.
// Macros rather than helper functions: a 32-byte vector passed to a function built without AVX
// changes the calling convention (-Wpsabi), and each build should inline its own code anyway.
#ifndef MG_VECTORS_H
#define MG_VECTORS_H

#include <stdint.h>

// Values must equal the scalar definitions: no a·b + c fused into one rounding.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

typedef double mg_v4 __attribute__((vector_size(32)));
typedef long long mg_m4 __attribute__((vector_size(32)));
// Loaded and stored at any element alignment.
typedef double mg_v4u __attribute__((vector_size(32), aligned(8)));
typedef uint16_t mg_u16x4 __attribute__((vector_size(8), aligned(2)));
typedef uint8_t mg_u8x4 __attribute__((vector_size(4), aligned(1)));

// Sixteen 16-bit codes (a block's columns) and sixteen 32-bit integers (the block grid).
typedef uint16_t mg_u16x16 __attribute__((vector_size(32)));
typedef uint16_t mg_u16x16u __attribute__((vector_size(32), aligned(2)));
typedef uint32_t mg_u32x16 __attribute__((vector_size(64)));

// Four floats and four 32-bit integers (the motion fields' split).
typedef float mg_f4 __attribute__((vector_size(16)));
typedef float mg_f4u __attribute__((vector_size(16), aligned(1)));
typedef float mg_f8u __attribute__((vector_size(32), aligned(1)));
typedef int32_t mg_i4 __attribute__((vector_size(16)));
typedef int32_t mg_i4u __attribute__((vector_size(16), aligned(1)));
typedef float mg_f8 __attribute__((vector_size(32)));
typedef int32_t mg_i8 __attribute__((vector_size(32)));
typedef int32_t mg_i8u __attribute__((vector_size(32), aligned(1)));

#define mg_splat(v) ((mg_v4){(v), (v), (v), (v)})
#define mg_load(p) ((mg_v4)(*(const mg_v4u *)(p)))
#define mg_store(p, v) (*(mg_v4u *)(p) = (v))
#define mg_sqrt(v) __builtin_elementwise_sqrt(v)
#define mg_load_u16(p) __builtin_convertvector(*(const mg_u16x4 *)(p), mg_v4)
#define mg_load_u8(p) __builtin_convertvector(*(const mg_u8x4 *)(p), mg_v4)
// Lanes of `a` where the mask is set, of `b` elsewhere.
#define mg_select(mask, a, b) ((mg_v4)(((mg_m4)(mask) & (mg_m4)(a)) | (~(mg_m4)(mask) & (mg_m4)(b))))
// The same for eight floats.
#define mg_select8(mask, a, b) ((mg_f8)(((mg_i8)(mask) & (mg_i8)(a)) | (~(mg_i8)(mask) & (mg_i8)(b))))
// The same for four floats.
#define mg_select4(mask, a, b) ((mg_f4)(((mg_i4)(mask) & (mg_i4)(a)) | (~(mg_i4)(mask) & (mg_i4)(b))))
// Σ of four vectors' lanes in one fixed order: the vectors first, then ((l0 + l1) + (l2 + l3)).
#define mg_sum(v)                                                                                       \
  __extension__({                                                                                      \
    const mg_v4 s_ = ((v)[0] + (v)[1]) + ((v)[2] + (v)[3]);                                          \
    (s_[0] + s_[1]) + (s_[2] + s_[3]);                                                                 \
  })

// Whether all sixteen bytes at `b` equal the first.
static inline int mg_uniform16(const uint8_t *b) {
  uint64_t first, second;
  __builtin_memcpy(&first, b, 8);
  __builtin_memcpy(&second, b + 8, 8);
  const uint64_t splat = (uint64_t)b[0] * 0x0101010101010101ull;
  return first == splat && second == splat;
}

#endif
