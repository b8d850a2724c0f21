// BlockGrid's per-cell and per-block lowest and highest codes, and where two mattes differ, in
// one pass over the frame, built for the baseline instruction set and for AVX2 and chosen at run
// time (see include/MatteKernels.h).
#include "MatteKernels.h"

#include "vectors.h"

#define MG_BODY "grid_body.h"
#include "two_builds.h"

void mg_block_grid(const uint16_t *m, const uint16_t *other, long w, long h, const mg_grid_depths *depths,
                   uint16_t *cellLow, uint16_t *cellHigh, uint16_t *blockLow, uint16_t *blockHigh, uint8_t *differs) {
#if defined(__x86_64__)
  if (mg_has_avx2()) {
    mg_block_grid_avx2(m, other, w, h, depths, cellLow, cellHigh, blockLow, blockHigh, differs);
    return;
  }
#endif
  mg_block_grid_baseline(m, other, w, h, depths, cellLow, cellHigh, blockLow, blockHigh, differs);
}
