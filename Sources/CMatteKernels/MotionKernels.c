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

// The term of pixel x of row y (`i` = y·width + x).
static inline double mg_messddt_term(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                                     const uint16_t *previousG, const float *dx, const float *dy, long x, long y,
                                     long i, long width, long height, double limit, const mg_block_constants *c) {
  long tx = x + mg_nearest(dx[i], limit), ty = y + mg_nearest(dy[i], limit);
  tx = tx < 0 ? 0 : (tx > width - 1 ? width - 1 : tx);
  ty = ty < 0 ? 0 : (ty > height - 1 ? height - 1 : ty);
  long t = ty * width + tx;
  double before = (double)previousP[i] * c->ipp - (double)previousG[i] * c->igp;
  double now = (double)p[t] * c->ip - (double)g[t] * c->ig;
  double e = before * before - now * now;
  return fabs(e);
}

// Runs of pixels with one region pattern are summed in two registers (even and odd pixels of
// the run) and added to byPattern once per run: no store-to-load chain through byPattern.
void mg_messddt_blocks(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                       const float *dx, const float *dy, const uint8_t *bits, long width, long height,
                       const int32_t *blocks, long count, long columns, long blockWidth, long blockHeight,
                       const mg_block_constants *c, double *byPattern) {
  const double limit = (double)(width > height ? width : height) + 1;
  for (long k = 0; k < count; k++) {
    const long bx = blocks[k] % columns, by = blocks[k] / columns;
    const long x0 = bx * blockWidth, x1 = x0 + blockWidth < width ? x0 + blockWidth : width;
    const long y0 = by * blockHeight, y1 = y0 + blockHeight < height ? y0 + blockHeight : height;
    for (long y = y0; y < y1; y++) {
      const long row = y * width;
      long x = x0;
      while (x < x1) {
        const uint8_t pattern = bits[row + x];
        double s0 = 0, s1 = 0;
        for (; x + 1 < x1 && bits[row + x] == pattern && bits[row + x + 1] == pattern; x += 2) {
          s0 += mg_messddt_term(p, g, previousP, previousG, dx, dy, x, y, row + x, width, height, limit, c);
          s1 += mg_messddt_term(p, g, previousP, previousG, dx, dy, x + 1, y, row + x + 1, width, height, limit, c);
        }
        if (x < x1 && bits[row + x] == pattern) {
          s0 += mg_messddt_term(p, g, previousP, previousG, dx, dy, x, y, row + x, width, height, limit, c);
          x++;
        }
        byPattern[pattern] += s0 + s1;
      }
    }
  }
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
                     float *dx, float *dy, float *reach) {
  const long rows = (height + blockHeight - 1) / blockHeight;
  for (long b = 0; b < columns * rows; b++) reach[b] = 0;
  long bad = -1;
  for (long y = 0; y < height; y++) {
    float *out = reach + (y / blockHeight) * columns;
    const uint8_t *in = pairs + 8 * y * width;
    float *u = dx + y * width, *v = dy + y * width;
    for (long bx = 0; bx < columns; bx++) {
      const long x0 = bx * blockWidth, x1 = x0 + blockWidth < width ? x0 + blockWidth : width;
      float m = out[bx];
      int nonFinite = 0;
      for (long x = x0; x < x1; x++) {
        // Little-endian float32 pairs, dx then dy, assembled from bytes (one load on a
        // little-endian host, correct on any).
        uint32_t bitsX = (uint32_t)in[8 * x] | (uint32_t)in[8 * x + 1] << 8 | (uint32_t)in[8 * x + 2] << 16 |
                         (uint32_t)in[8 * x + 3] << 24;
        uint32_t bitsY = (uint32_t)in[8 * x + 4] | (uint32_t)in[8 * x + 5] << 8 | (uint32_t)in[8 * x + 6] << 16 |
                         (uint32_t)in[8 * x + 7] << 24;
        float a, b;
        memcpy(&a, &bitsX, 4);
        memcpy(&b, &bitsY, 4);
        u[x] = a;
        v[x] = b;
        // Exponent all ones: infinity or NaN.
        nonFinite |= ((bitsX & 0x7F800000u) == 0x7F800000u) | ((bitsY & 0x7F800000u) == 0x7F800000u);
        float fa = fabsf(a), fb = fabsf(b);
        m = fa > m ? fa : m;
        m = fb > m ? fb : m;
      }
      out[bx] = nonFinite ? INFINITY : m;
      if (nonFinite && bad < 0) {
        for (long x = x0; x < x1; x++) {
          if (!isfinite(u[x]) || !isfinite(v[x])) {
            bad = y * width + x;
            break;
          }
        }
      }
    }
  }
  return bad;
}
