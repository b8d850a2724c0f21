/// `mattegate bench metrics`: median milliseconds per frame pair for each metric and for all of
/// them together, on a synthetic 1920×1080 16-bit pair (a soft disc edge with noise), one core.
public enum MetricsBenchmark {
  public struct Row: Sendable {
    public var name: String
    public var medianMS: Double
  }

  /// A ground truth (soft-edged disc) and a prediction (the same disc shifted by one pixel,
  /// with noise on the edge band), `width`×`height`, 16-bit.
  public static func pair(width: Int = 1920, height: Int = 1080, shift: Int = 0) -> (p: Matte, g: Matte) {
    var rng = SplitMix64(seed: 7)
    var g = [UInt16](repeating: 0, count: width * height)
    var p = g
    let cx = Double(width) / 2 + Double(shift)
    let cy = Double(height) / 2
    let r = Double(height) / 3
    for y in 0..<height {
      for x in 0..<width {
        let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
        let a = min(max((r - d) / 6 + 0.5, 0), 1)
        let b = min(max((r - d + 1) / 6 + 0.5 + (a > 0 && a < 1 ? rng.uniform(-0.1, 0.1) : 0), 0), 1)
        g[y * width + x] = UInt16((a * 65535).rounded())
        p[y * width + x] = UInt16((b * 65535).rounded())
      }
    }
    return (
      Matte(width: width, height: height, maxValue: 65535, codes: p),
      Matte(width: width, height: height, maxValue: 65535, codes: g)
    )
  }

  /// Times each metric `repeats` times and returns the medians.
  public static func run(repeats: Int = 5, width: Int = 1920, height: Int = 1080) -> [Row] {
    let (p, g) = pair(width: width, height: height)
    let (p0, g0) = pair(width: width, height: height, shift: -2)
    let all = RegionMap(width: width, height: height, bits: .init(repeating: 0xFF, count: width * height))
    let regions = RegionDeriver().regions(truth: g, previousTruth: g0, hairMask: nil, glassMask: nil)
    var sink = 0.0
    func time(_ body: () -> Double) -> Double {
      var samples: [Double] = []
      for _ in 0..<repeats {
        let clock = ContinuousClock()
        let start = clock.now
        sink += body()
        let d = clock.now - start
        samples.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
      }
      return samples.sorted()[samples.count / 2]
    }
    var rows: [Row] = [
      Row(name: "SAD+MAD", medianMS: time { ErrorMaps.absoluteDifference(p, g).reduce(0, +) }),
      Row(name: "MSE", medianMS: time { ErrorMaps.squaredDifference(p, g).reduce(0, +) }),
      Row(name: "Grad", medianMS: time { Grad.errorMap(p, g).reduce(0, +) }),
      Row(name: "Conn", medianMS: time { Conn.errorMap(p, g).reduce(0, +) }),
      Row(
        name: "dtSSD",
        medianMS: time {
          TemporalMetrics.dtSSD(map: TemporalMetrics.dtSSDMap(p: p, previousP: p0, g: g, previousG: g0)) ?? 0
        }),
    ]
    // Everything a scored frame pair costs once its regions are known.
    func everything(_ r: RegionMap) -> Double {
      FrameScorer.score(prediction: p, truth: g, regions: r).sum(.frame, .sad)
        + (TemporalMetrics.dtSSD(map: TemporalMetrics.dtSSDMap(p: p, previousP: p0, g: g, previousG: g0)) ?? 0)
    }
    rows.append(Row(name: "all (frame region only)", medianMS: time { everything(all) }))
    rows.append(Row(name: "all, five regions", medianMS: time { everything(regions) }))
    rows.append(
      Row(
        name: "region derivation",
        medianMS: time {
          Double(RegionDeriver().regions(truth: g, previousTruth: g0, hairMask: nil, glassMask: nil).bits.count)
        }))
    if sink.isNaN { rows.append(Row(name: "nan", medianMS: 0)) }
    return rows
  }
}
