import CMatteKernels
public import Foundation

/// A dense motion field from frame t−1 to frame t: pixel (x, y) of frame t−1 moves to
/// (x + dx, y + dy) in frame t (the layout `mattegate score --motion` reads: H×W×2, dx then dy).
public struct MotionField: Sendable, Equatable {
  public var width: Int
  public var height: Int
  /// The vectors' components, row-major (both empty for a field read with `components: false`).
  public private(set) var dx: [Float]
  public private(set) var dy: [Float]
  /// Per block of `BlockGrid` (16×8 pixels), the largest |dx| or |dy| of its pixels (infinite
  /// where one is NaN): how far MESSDdt's targets can lie from the block. Made once per field,
  /// whichever arms it scores.
  public let blockReach: [Float]
  /// Per pixel, where MESSDdt looks in frame t: y·width + x of the pixel moved by its vector
  /// rounded to the nearest pixel (halves away from zero) and clamped to the frame. Made once
  /// per field, whichever arms it scores.
  public let targets: [Int32]
  /// Per block, the bounding box of its pixels' targets (lowest x, highest x, lowest y, highest
  /// y): the blocks of frame t a block's MESSDdt terms can read. Made with the targets.
  public let blockBoxes: [Int32]

  public init(width: Int, height: Int, dx: [Float], dy: [Float]) {
    precondition(dx.count == width * height && dy.count == width * height, "MotionField needs width*height vectors")
    self.width = width
    self.height = height
    self.dx = dx
    self.dy = dy
    let columns = (width + BlockGrid.blockWidth - 1) / BlockGrid.blockWidth
    let rows = (height + BlockGrid.blockHeight - 1) / BlockGrid.blockHeight
    var reach = [Float](repeating: 0, count: columns * rows)
    if !reach.isEmpty {
      dx.withUnsafeBufferPointer { x in
        dy.withUnsafeBufferPointer { y in
          reach.withUnsafeMutableBufferPointer {
            mg_motion_reach(
              x.baseAddress!, y.baseAddress!, width, height, columns, BlockGrid.blockWidth, BlockGrid.blockHeight,
              $0.baseAddress!)
          }
        }
      }
    }
    blockReach = reach
    targets = [Int32](unsafeUninitializedCapacity: width * height) { t, count in
      if width * height > 0 {
        dx.withUnsafeBufferPointer { x in
          dy.withUnsafeBufferPointer { y in
            mg_motion_targets(x.baseAddress!, y.baseAddress!, width, height, t.baseAddress!)
          }
        }
      }
      count = width * height
    }
    blockBoxes = Self.boxes(of: targets, width: width, height: height)
  }

  /// Each block's targets' bounding box, from the targets.
  public static func boxes(of targets: [Int32], width: Int, height: Int) -> [Int32] {
    let columns = (width + BlockGrid.blockWidth - 1) / BlockGrid.blockWidth
    let rows = (height + BlockGrid.blockHeight - 1) / BlockGrid.blockHeight
    return [Int32](unsafeUninitializedCapacity: 4 * columns * rows) { out, count in
      targets.withUnsafeBufferPointer { t in
        if columns * rows > 0 {
          mg_motion_boxes(
            t.baseAddress!, width, height, columns, BlockGrid.blockWidth, BlockGrid.blockHeight, out.baseAddress!)
        }
      }
      count = 4 * columns * rows
    }
  }

  /// A field whose reach per block and targets were made with it (by `mg_motion_split`).
  init(width: Int, height: Int, dx: [Float], dy: [Float], blockReach: [Float], targets: [Int32], blockBoxes: [Int32]) {
    self.width = width
    self.height = height
    self.dx = dx
    self.dy = dy
    self.blockReach = blockReach
    self.targets = targets
    self.blockBoxes = blockBoxes
  }

  /// Equal sizes and vectors; fields read without components compare by their targets and
  /// reach (all that is left of the vectors).
  public static func == (l: MotionField, r: MotionField) -> Bool {
    l.width == r.width && l.height == r.height && l.dx == r.dx && l.dy == r.dy && l.targets == r.targets
      && l.blockReach == r.blockReach
  }

  /// No motion anywhere.
  public static func zero(width: Int, height: Int) -> MotionField {
    MotionField(
      width: width, height: height, dx: .init(repeating: 0, count: width * height),
      dy: .init(repeating: 0, count: width * height))
  }
}

/// The temporal metrics of specs/metrics.md: dtSSD (RobustVideoMatting) and MESSDdt. Both
/// compare frame t with frame t−1 and are aggregated over the region mask of frame t−1; frame 0
/// has no predecessor and scores 0 (it still counts in the clip mean, as in RVM).
///
/// Not yet wired into clip scoring: issue 4 does that, with per-region pooling.
public enum TemporalMetrics {
  /// ((p_t − p_{t−1}) − (g_t − g_{t−1}))² per pixel, on values code / maxValue.
  public static func dtSSDMap(p: Matte, previousP: Matte, g: Matte, previousG: Matte) -> [Double] {
    ErrorMaps.checkSameSize(p, previousP)
    ErrorMaps.checkSameSize(p, g)
    ErrorMaps.checkSameSize(g, previousG)
    let ip = 1.0 / Double(p.maxValue)
    let ipp = 1.0 / Double(previousP.maxValue)
    let ig = 1.0 / Double(g.maxValue)
    let igp = 1.0 / Double(previousG.maxValue)
    var out = [Double](repeating: 0, count: p.pixelCount)
    for i in 0..<p.pixelCount {
      let dp = Double(p.codes[i]) * ip - Double(previousP.codes[i]) * ipp
      let dg = Double(g.codes[i]) * ig - Double(previousG.codes[i]) * igp
      out[i] = (dp - dg) * (dp - dg)
    }
    return out
  }

  /// dtSSD of one frame: √(Σ map / N) over the mask (every pixel without one); `nil` for an
  /// empty mask.
  public static func dtSSD(map: [Double], mask: [Bool]? = nil) -> Double? {
    dtSSD(masked(map, mask))
  }

  /// dtSSD from a masked sum of the map: √(sum / pixels), `nil` without pixels.
  public static func dtSSD(_ s: (sum: Double, pixels: Int)) -> Double? {
    s.pixels == 0 ? nil : (s.sum / Double(s.pixels)).squareRoot()
  }

  /// |E_{t−1}(x) − E_t(x + v(x))| per pixel x of frame t−1, E = (p − g)², v rounded to the
  /// nearest pixel (halves away from zero) and the target clamped to the frame.
  public static func messddtMap(
    p: Matte, previousP: Matte, g: Matte, previousG: Matte, motion: MotionField
  ) -> [Double] {
    ErrorMaps.checkSameSize(p, previousP)
    precondition(motion.width == p.width && motion.height == p.height, "motion field differs in size")
    let now = ErrorMaps.squaredDifference(p, g)
    let before = ErrorMaps.squaredDifference(previousP, previousG)
    let w = p.width
    let h = p.height
    var out = [Double](repeating: 0, count: p.pixelCount)
    for y in 0..<h {
      for x in 0..<w {
        let i = y * w + x
        let tx = min(max(x + Int(Double(motion.dx[i]).rounded()), 0), w - 1)
        let ty = min(max(y + Int(Double(motion.dy[i]).rounded()), 0), h - 1)
        out[i] = abs(before[i] - now[ty * w + tx])
      }
    }
    return out
  }

  /// MESSDdt of one frame on mattegate's scale: the mean of the map over the mask, ×1e3;
  /// `nil` for an empty mask.
  public static func messddt(map: [Double], mask: [Bool]? = nil) -> Double? {
    messddt(masked(map, mask))
  }

  /// MESSDdt from a masked sum of the map: sum / pixels ×1e3, `nil` without pixels.
  public static func messddt(_ s: (sum: Double, pixels: Int)) -> Double? {
    s.pixels == 0 ? nil : s.sum / Double(s.pixels) * 1e3
  }

  /// Σ map over the mask (every pixel without one) and the pixel count.
  static func masked(_ map: [Double], _ mask: [Bool]?) -> (sum: Double, pixels: Int) {
    var sum = 0.0
    var n = 0
    for i in map.indices where mask?[i] ?? true {
      sum += map[i]
      n += 1
    }
    return (sum, n)
  }
}

/// Why bytes are not a motion field.
public struct NpyError: Error, Sendable, CustomStringConvertible {
  public var reason: String
  public var description: String { reason }
}

extension MotionField {
  /// The field as a NumPy `.npy` (version 1.0): shape (height, width, 2), little-endian float32,
  /// dx then dy per pixel, C order.
  public func npyData() -> Data {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(height), \(width), 2), }"
    // Magic (6) + version (2) + length (2) + header + '\n' padded to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(header.utf8.count)
    bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
    bytes += Array(header.utf8)
    let headerCount = bytes.count
    let count = width * height
    bytes += [UInt8](repeating: 0, count: count * 8)
    bytes.withUnsafeMutableBytes { raw in
      let out = raw.baseAddress! + headerCount
      for i in 0..<count {
        out.storeBytes(of: dx[i].bitPattern.littleEndian, toByteOffset: i * 8, as: UInt32.self)
        out.storeBytes(of: dy[i].bitPattern.littleEndian, toByteOffset: i * 8 + 4, as: UInt32.self)
      }
    }
    return Data(bytes)
  }

  /// Reads a `.npy` of shape (height, width, 2), little-endian float32, C order.
  public init(npy bytes: [UInt8], width: Int, height: Int) throws(NpyError) {
    try self.init(npy: Data(bytes), width: width, height: height)
  }

  /// Reads a `.npy` of shape (height, width, 2), little-endian float32, C order, from the
  /// bytes as read (no copy of the 8·W·H data bytes first).
  public init(npy data: Data, width: Int, height: Int) throws(NpyError) {
    let parsed = data.withUnsafeBytes { raw in Result { () throws(NpyError) in try Self.parse(raw, width, height) } }
    self = try parsed.get()
  }

  /// Reads a `.npy` of shape (height, width, 2), little-endian float32, C order, from bytes in
  /// memory (a buffer the caller reuses from field to field).
  /// With `components: false`, `dx` and `dy` are left empty: what scoring reads (each pixel's
  /// MESSDdt target and each block's reach) is made all the same, without writing 8·W·H bytes
  /// a frame that nothing reads.
  public init(npy bytes: UnsafeRawBufferPointer, width: Int, height: Int, components: Bool = true) throws(NpyError) {
    self = try Self.parse(bytes, width, height, components: components)
  }

  private static func parse(
    _ bytes: UnsafeRawBufferPointer, _ width: Int, _ height: Int, components: Bool = true
  ) throws(NpyError) -> MotionField {
    guard bytes.count > 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
      throw NpyError(reason: "not a .npy file")
    }
    let major = bytes[6]
    let headerLength: Int
    let start: Int
    if major == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      start = 10
    } else {
      guard bytes.count > 12 else { throw NpyError(reason: "truncated header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      start = 12
    }
    guard bytes.count >= start + headerLength else { throw NpyError(reason: "truncated header") }
    let header = String(decoding: bytes[start..<start + headerLength], as: UTF8.self)
    let expectedShape = "(\(height), \(width), 2)"
    guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"),
      header.contains("'shape': \(expectedShape)")
    else {
      throw NpyError(reason: "expected little-endian float32 of shape \(expectedShape), C order; header says \(header)")
    }
    let n = width * height
    let body = start + headerLength
    guard bytes.count == body + n * 8 else {
      throw NpyError(reason: "\(bytes.count - body) data bytes, expected \(n * 8)")
    }
    // One pass: both components out of the interleaved pairs, each block's reach, and the
    // first vector that is not finite.
    let columns = (width + BlockGrid.blockWidth - 1) / BlockGrid.blockWidth
    let rows = (height + BlockGrid.blockHeight - 1) / BlockGrid.blockHeight
    var bad = -1
    var dy: [Float] = []
    var reach: [Float] = []
    var targets: [Int32] = []
    var boxes = [Int32](repeating: 0, count: 4 * columns * rows)
    let kept = components ? n : 0
    let dx = [Float](unsafeUninitializedCapacity: kept) { xs, xCount in
      dy = [Float](unsafeUninitializedCapacity: kept) { ys, yCount in
        reach = [Float](unsafeUninitializedCapacity: columns * rows) { r, rCount in
          targets = [Int32](unsafeUninitializedCapacity: n) { t, tCount in
            if n > 0 {
              bad = mg_motion_split(
                (bytes.baseAddress! + body).assumingMemoryBound(to: UInt8.self), width, height, columns,
                BlockGrid.blockWidth, BlockGrid.blockHeight, components ? xs.baseAddress! : nil,
                components ? ys.baseAddress! : nil, r.baseAddress!, t.baseAddress!, &boxes)
            }
            tCount = n
          }
          rCount = columns * rows
        }
        yCount = kept
      }
      xCount = kept
    }
    // A vector of NaN or infinity moves a pixel nowhere: refused rather than guessed.
    if bad >= 0 {
      func component(_ k: Int) -> Float {
        Float(bitPattern: bytes.loadUnaligned(fromByteOffset: body + 8 * bad + 4 * k, as: UInt32.self).littleEndian)
      }
      throw NpyError(
        reason: "the vector at x \(bad % width), y \(bad / width) is not finite (\(component(0)), \(component(1)))")
    }
    return MotionField(
      width: width, height: height, dx: dx, dy: dy, blockReach: reach, targets: targets, blockBoxes: boxes)
  }
}
