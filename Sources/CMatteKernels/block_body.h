// The bodies of FrameScorer's block kernels, included twice by BlockKernels.c (baseline and
// AVX2). MG_NAME(x) names each build. Sixteen pixels a row as four vectors of four doubles;
// every lane computes the scalar definition, and the sums are taken in one fixed order, so both
// builds give the same values.

void MG_NAME(mg_block_spatial)(const uint16_t *p, const uint16_t *g, long stride, long rows, const uint8_t *levels,
                               const double *pMagnitude, const double *gMagnitude, const uint8_t *bits,
                               const mg_block_constants *c, double *byPattern) {
  const mg_v4 zero = mg_splat(0.0), one = mg_splat(1.0), twenty = mg_splat(20.0), two = mg_splat(2.0),
              three = mg_splat(3.0);
  const mg_v4 pm = mg_splat(c->pMax), gm = mg_splat(c->gMax), ip = mg_splat(c->ip), ig = mg_splat(c->ig);
  for (long r = 0; r < rows; r++) {
    const uint16_t *pr = p + r * stride;
    const uint16_t *gr = g + r * stride;
    const uint8_t *br = bits + r * stride;
    mg_v4 ad[4], sq[4], ge[4], ce[4];
    for (int q = 0; q < 4; q++) {
      ad[q] = zero;
      sq[q] = zero;
      ce[q] = zero;
      if (levels) {
        const uint8_t *lr = levels + r * stride + 4 * q;
        const mg_v4 pc = mg_load_u16(pr + 4 * q), gc = mg_load_u16(gr + 4 * q);
        const mg_m4 equal = pc * gm == gc * pm;
        const mg_v4 pv = pc * ip, gv = gc * ig;
        const mg_v4 d = mg_select(equal, zero, pv - gv);
        ad[q] = mg_select(d < zero, -d, d);
        sq[q] = d * d;
        const mg_v4 l = mg_load_u8(lr);
        const mg_v4 t = {c->tenths[lr[0]], c->tenths[lr[1]], c->tenths[lr[2]], c->tenths[lr[3]]};
        const mg_v4 phiG = mg_select(twenty * gc >= (two * l + three) * gm, one - (gv - t), one);
        const mg_v4 phiP = mg_select(twenty * pc >= (two * l + three) * pm, one - (pv - t), one);
        const mg_v4 e = phiG - phiP;
        ce[q] = mg_select(equal, zero, mg_select(e < zero, -e, e));
      }
      mg_v4 e = zero;
      if (pMagnitude) e = mg_load(pMagnitude + r * 16 + 4 * q);
      if (gMagnitude) e = e - mg_load(gMagnitude + r * 16 + 4 * q);
      ge[q] = e * e;
    }
    if (mg_uniform16(br)) {
      double *o = byPattern + 4 * (long)br[0];
      o[0] += mg_sum(ad);
      o[1] += mg_sum(sq);
      o[2] += mg_sum(ge);
      o[3] += mg_sum(ce);
      continue;
    }
    for (int i = 0; i < 16; i++) {
      double *o = byPattern + 4 * (long)br[i];
      o[0] += ad[i / 4][i % 4];
      o[1] += sq[i / 4][i % 4];
      o[2] += ge[i / 4][i % 4];
      o[3] += ce[i / 4][i % 4];
    }
  }
}

void MG_NAME(mg_block_temporal)(const uint16_t *p, const uint16_t *g, const uint16_t *previousP,
                                const uint16_t *previousG, long stride, long rows, const uint8_t *bits,
                                const mg_block_constants *c, double *byPattern) {
  const mg_v4 ip = mg_splat(c->ip), ig = mg_splat(c->ig), ipp = mg_splat(c->ipp), igp = mg_splat(c->igp);
  for (long r = 0; r < rows; r++) {
    const long o = r * stride;
    const uint8_t *br = bits + o;
    mg_v4 dd[4];
    for (int q = 0; q < 4; q++) {
      const long k = o + 4 * q;
      const mg_v4 v = (mg_load_u16(p + k) * ip - mg_load_u16(previousP + k) * ipp) -
                      (mg_load_u16(g + k) * ig - mg_load_u16(previousG + k) * igp);
      dd[q] = v * v;
    }
    if (mg_uniform16(br)) {
      byPattern[br[0]] += mg_sum(dd);
      continue;
    }
    for (int i = 0; i < 16; i++) byPattern[br[i]] += dd[i / 4][i % 4];
  }
}
