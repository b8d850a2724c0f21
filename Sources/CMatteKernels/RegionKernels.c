// Region derivation's window ranges in C: loops over contiguous samples the compiler vectorises.
#include "MatteKernels.h"

void mg_row_range(const uint16_t *row, long width, long start, long count, long radius, uint16_t *lows,
                  uint16_t *highs) {
  const long end = start + count;
  for (long x = start; x < end; x++) {
    lows[x] = row[x];
    highs[x] = row[x];
  }
  // Pixels whose whole window lies in the row, then the rest, whose window is cut to the row.
  const long a = start > radius ? start : radius;
  const long b = end < width - radius ? end : width - radius;
  for (long d = 1; d <= radius; d++) {
    for (long x = a; x < b; x++) {
      const uint16_t l = row[x - d] < row[x + d] ? row[x - d] : row[x + d];
      const uint16_t h = row[x - d] > row[x + d] ? row[x - d] : row[x + d];
      lows[x] = l < lows[x] ? l : lows[x];
      highs[x] = h > highs[x] ? h : highs[x];
    }
  }
  for (long x = start; x < end; x++) {
    if (x >= a && x < b) {
      x = b - 1;
      continue;
    }
    const long x0 = x - radius > 0 ? x - radius : 0, x1 = x + radius < width - 1 ? x + radius : width - 1;
    for (long k = x0; k <= x1; k++) {
      lows[x] = row[k] < lows[x] ? row[k] : lows[x];
      highs[x] = row[k] > highs[x] ? row[k] : highs[x];
    }
  }
}

