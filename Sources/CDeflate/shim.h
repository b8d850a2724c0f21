#ifndef CDEFLATE_SHIM_H
#define CDEFLATE_SHIM_H
// libdeflate: whole-buffer DEFLATE decompression and CRC-32, several times faster than zlib's
// streaming inflate and crc32 on the motion-vector ZIPs mattegate reads every frame.
#include <libdeflate.h>
#endif
