#include "MatteKernels.h"

#include "vectors.h"

// v rounded to the nearest integer, halves away from zero, as Swift's `Double(v).rounded()`:
// v + 0.5 is exact in double for any float v, so truncating it is exact too. `limit` bounds v
// first (a target past the frame is clamped to it anyway), so the conversion cannot overflow.
static inline long mg_nearest(float v, double limit) {
  double d = (double)v;
  if (!(d > -limit)) d = -limit;
  if (!(d < limit)) d = limit;
  return d >= 0 ? (long)(d + 0.5) : -(long)(-d + 0.5);
}

void mg_messddt(const uint16_t *p, const uint16_t *g, const uint16_t *previousP, const uint16_t *previousG,
                const float *dx, const float *dy, const uint8_t *bits, long width, long height,
                const mg_block_constants *c, double *byPattern) {
  const double ip = c->ip, ig = c->ig, ipp = c->ipp, igp = c->igp;
  const double limit = (double)(width > height ? width : height) + 1;
  for (long y = 0; y < height; y++) {
    for (long x = 0; x < width; x++) {
      long i = y * width + x;
      long tx = x + mg_nearest(dx[i], limit), ty = y + mg_nearest(dy[i], limit);
      tx = tx < 0 ? 0 : (tx > width - 1 ? width - 1 : tx);
      ty = ty < 0 ? 0 : (ty > height - 1 ? height - 1 : ty);
      long t = ty * width + tx;
      double before = (double)previousP[i] * ipp - (double)previousG[i] * igp;
      double now = (double)p[t] * ip - (double)g[t] * ig;
      double e = before * before - now * now;
      byPattern[bits[i]] += e < 0 ? -e : e;
    }
  }
}
