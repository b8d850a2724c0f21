import CFFmpeg

/// Keeps large frame-sized buffers on the heap instead of fresh `mmap` regions.
///
/// Decoding and scoring allocate and free several frame-sized planes per frame. glibc serves
/// blocks above its mmap threshold with fresh mappings, and every first touch of their pages is a
/// page fault (`bench metrics --only derivation`: 64 000 minor faults without this, 16 000 with
/// it). Raising the threshold, and the trim threshold so freed memory is not handed straight
/// back, lets those planes be reused. Peak memory stays the same: as many planes are live at once.
public enum AllocatorTuning {
  public static func keepLargeBuffersOnTheHeap() {
    cffmpeg_keep_large_buffers_on_heap()
  }
}
