// Scoring's bookkeeping over blocks and rows in C: Conn's row segments, the blocks whose
// gradient can be non-zero, and the blocks MESSDdt must visit. Plain loops: what they save
// over Swift is bounds checks, array bookkeeping and closures per block.
#include "MatteKernels.h"


long mg_conn_segments(const uint16_t *p, const uint16_t *g, long w, long h, const uint8_t *qp, const uint8_t *qg,
                      const uint16_t *pLow, const uint16_t *pHigh, const uint16_t *gLow, const uint16_t *gHigh,
                      long columns, long blockWidth, long blockHeight, int32_t *start, int32_t *end, uint8_t *q,
                      int32_t *rowStart) {
  long count = 0;
  for (long y = 0; y < h; y++) {
    rowStart[y] = (int32_t)count;
    const uint16_t *pr = p + y * w, *gr = g + y * w;
    const long base = (y / blockHeight) * columns;
    unsigned current = 255;
    for (long bx = 0; bx < columns; bx++) {
      const long b = base + bx;
      const long x0 = bx * blockWidth, x1 = x0 + blockWidth < w ? x0 + blockWidth : w;
      // A block whose q is one value (q never falls as the code rises, so its lowest and
      // highest codes tell, in each matte) extends or starts one segment, its q from the
      // blocks' extremes: the pictures are not read there at all. That takes flat blocks, and
      // blocks whose codes wander within one tenth (an 8-bit output's ±1 around 0 or 1).
      if (qp[pLow[b]] == qp[pHigh[b]] && qg[gLow[b]] == qg[gHigh[b]]) {
        const uint8_t a = qp[pLow[b]], c = qg[gLow[b]];
        const unsigned v = a < c ? a : c;
        if (v == current) {
          end[count - 1] = (int32_t)x1;
        } else {
          start[count] = (int32_t)x0;
          end[count] = (int32_t)x1;
          q[count] = (uint8_t)v;
          count++;
          current = v;
        }
        continue;
      }
      for (long x = x0; x < x1; x++) {
        const uint8_t a = qp[pr[x]], c = qg[gr[x]];
        const unsigned v = a < c ? a : c;
        if (v == current) {
          end[count - 1] = (int32_t)(x + 1);
        } else {
          start[count] = (int32_t)x;
          end[count] = (int32_t)(x + 1);
          q[count] = (uint8_t)v;
          count++;
          current = v;
        }
      }
    }
  }
  rowStart[h] = (int32_t)count;
  return count;
}

void mg_gradient_active(const uint16_t *cellLow, const uint16_t *cellHigh, long cellColumns, long cellRows,
                        long columns, long rows, int32_t *scratch, uint8_t *active) {
  // Per cell row and block column: the constant every cell within one cell of the block's
  // columns holds, or −1.
  const long across = 4, down = 2;
  for (long cy = 0; cy < cellRows; cy++) {
    const uint16_t *lo = cellLow + cy * cellColumns, *hi = cellHigh + cy * cellColumns;
    for (long bx = 0; bx < columns; bx++) {
      const long first = bx * across - 1 > 0 ? bx * across - 1 : 0;
      const long last = bx * across + across < cellColumns - 1 ? bx * across + across : cellColumns - 1;
      int32_t v = lo[first] == hi[first] ? (int32_t)lo[first] : -1;
      for (long x = first + 1; v >= 0 && x <= last; x++)
        if (lo[x] != hi[x] || (int32_t)lo[x] != v) v = -1;
      scratch[cy * columns + bx] = v;
    }
  }
  for (long by = 0; by < rows; by++) {
    const long first = by * down - 1 > 0 ? by * down - 1 : 0;
    const long last = by * down + down < cellRows - 1 ? by * down + down : cellRows - 1;
    for (long bx = 0; bx < columns; bx++) {
      int32_t v = scratch[first * columns + bx];
      for (long y = first + 1; v >= 0 && y <= last; y++)
        if (scratch[y * columns + bx] != v) v = -1;
      active[by * columns + bx] = v < 0;
    }
  }
}

long mg_motion_blocks(const uint8_t *differs, const uint8_t *before, const int32_t *boxes, long columns, long rows,
                      long blockWidth, long blockHeight, int32_t *area, int32_t *out) {
  // Differing blocks of frame t counted over any rectangle of blocks in O(1).
  const long stride = columns + 1;
  for (long x = 0; x <= columns; x++) area[x] = 0;
  for (long by = 0; by < rows; by++) {
    area[(by + 1) * stride] = 0;
    for (long bx = 0; bx < columns; bx++)
      area[(by + 1) * stride + bx + 1] = (differs[by * columns + bx] ? 1 : 0) + area[by * stride + bx + 1] +
                                         area[(by + 1) * stride + bx] - area[by * stride + bx];
  }
  long n = 0;
  for (long b = 0; b < columns * rows; b++) {
    if (before && before[b]) {
      out[n++] = (int32_t)b;
      continue;
    }
    // The blocks of frame t the block's targets fall in: those of its targets' bounding box.
    const int32_t *box = boxes + 4 * b;
    const long c0 = box[0] / blockWidth, c1 = box[1] / blockWidth, r0 = box[2] / blockHeight,
               r1 = box[3] / blockHeight;
    const int32_t near = area[(r1 + 1) * stride + c1 + 1] - area[r0 * stride + c1 + 1] - area[(r1 + 1) * stride + c0] +
                         area[r0 * stride + c0];
    if (near > 0) out[n++] = (int32_t)b;
  }
  return n;
}
