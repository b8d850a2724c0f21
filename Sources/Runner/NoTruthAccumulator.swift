import MatteMetrics

/// The no-ground-truth measures of one arm over a clip, frame by frame (`NoTruth`): edge
/// alignment on each frame's regions, flicker against the previous frame on its regions. The
/// caller chooses the regions (derived from the arm's alpha, or a clip's own masks).
struct NoTruthAccumulator {
  /// One frame's values per region (`RegionKind.allCases` order) on the reported scale; nil
  /// where the region is empty. `flicker` is nil without a previous frame.
  struct Frame {
    var edgeAlignment: [Double?]
    var flicker: [Double?]?
  }

  private(set) var edges = [(sum: Double, weight: Double)](repeating: (0, 0), count: RegionKind.allCases.count)
  private(set) var flickers = [(sum: Double, pixels: Int)](repeating: (0, 0), count: RegionKind.allCases.count)
  private var previous: (alpha: Matte, source: RGBPicture, regions: RegionMap)?

  mutating func add(alpha: Matte, regions: RegionMap, source: RGBPicture) -> Frame {
    let e = NoTruth.edgeAlignment(alpha: alpha, source: source, regions: regions)
    var frame = Frame(edgeAlignment: e.map { $0.weight > 0 ? $0.sum / $0.weight : nil }, flicker: nil)
    for (r, v) in e.enumerated() {
      edges[r].sum += v.sum
      edges[r].weight += v.weight
    }
    if let previous {
      let f = NoTruth.flicker(
        alpha: alpha, previousAlpha: previous.alpha, source: source, previousSource: previous.source,
        regions: previous.regions)
      frame.flicker = f.map { $0.pixels > 0 ? $0.sum / Double($0.pixels) * 1e3 : nil }
      for (r, v) in f.enumerated() {
        flickers[r].sum += v.sum
        flickers[r].pixels += v.pixels
      }
    }
    previous = (alpha, source, regions)
    return frame
  }

  /// A gap in the timeline: the next frame has no predecessor to flicker against.
  mutating func breakChain() { previous = nil }

  /// Pooled over the clip: edge alignment (weighted) and flicker ×1e3, nil without support.
  func edgeAlignment(_ r: Int) -> Double? { edges[r].weight > 0 ? edges[r].sum / edges[r].weight : nil }
  func flicker(_ r: Int) -> Double? {
    flickers[r].pixels > 0 ? flickers[r].sum / Double(flickers[r].pixels) * 1e3 : nil
  }
}

/// A-versus-B disagreement over a clip: mean |α_A − α_B| ×1e3 per region, a pixel being in a
/// region when it is in either arm's.
struct DisagreementAccumulator {
  private(set) var totals = [(sum: Double, pixels: Int)](repeating: (0, 0), count: RegionKind.allCases.count)

  /// Adds one frame and returns its values per region (nil where empty).
  mutating func add(_ a: Matte, regionsA: RegionMap, _ b: Matte, regionsB: RegionMap) -> [Double?] {
    let union = RegionMap(
      width: a.width, height: a.height, bits: zip(regionsA.bits, regionsB.bits).map { $0 | $1 })
    let d = NoTruth.disagreement(a, b, regions: union)
    for (r, v) in d.enumerated() {
      totals[r].sum += v.sum
      totals[r].pixels += v.pixels
    }
    return d.map { $0.pixels > 0 ? $0.sum / Double($0.pixels) * 1e3 : nil }
  }

  func value(_ r: Int) -> Double? { totals[r].pixels > 0 ? totals[r].sum / Double(totals[r].pixels) * 1e3 : nil }
}
