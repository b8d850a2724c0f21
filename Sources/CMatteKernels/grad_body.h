// The bodies of the Grad passes, included twice by GradKernels.c: once for the baseline
// instruction set and once under an AVX2 target attribute. MG_NAME(x) names each build.
// Sums follow Grad.smoothed / Grad.differentiated term by term; contraction into fused
// multiply-adds is off (vectors.h), so both builds give the Swift reference's values.

void MG_NAME(mg_grad_rows)(const double *x, long xStride, long rows, long count, double *smooth, double *deriv,
                           long outStride, const double *g, const double *d) {
  const mg_v4 g0 = mg_splat(g[0]), g1 = mg_splat(g[1]), g2 = mg_splat(g[2]), g3 = mg_splat(g[3]),
              g4 = mg_splat(g[4]);
  const mg_v4 d0 = mg_splat(d[0]), d1 = mg_splat(d[1]), d2 = mg_splat(d[2]), d3 = mg_splat(d[3]);
  for (long r = 0; r < rows; r++) {
    const double *v = x + r * xStride;
    double *so = smooth + r * outStride;
    double *de = deriv + r * outStride;
    long c = 0;
    for (; c + 4 <= count; c += 4) {
      const double *p = v + c;
      mg_v4 v0 = mg_load(p), v1 = mg_load(p + 1), v2 = mg_load(p + 2), v3 = mg_load(p + 3), v4 = mg_load(p + 4),
            v5 = mg_load(p + 5), v6 = mg_load(p + 6), v7 = mg_load(p + 7), v8 = mg_load(p + 8);
      mg_v4 s = g0 * v4;
      s = s + g1 * (v3 + v5);
      s = s + g2 * (v2 + v6);
      s = s + g3 * (v1 + v7);
      s = s + g4 * (v0 + v8);
      mg_v4 t = d0 * (v0 - v8);
      t = t + d1 * (v1 - v7);
      t = t + d2 * (v2 - v6);
      t = t + d3 * (v3 - v5);
      mg_store(so + c, s);
      mg_store(de + c, t);
    }
    for (; c < count; c++) {
      const double *p = v + c;
      double s = g[0] * p[4];
      s = s + g[1] * (p[3] + p[5]);
      s = s + g[2] * (p[2] + p[6]);
      s = s + g[3] * (p[1] + p[7]);
      s = s + g[4] * (p[0] + p[8]);
      double t = d[0] * (p[0] - p[8]);
      t = t + d[1] * (p[1] - p[7]);
      t = t + d[2] * (p[2] - p[6]);
      t = t + d[3] * (p[3] - p[5]);
      so[c] = s;
      de[c] = t;
    }
  }
}

void MG_NAME(mg_grad_columns)(const double *smooth, const double *deriv, long stride, long rows, long count,
                              double *out, long outStride, const double *g, const double *d) {
  const mg_v4 g0 = mg_splat(g[0]), g1 = mg_splat(g[1]), g2 = mg_splat(g[2]), g3 = mg_splat(g[3]),
              g4 = mg_splat(g[4]);
  const mg_v4 d0 = mg_splat(d[0]), d1 = mg_splat(d[1]), d2 = mg_splat(d[2]), d3 = mg_splat(d[3]);
  for (long r = 0; r < rows; r++) {
    const double *sm = smooth + r * stride;
    const double *de = deriv + r * stride;
    double *o = out + r * outStride;
    long c = 0;
    for (; c + 4 <= count; c += 4) {
      const double *q = de + c;
      mg_v4 gx = g0 * mg_load(q + 4 * stride);
      gx = gx + g1 * (mg_load(q + 3 * stride) + mg_load(q + 5 * stride));
      gx = gx + g2 * (mg_load(q + 2 * stride) + mg_load(q + 6 * stride));
      gx = gx + g3 * (mg_load(q + 1 * stride) + mg_load(q + 7 * stride));
      gx = gx + g4 * (mg_load(q) + mg_load(q + 8 * stride));
      const double *p = sm + c;
      mg_v4 gy = d0 * (mg_load(p) - mg_load(p + 8 * stride));
      gy = gy + d1 * (mg_load(p + 1 * stride) - mg_load(p + 7 * stride));
      gy = gy + d2 * (mg_load(p + 2 * stride) - mg_load(p + 6 * stride));
      gy = gy + d3 * (mg_load(p + 3 * stride) - mg_load(p + 5 * stride));
      mg_store(o + c, mg_sqrt(gx * gx + gy * gy));
    }
    for (; c < count; c++) {
      const double *q = de + c;
      double gx = g[0] * q[4 * stride];
      gx = gx + g[1] * (q[3 * stride] + q[5 * stride]);
      gx = gx + g[2] * (q[2 * stride] + q[6 * stride]);
      gx = gx + g[3] * (q[1 * stride] + q[7 * stride]);
      gx = gx + g[4] * (q[0] + q[8 * stride]);
      const double *p = sm + c;
      double gy = d[0] * (p[0] - p[8 * stride]);
      gy = gy + d[1] * (p[1 * stride] - p[7 * stride]);
      gy = gy + d[2] * (p[2 * stride] - p[6 * stride]);
      gy = gy + d[3] * (p[3 * stride] - p[5 * stride]);
      o[c] = __builtin_sqrt(gx * gx + gy * gy);
    }
  }
}
