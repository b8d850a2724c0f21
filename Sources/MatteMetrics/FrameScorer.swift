import CMatteKernels

/// Error totals of one frame (or a whole clip) for every region × metric, on the raw scale.
public struct ErrorTotals: Sendable, Equatable {
  /// Σ error per `[region][metric]`, indexed by `allCases` order.
  public var sums: [[Double]]
  /// Pixels each sum is over, per `[region][metric]` (temporal metrics: pixels of the region
  /// mask of frame t − 1).
  public var pixels: [[Int]]
  /// Frames that contributed to each sum (a region with no pixels in a frame contributes none).
  public var frames: [[Int]]

  public init() {
    let row = Array(repeating: 0.0, count: MetricKind.allCases.count)
    sums = Array(repeating: row, count: RegionKind.allCases.count)
    pixels = Array(repeating: Array(repeating: 0, count: row.count), count: sums.count)
    frames = pixels
  }

  static func index(_ r: RegionKind) -> Int { Int(r.bit.trailingZeroBitCount) }
  static func index(_ m: MetricKind) -> Int { MetricKind.allCases.firstIndex(of: m)! }

  public func sum(_ region: RegionKind, _ metric: MetricKind) -> Double {
    sums[Self.index(region)][Self.index(metric)]
  }

  public func pixels(_ region: RegionKind, _ metric: MetricKind) -> Int {
    pixels[Self.index(region)][Self.index(metric)]
  }

  public func frames(_ region: RegionKind, _ metric: MetricKind) -> Int {
    frames[Self.index(region)][Self.index(metric)]
  }

  /// The region's spatial support: pixels and frames of the spatial metrics.
  public func pixels(_ region: RegionKind) -> Int { pixels(region, .sad) }
  public func frames(_ region: RegionKind) -> Int { frames(region, .sad) }

  /// Records one frame's sum of `metric` over `pixels` pixels of `region`.
  public mutating func record(_ region: RegionKind, _ metric: MetricKind, sum: Double, pixels n: Int) {
    let r = Self.index(region)
    let m = Self.index(metric)
    sums[r][m] += sum
    pixels[r][m] += n
    frames[r][m] += n > 0 ? 1 : 0
  }

  /// The pooled value on the reported scale (specs/metrics.md, trap 6): total error over total
  /// region pixels for means (MAD, MSE, MESSDdt; dtSSD is the root of that), total error over
  /// frames with support for sums (SAD, Grad, Conn). `nil` without support.
  public func value(_ region: RegionKind, _ metric: MetricKind) -> Double? {
    let r = Self.index(region)
    let m = Self.index(metric)
    return metric.reportedValue(sum: sums[r][m], pixels: pixels[r][m], frames: frames[r][m])
  }

  /// Adds another frame's (or clip's) totals.
  public mutating func add(_ other: ErrorTotals) {
    for r in 0..<sums.count {
      for m in 0..<sums[r].count {
        sums[r][m] += other.sums[r][m]
        pixels[r][m] += other.pixels[r][m]
        frames[r][m] += other.frames[r][m]
      }
    }
  }
}

/// A ground-truth frame with what every arm's scoring shares: its regions (derived once, for
/// both arms), block summary and gradient magnitude.
public struct PreparedTruth: Sendable {
  public let matte: Matte
  public let regions: RegionMap
  /// Pixels of each region, in `RegionKind.allCases` order.
  public let support: [Int]
  let grid: BlockGrid
  let gradient: SparseMagnitude

  /// Prepares `matte` with regions derived from it (and from the previous frame's truth for the
  /// motion region); a clip's own masks (transition, hair, glass, motion) win over derived ones.
  public init(
    _ matte: Matte, previous: PreparedTruth? = nil, masks: [RegionKind: [Bool]] = [:],
    deriver: RegionDeriver = RegionDeriver()
  ) {
    let grid = BlockGrid(matte)
    let regions = deriver.regions(
      truth: matte, grid: grid, previous: previous.map { ($0.matte, $0.grid) }, masks: masks)
    self.init(matte, regions: regions, grid: grid)
  }

  /// Prepares `matte` with regions derived from it, whose hair and glass regions are replaced
  /// by a clip's own masks carried as bits of one code plane (a region-mask video's frame):
  /// a pixel is in `hair` where `codes & hair != 0`, in `glass` where `codes & glass != 0`, in
  /// `motion` where `codes & motion != 0`; a code of 0 leaves that region derived.
  /// The same regions as passing both masks as `[Bool]`, in one pass. Without codes, every
  /// region is derived.
  public init(
    _ matte: Matte, previous: PreparedTruth? = nil, maskCodes codes: [UInt16]?, hair: UInt16, glass: UInt16,
    motion: UInt16 = 0, deriver: RegionDeriver = RegionDeriver()
  ) {
    let grid = BlockGrid(matte)
    let regions = deriver.regions(
      truth: matte, grid: grid, previous: previous.map { ($0.matte, $0.grid) }, masks: [:],
      maskCodes: codes.map { ($0, hair, glass, motion) })
    self.init(matte, regions: regions, grid: grid)
  }

  /// Prepares `matte` with given regions.
  public init(_ matte: Matte, regions: RegionMap) {
    self.init(matte, regions: regions, grid: BlockGrid(matte))
  }

  init(_ matte: Matte, regions: RegionMap, grid: BlockGrid) {
    precondition(regions.width == matte.width && regions.height == matte.height, "regions differ in size")
    self.matte = matte
    self.regions = regions
    self.grid = grid
    gradient = SparseMagnitude(matte, grid: grid)
    support = regions.supports()
  }
}

/// The 16×8 blocks where a prediction differs in value from its ground truth.
public struct DifferingBlocks: Sendable {
  let flags: [Bool]
}

/// Scores one predicted frame against ground truth.
public enum FrameScorer {
  /// How many visited blocks ahead the scoring loop prefetches.
  static let prefetchDistance = 2

  /// Scores `p` against `g` with the given regions (no temporal metrics).
  public static func score(prediction p: Matte, truth g: Matte, regions: RegionMap) -> ErrorTotals {
    score(prediction: p, truth: PreparedTruth(g, regions: regions))
  }

  /// Every metric of one frame, per region: SAD, MAD, MSE, Grad and Conn on the regions of
  /// frame t; with the previous frame's prediction and truth, dtSSD on the regions of frame
  /// t − 1; with a motion field as well, MESSDdt. Error maps are on the whole frame (Grad's
  /// min–max and Conn's components see every pixel) and summed over each region.
  public static func score(
    prediction p: Matte, truth: PreparedTruth, previous: (prediction: Matte, truth: PreparedTruth)? = nil,
    motion: MotionField? = nil
  ) -> ErrorTotals {
    scoreKeepingBlocks(prediction: p, truth: truth, previous: previous, motion: motion).totals
  }

  /// `score`, also returning the blocks where this prediction differs from its truth, which the
  /// next frame's scoring needs for its temporal metrics: passed back as `previousBlocks` with
  /// the same previous prediction and truth, they are not found again.
  /// The blocks whose pixels can add to MESSDdt: |E′(x) − E(x + v(x))| is 0 where frame t−1
  /// equals its truth at x (`before` clear) and frame t equals its truth at the target, which
  /// lies in the bounding box of the block's targets (`boxes`, `MotionField.blockBoxes`); so a
  /// block is kept when `before` is set or a differing block of frame t touches that box.
  static func motionBlocks(
    grid: BlockGrid, differs: [Bool], before: [Bool], boxes: [Int32]
  ) -> [Int32] {
    precondition(boxes.count == 4 * grid.count, "motion boxes differ from the block grid")
    precondition(differs.count == grid.count && (before.isEmpty || before.count == grid.count))
    // In C: differing blocks of frame t counted over any rectangle of blocks in O(1), then each
    // block's rectangle within its reach.
    var area = [Int32](repeating: 0, count: (grid.rows + 1) * (grid.columns + 1))
    return [Int32](unsafeUninitializedCapacity: grid.count) { out, n in
      differs.withUnsafeBufferPointer { d in
        before.withUnsafeBufferPointer { b in
          boxes.withUnsafeBufferPointer { r in
            d.withMemoryRebound(to: UInt8.self) { d in
              b.withMemoryRebound(to: UInt8.self) { b in
                n =
                  grid.count == 0
                  ? 0
                  : mg_motion_blocks(
                    d.baseAddress!, before.isEmpty ? nil : b.baseAddress!, r.baseAddress!, grid.columns, grid.rows,
                    BlockGrid.blockWidth, BlockGrid.blockHeight, &area, out.baseAddress!)
              }
            }
          }
        }
      }
    }
  }

  public static func scoreKeepingBlocks(
    prediction p: Matte, truth: PreparedTruth, previous: (prediction: Matte, truth: PreparedTruth)? = nil,
    previousBlocks: DifferingBlocks? = nil, motion: MotionField? = nil
  ) -> (totals: ErrorTotals, blocks: DifferingBlocks) {
    let g = truth.matte
    ErrorMaps.checkSameSize(p, g)
    let grid = truth.grid
    let pGrid = BlockGrid(p, comparedWith: g)
    let differs = pGrid.differing
    if let previous {
      ErrorMaps.checkSameSize(previous.prediction, p)
      ErrorMaps.checkSameSize(previous.truth.matte, g)
    }
    let before = previous.map { previous in
      previousBlocks.map(\.flags) ?? BlockGrid.differing(previous.prediction, previous.truth.matte)
    }
    let pMagnitude = SparseMagnitude(p, grid: pGrid)
    let gMagnitude = truth.gradient
    // Conn's levels are read only where the codes differ in value (below).
    let levels = SegmentLevels(
      p, g, pGrid: pGrid, gGrid: grid,
      foldTen: SegmentLevels.levelTenIsUnused(p, g, pGrid: pGrid, gGrid: grid))

    let metrics = MetricKind.allCases.count
    let (sad, mse, gradIndex, conn, dt) = (
      ErrorTotals.index(.sad), ErrorTotals.index(.mse), ErrorTotals.index(.grad), ErrorTotals.index(.conn),
      ErrorTotals.index(.dtssd)
    )
    var acc = [Double](repeating: 0, count: RegionKind.allCases.count * metrics)
    let w = p.width
    let (pm, gm) = (p.maxValue, g.maxValue)
    let (ip, ig) = (1.0 / Double(pm), 1.0 / Double(gm))
    let pp = previous?.prediction
    let gp = previous?.truth.matte
    let ipp = 1.0 / Double(pp?.maxValue ?? 1)
    let igp = 1.0 / Double(gp?.maxValue ?? 1)
    let bitsNow = truth.regions.bits
    let bitsBefore = previous?.truth.regions.bits
    // Conn's levels of the block row being scored, whole rows at once: filled from the
    // segments when the row's first differing block comes up.
    var rowLevels = [UInt8](repeating: 0, count: BlockGrid.blockHeight * w)
    var levelsRow = -1
    let stride = BlockGrid.blockWidth
    let byPattern = UnsafeMutablePointer<Double>.allocate(capacity: 256 * 4)
    let dtByPattern = UnsafeMutablePointer<Double>.allocate(capacity: 256)
    byPattern.initialize(repeating: 0, count: 256 * 4)
    dtByPattern.initialize(repeating: 0, count: 256)
    defer {
      byPattern.deallocate()
      dtByPattern.deallocate()
    }
    let temporal = previous != nil
    var constants = mg_block_constants(
      pMax: Double(pm), gMax: Double(gm), ip: ip, ig: ig, ipp: ipp, igp: igp, tenths: Conn.tenthsPointer)
    let noCodes: [UInt16] = []
    let noBits: [UInt8] = []
    withUnsafePointer(to: &constants) { constantsPointer in
      (pp?.codes ?? noCodes).withUnsafeBufferPointer { ppCodes in
        (gp?.codes ?? noCodes).withUnsafeBufferPointer { gpCodes in
          bitsNow.withUnsafeBufferPointer { nowBits in
            (bitsBefore ?? noBits).withUnsafeBufferPointer { beforeBits in
              p.codes.withUnsafeBufferPointer { pcodes in
                g.codes.withUnsafeBufferPointer { gcodes in
                  pMagnitude.values.withUnsafeBufferPointer { pmv in
                    gMagnitude.values.withUnsafeBufferPointer { gmv in
                      rowLevels.withUnsafeMutableBufferPointer { lv in
                        // The blocks that can hold a non-zero term, in raster order.
                        var visits: [Int32] = []
                        visits.reserveCapacity(grid.count)
                        for b in 0..<grid.count
                        where differs[b] || (before?[b] ?? false) || pMagnitude.offsets[b] >= 0
                          || gMagnitude.offsets[b] >= 0
                        {
                          visits.append(Int32(b))
                        }
                        // A block's rows are a frame row apart: too many streams at once for the
                        // hardware prefetcher, so each visit asks for a later block's rows (its
                        // codes, region bits and magnitudes).
                        @inline(__always) func prefetch(_ b: Int) {
                          let ys = grid.yRange(ofRow: b / grid.columns)
                          let k0 = ys.lowerBound * w + (b % grid.columns) * stride
                          let n = ys.count
                          mg_prefetch_rows(pcodes.baseAddress! + k0, 2 * w, n)
                          mg_prefetch_rows(gcodes.baseAddress! + k0, 2 * w, n)
                          mg_prefetch_rows(nowBits.baseAddress! + k0, w, n)
                          if temporal && (differs[b] || (before?[b] ?? false)) {
                            mg_prefetch_rows(ppCodes.baseAddress! + k0, 2 * w, n)
                            mg_prefetch_rows(gpCodes.baseAddress! + k0, 2 * w, n)
                            mg_prefetch_rows(beforeBits.baseAddress! + k0, w, n)
                          }
                          let po = Int(pMagnitude.offsets[b])
                          let go = Int(gMagnitude.offsets[b])
                          let lines = SparseMagnitude.stride * 8 / 64
                          if po >= 0 { mg_prefetch_rows(pmv.baseAddress! + po, 64, lines) }
                          if go >= 0 { mg_prefetch_rows(gmv.baseAddress! + go, 64, lines) }
                        }
                        for (i, visit) in visits.enumerated() {
                          if i + Self.prefetchDistance < visits.count {
                            prefetch(Int(visits[i + Self.prefetchDistance]))
                          }
                          let b = Int(visit)
                          let now = differs[b]
                          let changed = before?[b] ?? false
                          let po = Int(pMagnitude.offsets[b])
                          let go = Int(gMagnitude.offsets[b])
                          let xs = grid.xRange(ofColumn: b % grid.columns)
                          let full = xs.count == stride
                          let ys = grid.yRange(ofRow: b / grid.columns)
                          if now && levelsRow != b / grid.columns {
                            levels.levels(rows: ys.lowerBound, count: ys.count, into: lv.baseAddress!)
                            levelsRow = b / grid.columns
                          }
                          if full {
                            // Whole 16-pixel rows: the block in one call (CMatteKernels, four
                            // pixels per instruction where the processor has AVX2).
                            let k0 = ys.lowerBound * w + xs.lowerBound
                            mg_block_spatial(
                              pcodes.baseAddress! + k0, gcodes.baseAddress! + k0, w, ys.count,
                              now ? UnsafePointer(lv.baseAddress! + xs.lowerBound) : nil,
                              po >= 0 ? pmv.baseAddress! + po : nil, go >= 0 ? gmv.baseAddress! + go : nil,
                              nowBits.baseAddress! + k0, constantsPointer, byPattern)
                            if temporal && (now || changed) {
                              mg_block_temporal(
                                pcodes.baseAddress! + k0, gcodes.baseAddress! + k0, ppCodes.baseAddress! + k0,
                                gpCodes.baseAddress! + k0, w, ys.count, beforeBits.baseAddress! + k0, constantsPointer,
                                dtByPattern)
                            }
                            continue
                          }
                          for (j, y) in ys.enumerated() {
                            let rowLevel = UnsafePointer(lv.baseAddress! + j * w + xs.lowerBound)
                            for (i, x) in xs.enumerated() {
                              let k = y * w + x
                              let pc = Int(pcodes[k])
                              let gc = Int(gcodes[k])
                              var ad = 0.0
                              var sq = 0.0
                              var ce = 0.0
                              if now && pc * gm != gc * pm {
                                let d = Double(pc) * ip - Double(gc) * ig
                                ad = abs(d)
                                sq = d * d
                                let l = Int(rowLevel[i])
                                ce = abs(
                                  Conn.phi(code: gc, maxValue: gm, level: l)
                                    - Conn.phi(code: pc, maxValue: pm, level: l))
                              }
                              let e =
                                (po >= 0 ? pmv[po + j * stride + i] : 0) - (go >= 0 ? gmv[go + j * stride + i] : 0)
                              let ge = e * e
                              // Sums per pattern of region bits (at most 32), spread over the
                              // regions once at the end: four adds per pixel whatever the regions.
                              let o = Int(nowBits[k]) &* 4
                              byPattern[o] += ad
                              byPattern[o &+ 1] += sq
                              byPattern[o &+ 2] += ge
                              byPattern[o &+ 3] += ce
                              if temporal && (now || changed) {
                                let dd =
                                  (Double(pc) * ip - Double(ppCodes[k]) * ipp)
                                  - (Double(gc) * ig - Double(gpCodes[k]) * igp)
                                dtByPattern[Int(beforeBits[k])] += dd * dd
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let regionBits = UInt8((1 << RegionKind.allCases.count) - 1)
    for pattern in 1..<256 {
      var bits = UInt8(pattern) & regionBits
      while bits != 0 {
        let o = Int(bits.trailingZeroBitCount) * metrics
        acc[o + sad] += byPattern[pattern * 4]
        acc[o + mse] += byPattern[pattern * 4 + 1]
        acc[o + gradIndex] += byPattern[pattern * 4 + 2]
        acc[o + conn] += byPattern[pattern * 4 + 3]
        acc[o + dt] += dtByPattern[pattern]
        bits &= bits - 1
      }
    }
    var totals = ErrorTotals()
    var motionSums: [Double]?
    if let previous, let motion {
      precondition(motion.width == p.width && motion.height == p.height, "motion field differs in size")
      // In one pass without maps: sums per pattern of the previous frame's region bits, spread
      // over the regions as above (the map's terms, summed in another order: see docs/performance.md).
      let byBits = UnsafeMutablePointer<Double>.allocate(capacity: 256)
      byBits.initialize(repeating: 0, count: 256)
      defer { byBits.deallocate() }
      p.codes.withUnsafeBufferPointer { pc in
        g.codes.withUnsafeBufferPointer { gc in
          previous.prediction.codes.withUnsafeBufferPointer { ppc in
            previous.truth.matte.codes.withUnsafeBufferPointer { gpc in
              motion.targets.withUnsafeBufferPointer { targets in
                previous.truth.regions.bits.withUnsafeBufferPointer { bits in
                  let blocks = Self.motionBlocks(
                    grid: grid, differs: differs, before: before ?? [], boxes: motion.blockBoxes)
                  withUnsafePointer(to: &constants) { c in
                    mg_messddt_blocks(
                      pc.baseAddress!, gc.baseAddress!, ppc.baseAddress!, gpc.baseAddress!, targets.baseAddress!,
                      bits.baseAddress!, w, p.height, blocks, blocks.count, grid.columns, BlockGrid.blockWidth,
                      BlockGrid.blockHeight, c, byBits)
                  }
                }
              }
            }
          }
        }
      }
      var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
      for pattern in 1..<256 {
        var bits = UInt8(pattern) & regionBits
        while bits != 0 {
          sums[Int(bits.trailingZeroBitCount)] += byBits[pattern]
          bits &= bits - 1
        }
      }
      motionSums = sums
    }
    for (r, region) in RegionKind.allCases.enumerated() {
      let n = truth.support[r]
      let o = r * metrics
      totals.record(region, .sad, sum: acc[o + sad], pixels: n)
      totals.record(region, .mad, sum: acc[o + sad], pixels: n)
      totals.record(region, .mse, sum: acc[o + mse], pixels: n)
      totals.record(region, .grad, sum: acc[o + gradIndex], pixels: n)
      totals.record(region, .conn, sum: acc[o + conn], pixels: n)
      if let previous {
        totals.record(region, .dtssd, sum: acc[o + dt], pixels: previous.truth.support[r])
      }
      if let motionSums, let previous {
        totals.record(region, .messddt, sum: motionSums[r], pixels: previous.truth.support[r])
      }
    }
    return (totals, DifferingBlocks(flags: differs))
  }
}
