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
#include <libavutil/display.h>
#include <math.h>
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
static inline int cffmpeg_fmt_flag_bitexact(void) { return AVFMT_FLAG_BITEXACT; }
static inline int cffmpeg_codec_flag_bitexact(void) { return AV_CODEC_FLAG_BITEXACT; }
#endif
