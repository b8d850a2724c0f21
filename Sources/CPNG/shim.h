#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
#include <png.h>
#include <zlib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Raw deflate (no zlib header, as ZIP stores it) of `n` bytes at `level` into `out`, which must
// hold cpng_deflate_bound(n) bytes. Returns the compressed size, or -1.
static inline unsigned long cpng_deflate_bound(unsigned long n) { return compressBound(n) + 64; }
static inline long cpng_deflate_raw(const unsigned char *in, unsigned long n, unsigned char *out,
                                    unsigned long capacity, int level) {
  z_stream s;
  memset(&s, 0, sizeof s);
  if (deflateInit2(&s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  s.next_in = (Bytef *)in;
  s.avail_in = (uInt)n;
  s.next_out = out;
  s.avail_out = (uInt)capacity;
  int r = deflate(&s, Z_FINISH);
  long size = (long)s.total_out;
  deflateEnd(&s);
  return r == Z_STREAM_END ? size : -1;
}

// zlib's CRC-32 (zlib comes with libpng), for checking ZIP entries quickly.
static inline unsigned long cpng_crc32(unsigned long crc, const unsigned char *buf, unsigned int len) {
  return crc32(crc, buf, len);
}

static inline png_uint_32 cpng_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 cpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 cpng_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 cpng_format_rgba(void) { return PNG_FORMAT_RGBA; }

struct cpng_error_state {
  jmp_buf jump;
  char message[200];
};

static void cpng_on_error(png_structp png, png_const_charp msg) {
  struct cpng_error_state *state = (struct cpng_error_state *)png_get_error_ptr(png);
  snprintf(state->message, sizeof state->message, "%s", msg);
  longjmp(state->jump, 1);
}

static void cpng_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

// Writes a PNG with libpng's full API, keeping the samples exactly: no gamma or sRGB chunk.
// channels: 1 (gray) or 3 (RGB); bit_depth: 8 or 16; rows are `stride` bytes apart and 16-bit
// samples are in the machine's byte order. Returns 0, or -1 with `error` filled in.
/* Writes a PNG of `pixels` to an open `file` (left open): gray, RGB or RGBA by `channels`. */
static inline int cpng_write_exact_to(FILE *file, unsigned width, unsigned height, int channels,
                                      int bit_depth, const unsigned char *pixels, size_t stride, int fast,
                                      char *error, size_t error_size) {
  struct cpng_error_state state;
  state.message[0] = 0;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, cpng_on_error, cpng_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    if (png) png_destroy_write_struct(&png, NULL);
    snprintf(error, error_size, "libpng could not allocate its structures");
    return -1;
  }
  if (setjmp(state.jump)) {
    png_destroy_write_struct(&png, &info);
    snprintf(error, error_size, "%s", state.message);
    return -1;
  }
  png_init_io(png, file);
  int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;
  png_set_IHDR(png, info, width, height, bit_depth, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (fast) {
    /* zlib level 1 and the Up filter only: several times faster than level 6 with adaptive
       filtering, for large pictures where a few percent of file size do not matter. */
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
  } else {
    png_set_compression_level(png, 6);
  }
  png_write_info(png, info);
  if (bit_depth == 16) {
    const unsigned short probe = 1;
    if (*(const unsigned char *)&probe == 1) png_set_swap(png);
  }
  for (unsigned y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static inline int cpng_write_exact(const char *path, unsigned width, unsigned height, int channels,
                                   int bit_depth, const unsigned char *pixels, size_t stride, int fast,
                                   char *error, size_t error_size) {
  FILE *file = fopen(path, "wb");
  if (!file) {
    snprintf(error, error_size, "cannot open for writing");
    return -1;
  }
  int r = cpng_write_exact_to(file, width, height, channels, bit_depth, pixels, stride, fast, error, error_size);
  if (fclose(file) != 0 && r == 0) {
    snprintf(error, error_size, "closing the file failed");
    return -1;
  }
  return r;
}

/* The same PNG in memory: on success *out holds *out_size bytes the caller frees with free(). */
static inline int cpng_encode_exact(unsigned width, unsigned height, int channels, int bit_depth,
                                    const unsigned char *pixels, size_t stride, int fast, unsigned char **out,
                                    size_t *out_size, char *error, size_t error_size) {
  char *buffer = NULL;
  size_t size = 0;
  FILE *file = open_memstream(&buffer, &size);
  if (!file) {
    snprintf(error, error_size, "cannot open a memory stream");
    return -1;
  }
  int r = cpng_write_exact_to(file, width, height, channels, bit_depth, pixels, stride, fast, error, error_size);
  if (fclose(file) != 0 && r == 0) {
    snprintf(error, error_size, "closing the memory stream failed");
    r = -1;
  }
  if (r != 0) {
    free(buffer);
    return r;
  }
  *out = (unsigned char *)buffer;
  *out_size = size;
  return 0;
}
#endif
