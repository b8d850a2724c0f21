// The body of the MESSDdt kernel, included twice by MotionKernels.c (baseline and AVX2).
// MG_NAME(x) names each build. A 16-pixel block row whose pixels share one region pattern is
// four vectors of four doubles, summed in one fixed order; any other row is summed pixel by
// pixel. Every term equals TemporalMetrics.messddtMap's bit for bit, and both builds give the
// same sums.

// The term of pixel i (its target t): |E′(i) − E(t)| with E = (p·ip − g·ig)², E′ of frame t−1.
#define MG_MESSDDT_TERM(i, t)                                                                          \
  __extension__({                                                                                      \
    const double before_ = (double)previousP[i] * c->ipp - (double)previousG[i] * c->igp;             \
    const double now_ = (double)p[t] * c->ip - (double)g[t] * c->ig;                                  \
    const double e_ = before_ * before_ - now_ * now_;                                                \
    e_ < 0 ? -e_ : e_;                                                                                 \
  })

static void MG_NAME(mg_messddt_blocks)(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                                       const uint16_t *previousG, const int32_t *targets, const uint8_t *bits,
                                       long width, long height, const int32_t *blocks, long count, long columns,
                                       long blockWidth, long blockHeight, const mg_block_constants *c,
                                       double *byPattern) {
  const mg_v4 zero = mg_splat(0.0), ip = mg_splat(c->ip), ig = mg_splat(c->ig), ipp = mg_splat(c->ipp),
              igp = mg_splat(c->igp);
  // The blocks come in raster order. Those of one block row are walked a pixel row at a time,
  // left to right across all of them, so each plane is read as ascending streams (which the
  // hardware prefetches) rather than eight rows down one block, then back up for the next.
  for (long first = 0, last; first < count; first = last) {
    const long by = blocks[first] / columns;
    for (last = first + 1; last < count && blocks[last] / columns == by; last++) {
    }
    const long y0 = by * blockHeight, y1 = y0 + blockHeight < height ? y0 + blockHeight : height;
    for (long y = y0; y < y1; y++) {
      for (long k = first; k < last; k++) {
        const long bx = blocks[k] % columns;
        const long x0 = bx * blockWidth, x1 = x0 + blockWidth < width ? x0 + blockWidth : width;
        const long row = y * width;
        if (x1 - x0 == 16 && mg_uniform16(bits + row + x0)) {
          mg_v4 sums[4];
          for (int q = 0; q < 4; q++) {
            const long i = row + x0 + 4 * q;
            const int32_t *t = targets + i;
            const mg_v4 before = mg_load_u16(previousP + i) * ipp - mg_load_u16(previousG + i) * igp;
            mg_v4 pt, gt;
            if (t[1] == t[0] + 1 && t[2] == t[0] + 2 && t[3] == t[0] + 3) {
              // Four neighbours moved alike (the usual case): their targets are four in a row.
              pt = mg_load_u16(p + t[0]);
              gt = mg_load_u16(g + t[0]);
            } else {
              pt = (mg_v4){p[t[0]], p[t[1]], p[t[2]], p[t[3]]};
              gt = (mg_v4){g[t[0]], g[t[1]], g[t[2]], g[t[3]]};
            }
            const mg_v4 now = pt * ip - gt * ig;
            const mg_v4 e = before * before - now * now;
            sums[q] = mg_select(e < zero, -e, e);
          }
          byPattern[bits[row + x0]] += mg_sum(sums);
          continue;
        }
        // Runs of one region pattern, in two registers (even and odd pixels of the run), added to
        // byPattern once per run.
        long x = x0;
        while (x < x1) {
          const uint8_t pattern = bits[row + x];
          double s0 = 0, s1 = 0;
          for (; x + 1 < x1 && bits[row + x] == pattern && bits[row + x + 1] == pattern; x += 2) {
            s0 += MG_MESSDDT_TERM(row + x, targets[row + x]);
            s1 += MG_MESSDDT_TERM(row + x + 1, targets[row + x + 1]);
          }
          if (x < x1 && bits[row + x] == pattern) {
            s0 += MG_MESSDDT_TERM(row + x, targets[row + x]);
            x++;
          }
          byPattern[pattern] += s0 + s1;
        }
      }
    }
  }
}

#undef MG_MESSDDT_TERM

// Four pixels' vectors of one row at once: the interleaved pairs split, their targets, the
// block's running largest |dx| or |dy| (`most`) and whether one was not finite (`flags`).
// Little-endian hosts only (the `.npy` is little-endian); others take the pixel path.
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MG_SPLIT_FOUR(x)                                                                               \
  do {                                                                                                 \
    const mg_f8u raw_ = *(const mg_f8u *)(in + 8 * (x));                                              \
    const mg_f4 a_ = __builtin_shufflevector(raw_, raw_, 0, 2, 4, 6);                                  \
    const mg_f4 b_ = __builtin_shufflevector(raw_, raw_, 1, 3, 5, 7);                                  \
    if (u) {                                                                                           \
      *(mg_f4u *)(u + (x)) = a_;                                                                       \
      *(mg_f4u *)(v + (x)) = b_;                                                                       \
    }                                                                                                  \
    flags |= ((mg_i4)a_ & exponent) == exponent;                                                       \
    flags |= ((mg_i4)b_ & exponent) == exponent;                                                       \
    const mg_f4 fa_ = (mg_f4)((mg_i4)a_ & magnitude), fb_ = (mg_f4)((mg_i4)b_ & magnitude);           \
    most = mg_select4(fa_ > most, fa_, most);                                                          \
    most = mg_select4(fb_ > most, fb_, most);                                                          \
    mg_v4 da_ = __builtin_convertvector(a_, mg_v4), db_ = __builtin_convertvector(b_, mg_v4);          \
    da_ = mg_select(da_ > -lim, da_, -lim);                                                            \
    da_ = mg_select(da_ < lim, da_, lim);                                                              \
    db_ = mg_select(db_ > -lim, db_, -lim);                                                            \
    db_ = mg_select(db_ < lim, db_, lim);                                                              \
    da_ = da_ + mg_select(da_ < zero, -half, half);                                                    \
    db_ = db_ + mg_select(db_ < zero, -half, half);                                                    \
    mg_i4 tx_ = (mg_i4){(int32_t)(x), (int32_t)(x) + 1, (int32_t)(x) + 2, (int32_t)(x) + 3} +          \
                __builtin_convertvector(da_, mg_i4);                                                   \
    mg_i4 ty_ = (int32_t)y + __builtin_convertvector(db_, mg_i4);                                     \
    tx_ = tx_ & ~(tx_ < 0);                                                                            \
    tx_ = (tx_ & (tx_ <= lastX)) | (lastX & ~(tx_ <= lastX));                                          \
    ty_ = ty_ & ~(ty_ < 0);                                                                            \
    ty_ = (ty_ & (ty_ <= lastY)) | (lastY & ~(ty_ <= lastY));                                          \
    *(mg_i4u *)(t + (x)) = ty_ * (int32_t)width + tx_;                                                 \
    loX = __builtin_elementwise_min(loX, tx_);                                                         \
    hiX = __builtin_elementwise_max(hiX, tx_);                                                         \
    loY = __builtin_elementwise_min(loY, ty_);                                                         \
    hiY = __builtin_elementwise_max(hiY, ty_);                                                         \
  } while (0)
// Eight pixels at once, for targets and boxes in float lanes (twice the lanes of doubles): a
// component clamped to ±limit (exact: limit is an integer below 2^24) and rounded half away
// from zero as trunc(v ± p), p the largest float below 0.5, in float. That equals the double
// definition, trunc(v ± 0.5), for every finite float of magnitude up to 2^24 (checked for all
// 2.5·10⁹ of them: Benchmarks/float-rounding/check.c). A non-finite component is clamped as the four-pixel
// path clamps it (NaN to −limit); such a field is refused anyway. The eight lanes are folded
// into the four-lane accumulators the four-pixel path keeps.
#define MG_SPLIT_EIGHT(x)                                                                              \
  do {                                                                                                 \
    const mg_f8 r0_ = *(const mg_f8u *)(in + 8 * (x));                                                \
    const mg_f8 r1_ = *(const mg_f8u *)(in + 8 * (x) + 32);                                           \
    const mg_f8 a_ = __builtin_shufflevector(r0_, r1_, 0, 2, 4, 6, 8, 10, 12, 14);                    \
    const mg_f8 b_ = __builtin_shufflevector(r0_, r1_, 1, 3, 5, 7, 9, 11, 13, 15);                    \
    if (u) {                                                                                           \
      *(mg_f8u *)(u + (x)) = a_;                                                                       \
      *(mg_f8u *)(v + (x)) = b_;                                                                       \
    }                                                                                                  \
    const mg_i8 bad_ = (((mg_i8)a_ & exponent8) == exponent8) | (((mg_i8)b_ & exponent8) == exponent8); \
    flags |= __builtin_shufflevector(bad_, bad_, 0, 1, 2, 3) | __builtin_shufflevector(bad_, bad_, 4, 5, 6, 7); \
    const mg_f8 fa_ = (mg_f8)((mg_i8)a_ & magnitude8), fb_ = (mg_f8)((mg_i8)b_ & magnitude8);       \
    const mg_f4 fa0_ = __builtin_shufflevector(fa_, fa_, 0, 1, 2, 3);                                  \
    const mg_f4 fa1_ = __builtin_shufflevector(fa_, fa_, 4, 5, 6, 7);                                  \
    const mg_f4 fb0_ = __builtin_shufflevector(fb_, fb_, 0, 1, 2, 3);                                  \
    const mg_f4 fb1_ = __builtin_shufflevector(fb_, fb_, 4, 5, 6, 7);                                  \
    most = mg_select4(fa0_ > most, fa0_, most);                                                        \
    most = mg_select4(fa1_ > most, fa1_, most);                                                        \
    most = mg_select4(fb0_ > most, fb0_, most);                                                        \
    most = mg_select4(fb1_ > most, fb1_, most);                                                        \
    mg_f8 ca_ = mg_select8(a_ > -limf, a_, -limf);                                                     \
    ca_ = mg_select8(ca_ < limf, ca_, limf);                                                           \
    mg_f8 cb_ = mg_select8(b_ > -limf, b_, -limf);                                                     \
    cb_ = mg_select8(cb_ < limf, cb_, limf);                                                           \
    ca_ = ca_ + mg_select8(ca_ < zerof, -nearHalf, nearHalf);                                          \
    cb_ = cb_ + mg_select8(cb_ < zerof, -nearHalf, nearHalf);                                          \
    mg_i8 tx_ = (int32_t)(x) + lane8 + __builtin_convertvector(ca_, mg_i8);                            \
    mg_i8 ty_ = (int32_t)y + __builtin_convertvector(cb_, mg_i8);                                      \
    tx_ = tx_ & ~(tx_ < 0);                                                                            \
    tx_ = (tx_ & (tx_ <= lastX8)) | (lastX8 & ~(tx_ <= lastX8));                                       \
    ty_ = ty_ & ~(ty_ < 0);                                                                            \
    ty_ = (ty_ & (ty_ <= lastY8)) | (lastY8 & ~(ty_ <= lastY8));                                       \
    *(mg_i8u *)(t + (x)) = ty_ * (int32_t)width + tx_;                                                 \
    const mg_i4 tx0_ = __builtin_shufflevector(tx_, tx_, 0, 1, 2, 3);                                  \
    const mg_i4 tx1_ = __builtin_shufflevector(tx_, tx_, 4, 5, 6, 7);                                  \
    const mg_i4 ty0_ = __builtin_shufflevector(ty_, ty_, 0, 1, 2, 3);                                  \
    const mg_i4 ty1_ = __builtin_shufflevector(ty_, ty_, 4, 5, 6, 7);                                  \
    loX = __builtin_elementwise_min(loX, __builtin_elementwise_min(tx0_, tx1_));                       \
    hiX = __builtin_elementwise_max(hiX, __builtin_elementwise_max(tx0_, tx1_));                       \
    loY = __builtin_elementwise_min(loY, __builtin_elementwise_min(ty0_, ty1_));                       \
    hiY = __builtin_elementwise_max(hiY, __builtin_elementwise_max(ty0_, ty1_));                       \
  } while (0)
#endif

static long MG_NAME(mg_motion_split)(const uint8_t *pairs, long width, long height, long columns,
                                     long blockWidth, long blockHeight, float *dx, float *dy, float *reach,
                                     int32_t *targets, int32_t *boxes) {
  const long rows = (height + blockHeight - 1) / blockHeight;
  const double limit = (double)(width > height ? width : height) + 1;
  for (long b = 0; b < columns * rows; b++) {
    reach[b] = 0;
    boxes[4 * b] = INT32_MAX;
    boxes[4 * b + 1] = -1;
    boxes[4 * b + 2] = INT32_MAX;
    boxes[4 * b + 3] = -1;
  }
  long bad = -1;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const mg_v4 zero = mg_splat(0.0), half = mg_splat(0.5), lim = mg_splat(limit);
  const mg_i4 exponent = {0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000};
  const mg_i4 magnitude = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
  const int32_t wx = (int32_t)width - 1, hy = (int32_t)height - 1;
  const mg_i4 lastX = {wx, wx, wx, wx}, lastY = {hy, hy, hy, hy};
  const float lf = (float)limit;
  const mg_f8 limf = {lf, lf, lf, lf, lf, lf, lf, lf}, zerof = {0, 0, 0, 0, 0, 0, 0, 0};
  const float p = 0x1.fffffep-2f;
  const mg_f8 nearHalf = {p, p, p, p, p, p, p, p};
  const mg_i8 exponent8 = {0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000,
                           0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000};
  const mg_i8 magnitude8 = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF,
                            0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
  const mg_i8 lane8 = {0, 1, 2, 3, 4, 5, 6, 7};
  const mg_i8 lastX8 = {wx, wx, wx, wx, wx, wx, wx, wx}, lastY8 = {hy, hy, hy, hy, hy, hy, hy, hy};
#endif
  for (long y = 0; y < height; y++) {
    float *out = reach + (y / blockHeight) * columns;
    const uint8_t *in = pairs + 8 * y * width;
    // dx and dy are written only when asked for (scoring needs the targets and reach alone).
    float *u = dx ? dx + y * width : 0, *v = dy ? dy + y * width : 0;
    int32_t *t = targets + y * width;
    int32_t *box = boxes + 4 * (y / blockHeight) * columns;
    for (long bx = 0; bx < columns; bx++, box += 4) {
      const long x0 = bx * blockWidth, x1 = x0 + blockWidth < width ? x0 + blockWidth : width;
      float m = out[bx];
      int nonFinite = 0;
      long x = x0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      mg_f4 most = {m, m, m, m};
      mg_i4 flags = {0, 0, 0, 0};
      mg_i4 loX = {box[0], box[0], box[0], box[0]}, hiX = {box[1], box[1], box[1], box[1]};
      mg_i4 loY = {box[2], box[2], box[2], box[2]}, hiY = {box[3], box[3], box[3], box[3]};
      for (; x + 8 <= x1; x += 8) MG_SPLIT_EIGHT(x);
      for (; x + 4 <= x1; x += 4) MG_SPLIT_FOUR(x);
      box[0] = __builtin_reduce_min(loX);
      box[1] = __builtin_reduce_max(hiX);
      box[2] = __builtin_reduce_min(loY);
      box[3] = __builtin_reduce_max(hiY);
      m = most[0] > m ? most[0] : m;
      m = most[1] > m ? most[1] : m;
      m = most[2] > m ? most[2] : m;
      m = most[3] > m ? most[3] : m;
      nonFinite = (flags[0] | flags[1] | flags[2] | flags[3]) != 0;
#endif
      for (; x < x1; x++) {
        // Little-endian float32 pairs, dx then dy, assembled from bytes.
        uint32_t bitsX = (uint32_t)in[8 * x] | (uint32_t)in[8 * x + 1] << 8 | (uint32_t)in[8 * x + 2] << 16 |
                         (uint32_t)in[8 * x + 3] << 24;
        uint32_t bitsY = (uint32_t)in[8 * x + 4] | (uint32_t)in[8 * x + 5] << 8 | (uint32_t)in[8 * x + 6] << 16 |
                         (uint32_t)in[8 * x + 7] << 24;
        float a, b;
        memcpy(&a, &bitsX, 4);
        memcpy(&b, &bitsY, 4);
        if (u) {
          u[x] = a;
          v[x] = b;
        }
        t[x] = mg_target(a, b, x, y, width, height, limit);
        const int32_t ty = t[x] / (int32_t)width, tx = t[x] - ty * (int32_t)width;
        box[0] = tx < box[0] ? tx : box[0];
        box[1] = tx > box[1] ? tx : box[1];
        box[2] = ty < box[2] ? ty : box[2];
        box[3] = ty > box[3] ? ty : box[3];
        // Exponent all ones: infinity or NaN.
        nonFinite |= ((bitsX & 0x7F800000u) == 0x7F800000u) | ((bitsY & 0x7F800000u) == 0x7F800000u);
        float fa = fabsf(a), fb = fabsf(b);
        m = fa > m ? fa : m;
        m = fb > m ? fb : m;
      }
      out[bx] = nonFinite ? INFINITY : m;
      if (nonFinite && bad < 0) {
        for (long k = x0; k < x1; k++) {
          if (!isfinite(mg_le_float(in + 8 * k)) || !isfinite(mg_le_float(in + 8 * k + 4))) {
            bad = y * width + k;
            break;
          }
        }
      }
    }
  }
  return bad;
}

#ifdef MG_SPLIT_FOUR
#undef MG_SPLIT_FOUR
#undef MG_SPLIT_EIGHT
#endif
