public import Clips
import Foundation
public import MatteMetrics
import MediaIO
import Store
import Synchronization
public import Verdict

/// What a clip set covers, for `clipset verify`: clips per tag, clips per region with support,
/// whether each primary region of a gate has enough clips to decide at its margin, and the
/// seed's sample-set rule (at least one short, one long and one difficult clip).
public enum SetCoverage {
  /// A clip counts as short at or below this many seconds, long at or above `longSeconds`,
  /// when it carries neither tag.
  public static let shortSeconds = 3.0
  public static let longSeconds = 10.0
  /// The spread of per-clip log-ratios assumed before any run (the worked example of the
  /// statistics spec: 10%).
  public static let assumedSpread = 0.10

  /// Frames with support per region of one clip, from decoding its ground truth and masks and
  /// deriving the regions a run would (every frame is also checked: a matte, binary masks).
  public static func support(of clip: Clip, in set: ClipSet) throws -> [RegionKind: Int] {
    guard let alpha = clip.alpha else { return [:] }
    let truth = try StandaloneScore.open(set.path(of: alpha))
    let masks = try clip.regionMasks.map {
      try VideoReader(path: set.path(of: $0), options: ReadOptions(rgb: .none, alpha: .luma))
    }
    let own = clip.ownMaskCodes
    var frames: [RegionKind: Int] = [:]
    var previous: Matte?
    var index = 0
    while let g = try truth.nextFrame()?.alpha {
      var codes: [UInt16]?
      if let masks {
        guard let m = try masks.nextFrame()?.alpha else {
          throw RunError("\(masks.path): region masks end before frame \(index)")
        }
        // Only the region bits: anything else is not a region-mask video (a bit of a region
        // the manifest does not list is left to the derived region, as runs do).
        let known = RegionMaskCodes.hair | RegionMaskCodes.glass | RegionMaskCodes.motion
        if let k = m.samples.firstIndex(where: { $0 & ~known != 0 }) {
          throw RunError(
            "\(masks.path): frame \(index) pixel (\(k % m.width),\(k / m.width)) has code \(m.samples[k]); region masks hold only the bits 32 (motion), 64 (hair) and 128 (glass)"
          )
        }
        codes = m.samples
      }
      let matte = Matte(width: g.width, height: g.height, maxValue: g.maxValue, codes: g.samples)
      let regions = RegionDeriver().regions(
        truth: matte, previousTruth: previous, maskCodes: codes, hair: own.hair, glass: own.glass, motion: own.motion)
      for (region, pixels) in zip(RegionKind.allCases, regions.supports()) where pixels > 0 {
        frames[region, default: 0] += 1
      }
      previous = matte
      index += 1
    }
    return frames
  }

  /// Runs `TruthCheck` on every clip and, with `deep`, counts its support, clips in parallel on
  /// every core; problems come back in clip order, one line per clip.
  public static func checkAll(_ set: ClipSet, deep: Bool) -> (problems: [String], support: [String: [RegionKind: Int]])
  {
    let results = Mutex<[Int: Result<[RegionKind: Int], any Error>]>([:])
    DispatchQueue.concurrentPerform(iterations: set.clips.count) { i in
      let clip = set.clips[i]
      let r = Result { () throws -> [RegionKind: Int] in
        try TruthCheck.check(clip: clip, in: set)
        return deep ? try SetCoverage.support(of: clip, in: set) : [:]
      }
      results.withLock { $0[i] = r }
    }
    var problems: [String] = []
    var support: [String: [RegionKind: Int]] = [:]
    let all = results.withLock { $0 }
    for (i, clip) in set.clips.enumerated() {
      switch all[i]! {
      case .success(let s): support[clip.id] = s
      case .failure(let error): problems.append("clip '\(clip.id)': \(error)")
      }
    }
    return (problems, support)
  }

  public struct Report: Sendable {
    public var lines: [String]
    public var warnings: [String]
  }

  /// - Parameters:
  ///   - support: per clip, frames with support per region (from `support(of:in:)`), when the
  ///     set was decoded; without it a clip counts for a region when it has its own mask for it
  ///     or carries the region's tag.
  ///   - observed: per primary endpoint, the spread of per-clip log-ratios in a run on this set
  ///     and that run's id (from `observedSpreads`); the assumed 10% otherwise.
  public static func report(
    set: ClipSet, gate: GatePolicy, support: [String: [RegionKind: Int]]?,
    observed: [Endpoint: (sd: Double, run: String)] = [:]
  ) -> Report {
    var lines: [String] = []
    var warnings: [String] = []
    var perTag: [String: Int] = [:]
    for clip in set.clips { for tag in clip.tags { perTag[tag, default: 0] += 1 } }
    let known = perTag.keys.filter { ClipSet.isKnownTag($0) }.sorted()
    let own = perTag.keys.filter { !ClipSet.isKnownTag($0) }.sorted()
    lines.append("clips per tag: " + (known.map { "\($0) \(perTag[$0]!)" }.joined(separator: ", ")))
    if !own.isEmpty { lines.append("your own tags: " + own.map { "\($0) \(perTag[$0]!)" }.joined(separator: ", ")) }
    let withTruth = set.clips.filter(\.hasGroundTruth)
    func supports(_ clip: Clip, _ region: RegionKind) -> Bool {
      if region == .frame { return true }
      if let support { return (support[clip.id]?[region] ?? 0) > 0 }
      if clip.regionMasks != nil && clip.maskRegions.contains(region.rawValue) { return true }
      return clip.tags.contains(region.rawValue) || (region == .transition)
    }
    var perRegion: [RegionKind: Int] = [:]
    for region in RegionKind.allCases { perRegion[region] = withTruth.filter { supports($0, region) }.count }
    lines.append(
      "clips with ground truth and support, per region"
        + (support == nil ? " (by own masks and tags; --deep counts it)" : "")
        + ": " + RegionKind.allCases.map { "\($0.rawValue) \(perRegion[$0]!)" }.joined(separator: ", "))
    // Enough clips for each primary region at its margin.
    var short: [String] = []
    for endpoint in gate.primaries {
      let region = RegionKind(rawValue: endpoint.region)
      let have = region.map { perRegion[$0] ?? 0 } ?? 0
      let margin = gate.margin(of: endpoint)
      let spread = observed[endpoint]
      let sd = spread?.sd ?? assumedSpread
      let needed =
        PairedStatistics.clipsForMargin(
          mean: 0, sd: sd, margin: log(1 + margin), alpha: gate.alpha, atLeast: gate.minClips)
      let basis =
        spread.map { String(format: "at the %.1f%% spread of run %@", $0.sd * 100, $0.run) }
        ?? String(format: "at an assumed %.0f%% spread (no run yet)", assumedSpread * 100)
      let neededText = needed.map(String.init) ?? "more than 10000"
      let enough = needed.map { have >= $0 } ?? false
      lines.append(
        String(
          format: "%@: %d clips; %@ needed to show non-inferiority at its %.0f%% margin %@ (%@)", endpoint.description,
          have, neededText, margin * 100, basis, enough ? "enough" : "too few"))
      if !enough { short.append("\(endpoint) (\(have) of \(neededText))") }
    }
    if !short.isEmpty {
      warnings.append("too few clips to decide at the gate's margin for " + short.joined(separator: ", "))
    }
    // The sample-set rule.
    func isShort(_ c: Clip) -> Bool { c.tags.contains("short") || (c.duration.map { $0 <= shortSeconds } ?? false) }
    func isLong(_ c: Clip) -> Bool { c.tags.contains("long") || (c.duration.map { $0 >= longSeconds } ?? false) }
    var missing: [String] = []
    if !set.clips.contains(where: isShort) {
      missing.append(String(format: "a short clip (tag short, or ≤ %.0f s)", shortSeconds))
    }
    if !set.clips.contains(where: isLong) {
      missing.append(String(format: "a longer clip (tag long, or ≥ %.0f s)", longSeconds))
    }
    if !set.clips.contains(where: { $0.tags.contains("difficult") }) {
      missing.append("a visually difficult clip (tag difficult)")
    }
    if !missing.isEmpty {
      warnings.append(
        "the set lacks " + missing.joined(separator: ", ")
          + ": test with at least one short clip, one longer clip and one visually difficult clip from your own footage"
      )
    }
    // Compression.
    for clip in set.clips {
      let bpp = clip.bitsPerPixel ?? sourceBitsPerPixel(clip, in: set)
      if let bpp, let w = CompressionGuard.warning(bitsPerPixel: bpp) {
        warnings.append("clip '\(clip.id)': \(w)")
      }
    }
    return Report(lines: lines, warnings: warnings)
  }

  /// Bits per pixel per frame of a clip's source from its file size and its packets (no decode).
  public static func sourceBitsPerPixel(_ clip: Clip, in set: ClipSet) -> Double? {
    let path = set.path(of: clip.source)
    guard let timing = try? StreamTiming(path: path), timing.frames > 0,
      let size = try? MediaInput.open(path, options: ReadOptions(rgb: .none)).size,
      let bytes = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
    else { return nil }
    return CompressionGuard.bitsPerPixel(bytes: bytes, width: size.width, height: size.height, frames: timing.frames)
  }
}

extension SetCoverage {
  /// The spread (standard deviation) of per-clip log-ratios ln(B/A) of each primary endpoint in
  /// the newest completed run on a set of this name in `database`, over clips where both arms
  /// have a positive value; nil when there is no such run.
  public static func observedSpreads(database: String, set: ClipSet, gate: GatePolicy) throws
    -> [Endpoint: (sd: Double, run: String)]
  {
    let store = try ResultStore(path: database)
    guard
      let run = try store.runs().filter({ $0.clipsetName == set.name && $0.status.hasPrefix("completed") }).max(by: {
        $0.createdAt < $1.createdAt
      })
    else { return [:] }
    let metrics = try store.clipMetrics(runID: run.id)
    var out: [Endpoint: (sd: Double, run: String)] = [:]
    for endpoint in gate.primaries {
      var a: [String: Double] = [:]
      var b: [String: Double] = [:]
      for m in metrics where m.region == endpoint.region && m.metric.lowercased() == endpoint.metric.lowercased() {
        guard let v = m.value, v > 0 else { continue }
        if m.arm == "A" { a[m.clipID] = v } else if m.arm == "B" { b[m.clipID] = v }
      }
      let y = a.keys.compactMap { id in b[id].map { log($0 / a[id]!) } }
      guard y.count >= 3 else { continue }
      let mean = y.reduce(0, +) / Double(y.count)
      let sd = (y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(y.count - 1)).squareRoot()
      if sd > 0 { out[endpoint] = (sd, run.id) }
    }
    return out
  }
}

/// Where a clip's hard regions come from, as stored with its results.
public enum RegionProvenance {
  public static func describe(_ clip: Clip) -> String {
    let own = clip.regionMasks != nil ? clip.maskRegions : []
    let derived = ["hair", "glass", "motion"].filter { !own.contains($0) }
    var parts: [String] = []
    if !own.isEmpty { parts.append("own: " + own.joined(separator: ", ")) }
    if !derived.isEmpty { parts.append("derived: " + derived.joined(separator: ", ") + " (\(regionsVersion))") }
    return parts.joined(separator: "; ")
  }
}
