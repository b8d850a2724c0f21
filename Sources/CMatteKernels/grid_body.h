// The body of BlockGrid's summary, included twice by GridKernels.c (baseline and AVX2). MG_NAME(x)
// names each build. A block's 16 columns are one vector of sixteen 16-bit lanes.

void MG_NAME(mg_block_grid)(const uint16_t *m, const uint16_t *other, long w, long h, const mg_grid_depths *depths,
                            uint16_t *cellLow, uint16_t *cellHigh, uint16_t *blockLow, uint16_t *blockHigh,
                            uint8_t *differs) {
  const long cc = (w + 3) / 4, cr = (h + 3) / 4, columns = (w + 15) / 16, rows = (h + 7) / 8;
  const long whole = w / 16;
  for (long b = 0; b < columns * rows; b++) {
    blockLow[b] = 0xFFFF;
    blockHigh[b] = 0;
  }
  if (other)
    for (long b = 0; b < columns * rows; b++) differs[b] = 0;
  for (long cy = 0; cy < cr; cy++) {
    const long y0 = cy * 4, n = h - y0 < 4 ? h - y0 : 4;
    const long by = y0 / 8;
    uint16_t *cl = cellLow + cy * cc, *ch = cellHigh + cy * cc;
    uint16_t *bl = blockLow + by * columns, *bh = blockHigh + by * columns;
    for (long bx = 0; bx < whole; bx++) {
      const long x0 = bx * 16;
      mg_u16x16 lo = *(const mg_u16x16u *)(m + y0 * w + x0), hi = lo, d = lo ^ lo;
      for (long r = 1; r < n; r++) {
        const mg_u16x16 v = *(const mg_u16x16u *)(m + (y0 + r) * w + x0);
        lo = __builtin_elementwise_min(lo, v);
        hi = __builtin_elementwise_max(hi, v);
      }
      if (other) {
        for (long r = 0; r < n; r++) {
          const long k = (y0 + r) * w + x0;
          const mg_u16x16 p = *(const mg_u16x16u *)(m + k), g = *(const mg_u16x16u *)(other + k);
          switch (depths->mode) {
          case 0:
            d |= p ^ g;
            break;
          case 1:
            // g's maximum is k times p's: p·k against g on 16 bits, all ones where p·k passes 16 bits.
            d |= ((p * depths->k) ^ g) | (mg_u16x16)(p > depths->limit);
            break;
          case 2:
            d |= ((g * depths->k) ^ p) | (mg_u16x16)(g > depths->limit);
            break;
          default:
            d |= __builtin_convertvector(__builtin_convertvector(p, mg_u32x16) * depths->gMax !=
                                             __builtin_convertvector(g, mg_u32x16) * depths->pMax,
                                         mg_u16x16);
          }
        }
        uint64_t q[4];
        __builtin_memcpy(q, &d, 32);
        if (q[0] | q[1] | q[2] | q[3]) differs[by * columns + bx] = 1;
      }
      // Each cell's four columns: neighbours, then pairs of neighbours.
      lo = __builtin_elementwise_min(lo, __builtin_shufflevector(lo, lo, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
      hi = __builtin_elementwise_max(hi, __builtin_shufflevector(hi, hi, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
      lo = __builtin_elementwise_min(lo, __builtin_shufflevector(lo, lo, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      hi = __builtin_elementwise_max(hi, __builtin_shufflevector(hi, hi, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      uint16_t l = 0xFFFF, u = 0;
      for (int c = 0; c < 4; c++) {
        cl[bx * 4 + c] = lo[4 * c];
        ch[bx * 4 + c] = hi[4 * c];
        l = lo[4 * c] < l ? lo[4 * c] : l;
        u = hi[4 * c] > u ? hi[4 * c] : u;
      }
      if (l < bl[bx]) bl[bx] = l;
      if (u > bh[bx]) bh[bx] = u;
    }
    // The last, narrower block: column by column.
    if (whole < columns) {
      const long bx = whole;
      int any = 0;
      for (long cx = whole * 4; cx < cc; cx++) {
        uint16_t l = 0xFFFF, u = 0;
        for (long x = cx * 4; x < cx * 4 + 4 && x < w; x++) {
          for (long r = 0; r < n; r++) {
            const long k = (y0 + r) * w + x;
            const uint16_t v = m[k];
            l = v < l ? v : l;
            u = v > u ? v : u;
            if (other) {
              const uint32_t a = (uint32_t)v * depths->gMax, b = (uint32_t)other[k] * depths->pMax;
              any |= a != b;
            }
          }
        }
        cl[cx] = l;
        ch[cx] = u;
        if (l < bl[bx]) bl[bx] = l;
        if (u > bh[bx]) bh[bx] = u;
      }
      if (other && any) differs[by * columns + bx] = 1;
    }
  }
}
