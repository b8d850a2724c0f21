#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/sha.h>
#include <libavutil/hmac.h>
#include <libavutil/display.h>
#include <math.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <libswscale/swscale.h>

// Expression and function-like macros are not imported into Swift.
static inline int cffmpeg_averror(int errnum) { return AVERROR(errnum); }
static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cffmpeg_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_sws_flags_bicubic_accurate(void) {
  return SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;
}
// Flags for reading: bicubic with full-resolution chroma in and out (SIMD paths, exact per
// pixel, no accurate-rounding slow path).
static inline int cffmpeg_sws_flags_reader(void) {
  return SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;
}
// A scaler with slice threads (libswscale 6): sws_getCachedContext cannot set the thread count.
static inline struct SwsContext *cffmpeg_sws_threaded(int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                                                      enum AVPixelFormat df, int flags, int threads) {
  struct SwsContext *c = sws_alloc_context();
  if (!c) return NULL;
  av_opt_set_int(c, "srcw", sw, 0);
  av_opt_set_int(c, "srch", sh, 0);
  av_opt_set_int(c, "src_format", sf, 0);
  av_opt_set_int(c, "dstw", dw, 0);
  av_opt_set_int(c, "dsth", dh, 0);
  av_opt_set_int(c, "dst_format", df, 0);
  av_opt_set_int(c, "sws_flags", flags, 0);
  av_opt_set_int(c, "threads", threads, 0);
  if (sws_init_context(c, NULL, NULL) < 0) {
    sws_freeContext(c);
    return NULL;
  }
  return c;
}
// Hot per-row loops of plane extraction, in C with restrict so that they vectorise.
static inline void cffmpeg_widen_u8(const uint8_t *restrict src, int step, uint16_t *restrict dst, int n) {
  if (step == 1) {
    for (int i = 0; i < n; i++) dst[i] = src[i];
  } else {
    for (int i = 0; i < n; i++) dst[i] = src[i * step];
  }
}
// Limited-range 8-bit luma to 0…65535, round((y − 16) · 65535 / 219) clamped, in 16-bit
// arithmetic only (so it vectorises with SSE2): d · 299 + ((mulhi(d, 32315) + 1) >> 1).
// MediaIO checks it against the exact formula for all 256 codes before using it.
static inline void cffmpeg_expand_u8(const uint8_t *restrict src, int step, uint16_t *restrict dst, int n) {
  int i = 0;
#if defined(__SSE2__)
  if (step == 1) {
    const __m128i k16 = _mm_set1_epi8(16), k219 = _mm_set1_epi8((char)219), zero = _mm_setzero_si128();
    const __m128i kmul = _mm_set1_epi16((short)32315), k299 = _mm_set1_epi16(299), one = _mm_set1_epi16(1);
    for (; i + 16 <= n; i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(src + i));
      __m128i d = _mm_min_epu8(_mm_subs_epu8(v, k16), k219);
      __m128i lo = _mm_unpacklo_epi8(d, zero), hi = _mm_unpackhi_epi8(d, zero);
      __m128i rl = _mm_add_epi16(_mm_mullo_epi16(lo, k299),
                                 _mm_srli_epi16(_mm_add_epi16(_mm_mulhi_epu16(lo, kmul), one), 1));
      __m128i rh = _mm_add_epi16(_mm_mullo_epi16(hi, k299),
                                 _mm_srli_epi16(_mm_add_epi16(_mm_mulhi_epu16(hi, kmul), one), 1));
      _mm_storeu_si128((__m128i *)(dst + i), rl);
      _mm_storeu_si128((__m128i *)(dst + i + 8), rh);
    }
  }
#endif
  for (; i < n; i++) {
    uint8_t y = src[i * step];
    uint16_t d = y < 16 ? 0 : (uint16_t)(y - 16);
    d = d > 219 ? 219 : d;
    uint16_t hi = (uint16_t)(((uint32_t)d * 32315u) >> 16);
    dst[i] = (uint16_t)(d * 299u + ((hi + 1u) >> 1));
  }
}
static inline void cffmpeg_lookup_u8(const uint8_t *restrict src, int step, uint16_t *restrict dst, int n,
                                     const uint16_t *restrict table) {
  for (int i = 0; i < n; i++) dst[i] = table[src[i * step]];
}
static inline void cffmpeg_copy_u16le(const uint8_t *restrict src, int step, uint16_t *restrict dst, int n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (step == 2) {
    memcpy(dst, src, (size_t)n * 2);
    return;
  }
#endif
  for (int i = 0; i < n; i++) dst[i] = (uint16_t)(src[i * step] | (src[i * step + 1] << 8));
}
static inline int cffmpeg_sws_cs_601(void) { return SWS_CS_ITU601; }
static inline int cffmpeg_sws_cs_709(void) { return SWS_CS_ITU709; }
static inline int cffmpeg_sws_cs_2020(void) { return SWS_CS_BT2020; }
static inline int cffmpeg_sws_cs_fcc(void) { return SWS_CS_FCC; }
static inline int cffmpeg_sws_cs_240m(void) { return SWS_CS_SMPTE240M; }
static inline int cffmpeg_pix_fmt_flag_pal(void) { return AV_PIX_FMT_FLAG_PAL; }
// Rotation from the stream's display matrix in degrees counterclockwise, or NAN if none.
static inline double cffmpeg_stream_rotation(AVStream *st) {
  size_t size = 0;
  uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!m || size < 9 * sizeof(int32_t)) return NAN;
  return av_display_rotation_get((const int32_t *)m);
}
static inline int cffmpeg_pix_fmt_flag_alpha(void) { return AV_PIX_FMT_FLAG_ALPHA; }
static inline int cffmpeg_pix_fmt_flag_be(void) { return AV_PIX_FMT_FLAG_BE; }
static inline int cffmpeg_pix_fmt_flag_bitstream(void) { return AV_PIX_FMT_FLAG_BITSTREAM; }
static inline int cffmpeg_pix_fmt_flag_hwaccel(void) { return AV_PIX_FMT_FLAG_HWACCEL; }
static inline int cffmpeg_fmt_nofile(void) { return AVFMT_NOFILE; }
static inline int cffmpeg_fmt_globalheader(void) { return AVFMT_GLOBALHEADER; }
static inline int cffmpeg_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
static inline int cffmpeg_avio_flag_write(void) { return AVIO_FLAG_WRITE; }
static inline int cffmpeg_log_quiet(void) { return AV_LOG_QUIET; }
static inline int cffmpeg_log_error(void) { return AV_LOG_ERROR; }
static inline int cffmpeg_pix_fmt_flag_rgb(void) { return AV_PIX_FMT_FLAG_RGB; }
static inline int cffmpeg_pix_fmt_flag_planar(void) { return AV_PIX_FMT_FLAG_PLANAR; }
static inline int cffmpeg_fmt_flag_bitexact(void) { return AVFMT_FLAG_BITEXACT; }
static inline int cffmpeg_codec_flag_bitexact(void) { return AV_CODEC_FLAG_BITEXACT; }
/* Keeps frame-sized buffers on glibc's heap instead of fresh mmap regions (each first touch of a
   fresh page is a fault), and freed memory in the process for reuse. */
static inline void cffmpeg_keep_large_buffers_on_heap(void) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}
#endif
