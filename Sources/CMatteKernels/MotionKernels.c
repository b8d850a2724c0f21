#include <math.h>
#include <string.h>

#include "MatteKernels.h"

#include "vectors.h"

// v rounded to the nearest integer, halves away from zero, as Swift's `Double(v).rounded()`:
// v ± 0.5 is exact in double for any float v, so truncating it is exact too. `limit` bounds v
// first (a target past the frame is clamped to it anyway), so the conversion cannot overflow.
static inline long mg_nearest(float v, double limit) {
  double d = (double)v;
  d = d > -limit ? d : -limit;
  d = d < limit ? d : limit;
  return (long)(d + copysign(0.5, d));
}

// A little-endian float32 from its four bytes, whatever the host's byte order.
static inline float mg_le_float(const uint8_t *b) {
  const uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

// The target of pixel x of row y: (x, y) + v rounded, clamped to the frame, as an index.
static inline int32_t mg_target(float dx, float dy, long x, long y, long width, long height, double limit) {
  long tx = x + mg_nearest(dx, limit), ty = y + mg_nearest(dy, limit);
  tx = tx < 0 ? 0 : (tx > width - 1 ? width - 1 : tx);
  ty = ty < 0 ? 0 : (ty > height - 1 ? height - 1 : ty);
  return (int32_t)(ty * width + tx);
}

void mg_motion_targets(const float *dx, const float *dy, long width, long height, int32_t *targets) {
  const double limit = (double)(width > height ? width : height) + 1;
  for (long y = 0; y < height; y++)
    for (long x = 0; x < width; x++)
      targets[y * width + x] = mg_target(dx[y * width + x], dy[y * width + x], x, y, width, height, limit);
}

#define MG_BODY "motion_body.h"
#include "two_builds.h"

void mg_messddt_blocks(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                       const int32_t *targets, const uint8_t *bits, long width, long height, const int32_t *blocks,
                       long count, long columns, long blockWidth, long blockHeight, const mg_block_constants *c,
                       double *byPattern) {
#if defined(__x86_64__)
  if (mg_has_avx2()) {
    mg_messddt_blocks_avx2(p, g, previousP, previousG, targets, bits, width, height, blocks, count, columns,
                           blockWidth, blockHeight, c, byPattern);
    return;
  }
#endif
  mg_messddt_blocks_baseline(p, g, previousP, previousG, targets, bits, width, height, blocks, count, columns,
                             blockWidth, blockHeight, c, byPattern);
}

void mg_motion_reach(const float *dx, const float *dy, long width, long height, long columns, long blockWidth,
                     long blockHeight, float *reach) {
  const long rows = (height + blockHeight - 1) / blockHeight;
  for (long b = 0; b < columns * rows; b++) reach[b] = 0;
  for (long y = 0; y < height; y++) {
    float *out = reach + (y / blockHeight) * columns;
    const float *u = dx + y * width, *v = dy + y * width;
    for (long bx = 0; bx < columns; bx++) {
      const long x0 = bx * blockWidth, x1 = x0 + blockWidth < width ? x0 + blockWidth : width;
      float m = out[bx];
      int nan = 0;
      for (long x = x0; x < x1; x++) {
        float a = fabsf(u[x]), b = fabsf(v[x]);
        m = a > m ? a : m;
        m = b > m ? b : m;
        nan |= (a != a) | (b != b);
      }
      // A NaN makes the reach infinite, so the block's neighbourhood is the whole frame.
      out[bx] = nan ? INFINITY : m;
    }
  }
}

long mg_motion_split(const uint8_t *pairs, long width, long height, long columns, long blockWidth, long blockHeight,
                     float *dx, float *dy, float *reach, int32_t *targets, int32_t *boxes) {
#if defined(__x86_64__)
  if (mg_has_avx2())
    return mg_motion_split_avx2(pairs, width, height, columns, blockWidth, blockHeight, dx, dy, reach, targets,
                                boxes);
#endif
  return mg_motion_split_baseline(pairs, width, height, columns, blockWidth, blockHeight, dx, dy, reach, targets,
                                  boxes);
}

void mg_motion_boxes(const int32_t *targets, long width, long height, long columns, long blockWidth,
                     long blockHeight, int32_t *boxes) {
  const long rows = (height + blockHeight - 1) / blockHeight;
  for (long b = 0; b < columns * rows; b++) {
    boxes[4 * b] = INT32_MAX;
    boxes[4 * b + 1] = -1;
    boxes[4 * b + 2] = INT32_MAX;
    boxes[4 * b + 3] = -1;
  }
  for (long y = 0; y < height; y++)
    for (long x = 0; x < width; x++) {
      int32_t *box = boxes + 4 * ((y / blockHeight) * columns + x / blockWidth);
      const int32_t t = targets[y * width + x], ty = t / (int32_t)width, tx = t - ty * (int32_t)width;
      box[0] = tx < box[0] ? tx : box[0];
      box[1] = tx > box[1] ? tx : box[1];
      box[2] = ty < box[2] ? ty : box[2];
      box[3] = ty > box[3] ? ty : box[3];
    }
}
