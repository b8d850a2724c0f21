// Exhaustive check behind the motion split's eight-pixel path (Sources/CMatteKernels/motion_body.h):
// for every finite float v with |v| <= 2^24, rounding half away from zero in float as
// trunc(v + copysign(p, v)), p the largest float below 0.5, equals the double definition
// trunc((double)v + copysign(0.5, v)). About 2.5e9 values, a few seconds:
//   clang -O2 -o /tmp/float-rounding Benchmarks/float-rounding/check.c -lm && /tmp/float-rounding
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#pragma STDC FP_CONTRACT OFF

int main(void) {
  const float p = 0x1.fffffep-2f;
  if (!(p < 0.5f) || nextafterf(p, 1.0f) != 0.5f) {
    printf("p is not the largest float below 0.5\n");
    return 1;
  }
  long checked = 0, wrong = 0;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits++) {
    const uint32_t b = (uint32_t)bits;
    float v;
    memcpy(&v, &b, 4);
    if (!isfinite(v) || fabsf(v) > 16777216.0f) continue;
    checked++;
    const long want = (long)((double)v + copysign(0.5, (double)v));
    volatile float sum = v + copysignf(p, v);
    const long got = (long)(int32_t)sum;
    if (got != want) {
      if (wrong < 5) printf("v = %a: double gives %ld, float %ld\n", v, want, got);
      wrong++;
    }
  }
  printf("checked %ld floats, %ld differ\n", checked, wrong);
  return wrong != 0;
}
