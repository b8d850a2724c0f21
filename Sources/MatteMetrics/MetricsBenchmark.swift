import Dispatch
import Foundation

/// `mattegate bench metrics`: median milliseconds per 1920×1080 frame pair for each metric and
/// for all of them together, on synthetic 16-bit pairs (a soft disc edge; the prediction is the
/// disc moved by a pixel with noise on its edge band), on one core and on all cores.
public enum MetricsBenchmark {
  public struct Row: Sendable {
    public var name: String
    /// One core: the median over repeats of one pair's time.
    public var medianMS: Double
    /// All cores: pairs scored concurrently, one per core; wall time per pair (nil where the
    /// row is not repeated across cores).
    public var allCoresMS: Double?
  }

  /// A ground truth (soft-edged disc) and a prediction (the same disc shifted by one pixel,
  /// with noise on the edge band, or everywhere with `denseNoise`), 16-bit.
  public static func pair(width: Int = 1920, height: Int = 1080, shift: Int = 0, denseNoise: Bool = false)
    -> (p: Matte, g: Matte)
  {
    var rng = SplitMix64(seed: 7 &+ UInt64(bitPattern: Int64(shift)))
    var g = [UInt16](repeating: 0, count: width * height)
    var p = g
    let cx = Double(width) / 2 + Double(shift)
    let cy = Double(height) / 2
    let r = Double(height) / 3
    for y in 0..<height {
      for x in 0..<width {
        let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
        let a = min(max((r - d) / 6 + 0.5, 0), 1)
        var b = min(max((r - d + 1) / 6 + 0.5 + (a > 0 && a < 1 ? rng.uniform(-0.1, 0.1) : 0), 0), 1)
        if denseNoise { b = min(max(b + rng.uniform(-0.1, 0.1), 0), 1) }
        g[y * width + x] = UInt16((a * 65535).rounded())
        p[y * width + x] = UInt16((b * 65535).rounded())
      }
    }
    return (
      Matte(width: width, height: height, maxValue: 65535, codes: p),
      Matte(width: width, height: height, maxValue: 65535, codes: g)
    )
  }

  /// Times each row `repeats` times (median) on one core, then (with `allCores`) runs the same
  /// work on every core at once.
  public static func run(
    repeats: Int = 5, width: Int = 1920, height: Int = 1080, parts: Bool = false, only: String? = nil,
    allCores: Bool = true
  ) -> [Row] {
    let (p, g) = pair(width: width, height: height)
    let (p0, g0) = pair(width: width, height: height, shift: -2)
    let (pd, _) = pair(width: width, height: height, denseNoise: true)
    let (pd0, _) = pair(width: width, height: height, shift: -2, denseNoise: true)
    let frameOnly = RegionMap.frameOnly(width: width, height: height)
    let truth0 = PreparedTruth(g0)
    let truth0Frame = PreparedTruth(g0, regions: frameOnly)
    let truthRegions = PreparedTruth(g, previous: truth0)
    // A run passes each frame's differing blocks on to the next frame's temporal metrics, so
    // the per-arm rows do too (found once here, as scoring the frame before found them).
    let blocks0 = FrameScorer.scoreKeepingBlocks(prediction: p0, truth: truth0).blocks
    let cores = max(ProcessInfo.processInfo.activeProcessorCount, 1)
    let runOnAllCores = allCores
    // The true motion from the previous pair to this one: the disc moves 2 pixels right.
    let motion = MotionField(
      width: width, height: height, dx: [Float](repeating: 2, count: width * height),
      dy: [Float](repeating: 0, count: width * height))

    /// Rows are timed round-robin (every row once, `repeats` times over), so that slow spells of
    /// a shared machine hit every row alike; each row's figure is its median.
    func measure(_ all: [(String, @Sendable () -> Double)]) -> [Row] {
      let rows = all.filter { only == nil || $0.0.contains(only!) }
      var oneCore = Array(repeating: [Double](), count: rows.count)
      var allCores = oneCore
      var sink = 0.0
      for (_, body) in rows { sink += body() }  // warm-up
      for _ in 0..<repeats {
        for (i, (_, body)) in rows.enumerated() {
          var start = DispatchTime.now().uptimeNanoseconds
          sink += body()
          oneCore[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
          guard runOnAllCores else { continue }
          start = DispatchTime.now().uptimeNanoseconds
          DispatchQueue.concurrentPerform(iterations: cores) { _ in _ = body() }
          allCores[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(cores))
        }
      }
      func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
      return rows.indices.map { i in
        Row(
          name: rows[i].0, medianMS: sink.isNaN ? .nan : median(oneCore[i]),
          allCoresMS: runOnAllCores ? median(allCores[i]) : nil)
      }
    }
    func row(_ name: String, _ body: @Sendable @escaping () -> Double) -> (String, @Sendable () -> Double) {
      (name, body)
    }
    if parts {
      let gg = BlockGrid(g)
      let pg = BlockGrid(p)
      return measure([
        row("part: block summary of one matte") { Double(BlockGrid(p).count) },
        row("part: differing blocks") { Double(BlockGrid.differing(p, g).count) },
        row("part: gradient-active blocks") { Double(gg.gradientActive().count) },
        row("part: sparse gradient of one matte") { Double(SparseMagnitude(p, grid: pg).values.count) },
        row("part: Conn segments and levels") { Double(SegmentLevels(p, g, pGrid: pg, gGrid: gg).level.count) },
        row("part: Conn level map") { Double(SegmentLevels(p, g, pGrid: pg, gGrid: gg).levelMap().count) },
        row("part: region derivation") { Double(PreparedTruth(g, previous: truth0).support[0]) },
        row("part: region supports") { Double(frameOnly.supports()[0]) },
      ])
    }
    return measure([
      row("SAD+MAD") { WholeFrame.sad(p, g) },
      row("MSE") { WholeFrame.mse(p, g) },
      row("Grad (both gradients)") { WholeFrame.grad(p, g) },
      row("Conn") { WholeFrame.conn(p, g) },
      row("dtSSD") { WholeFrame.dtssd(p: p, previousP: p0, g: g, previousG: g0) },
      row("all six, frame region (truth gradient included)") {
        let t = PreparedTruth(g, regions: frameOnly)
        return FrameScorer.score(prediction: p, truth: t, previous: (p0, truth0Frame)).sum(.frame, .dtssd)
      },
      row("all six, five regions (region derivation included)") {
        let t = PreparedTruth(g, previous: truth0)
        return FrameScorer.score(prediction: p, truth: t, previous: (p0, truth0)).sum(.frame, .dtssd)
      },
      row("all six, five regions, per arm (truth prepared)") {
        FrameScorer.scoreKeepingBlocks(
          prediction: p, truth: truthRegions, previous: (p0, truth0), previousBlocks: blocks0
        ).totals.sum(.frame, .grad)
      },
      row("all seven (MESSDdt on 2 px motion), five regions, derivation in") {
        let t = PreparedTruth(g, previous: truth0)
        return FrameScorer.score(prediction: p, truth: t, previous: (p0, truth0), motion: motion).sum(.frame, .messddt)
      },
      row("all seven (MESSDdt, 2 px motion), five regions, per arm") {
        FrameScorer.scoreKeepingBlocks(
          prediction: p, truth: truthRegions, previous: (p0, truth0), previousBlocks: blocks0, motion: motion
        ).totals.sum(.frame, .messddt)
      },
      row("truth preparation (regions; once a frame for both arms)") {
        Double(PreparedTruth(g, previous: truth0).support[0])
      },
      row("worst case: noise on every pixel, five regions") {
        let t = PreparedTruth(g, previous: truth0)
        return FrameScorer.score(prediction: pd, truth: t, previous: (pd0, truth0)).sum(.frame, .dtssd)
      },
    ])
  }
}
