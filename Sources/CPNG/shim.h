#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
#include <png.h>

static inline int cpng_image_failed(png_imagep image) { return PNG_IMAGE_FAILED(*image); }
static inline png_uint_32 cpng_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 cpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 cpng_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 cpng_format_rgba(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 cpng_format_linear_y(void) { return PNG_FORMAT_LINEAR_Y; }
#endif
