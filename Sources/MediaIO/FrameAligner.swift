/// Limits on how far an output may drift from the reference timeline before its clip is
/// inconclusive rather than scored.
public struct AlignmentPolicy: Sendable, Equatable {
  /// A prediction frame matches a reference frame only within this fraction of the reference
  /// frame interval (0.5: the nearest frame slot).
  public var window: Double
  /// Largest share of reference frames that may have no matching output frame.
  public var maxDroppedFraction: Double
  /// Largest share (of reference frames) of duplicated output frames.
  public var maxDuplicatedFraction: Double

  public init(window: Double = 0.5, maxDroppedFraction: Double = 0.05, maxDuplicatedFraction: Double = 0.05) {
    self.window = window
    self.maxDroppedFraction = maxDroppedFraction
    self.maxDuplicatedFraction = maxDuplicatedFraction
  }
}

/// How one output lined up with the reference (ground-truth) timeline.
public struct AlignmentStats: Sendable, Equatable {
  /// Reference frames seen.
  public var referenceFrames = 0
  /// Output frames seen.
  public var outputFrames = 0
  /// Reference frames that got an output frame within the window.
  public var matched = 0
  /// Reference frames with no output frame within the window.
  public var dropped = 0
  /// Output frames that repeat a timestamp already seen, or share a reference slot with a
  /// closer frame while the output is not at a higher frame rate than the reference.
  public var duplicated = 0
  /// Output frames outside every window: between slots of a higher-rate output, or past either end.
  public var extra = 0
  /// Largest |output time − reference time| over matched frames, in seconds.
  public var maxOffset = 0.0
  /// The window used, in seconds.
  public var window = 0.0
  /// First output frame whose timestamp went backwards, if any.
  public var backwardsAt: Int?

  public init() {}

  /// Why this output is too misaligned to score, or `nil` if it is within `policy`.
  public func problem(under policy: AlignmentPolicy) -> String? {
    if let k = backwardsAt { return "output timestamps go backwards at frame \(k)" }
    if referenceFrames == 0 { return "the reference has no frames" }
    if matched == 0 { return "no output frame lines up with the reference (\(outputFrames) output frames)" }
    let n = Double(referenceFrames)
    if Double(dropped) > policy.maxDroppedFraction * n {
      return
        "\(dropped) of \(referenceFrames) reference frames have no output frame within ±\(Self.ms(window)) (limit \(Self.percent(policy.maxDroppedFraction)))"
    }
    if Double(duplicated) > policy.maxDuplicatedFraction * n {
      return
        "\(duplicated) duplicated output frames for \(referenceFrames) reference frames (limit \(Self.percent(policy.maxDuplicatedFraction)))"
    }
    return nil
  }

  /// "matched 29/30, dropped 1, duplicated 0, extra 0, max offset 3.2 ms".
  public var summary: String {
    "matched \(matched)/\(referenceFrames), dropped \(dropped), duplicated \(duplicated), extra \(extra), max offset \(Self.ms(maxOffset))"
  }

  static func ms(_ seconds: Double) -> String {
    let v = (seconds * 10000).rounded() / 10
    return "\(v) ms"
  }

  static func percent(_ f: Double) -> String {
    let v = (f * 1000).rounded() / 10
    return "\(v)%"
  }
}

/// Matches an output's frames to reference frames by presentation time, streaming: it holds at
/// most one look-ahead output frame, whatever the length of the clip.
///
/// For each reference time t (called in increasing order), the output frames with
/// |time − t| ≤ window are candidates; the nearest is the match and the others are duplicates
/// (or extras, when the output runs at a higher frame rate than the reference). Output frames
/// before the window are extra. No candidate: the reference frame is dropped.
public final class FrameAligner<Frame> {
  public private(set) var stats = AlignmentStats()
  private let window: Double
  private let higherRate: Bool
  private let next: () throws -> (time: Double, frame: Frame)?
  private var lookahead: (time: Double, frame: Frame)?
  private var exhausted = false
  private var lastTime: Double?

  /// - Parameters:
  ///   - referenceInterval: seconds between reference frames (1 / frame rate).
  ///   - outputRate: the output's nominal frame rate (0 if unknown).
  ///   - next: yields the output's frames in the order the decoder delivers them.
  public init(
    referenceInterval: Double, outputRate: Double, policy: AlignmentPolicy,
    next: @escaping () throws -> (time: Double, frame: Frame)?
  ) {
    window = policy.window * referenceInterval
    stats.window = window
    higherRate = outputRate > 0 && referenceInterval > 0 && outputRate > 1.5 / referenceInterval
    self.next = next
  }

  private func peek() throws -> (time: Double, frame: Frame)? {
    if lookahead == nil && !exhausted {
      if let f = try next() {
        stats.outputFrames += 1
        if let last = lastTime, f.time < last - 1e-9, stats.backwardsAt == nil {
          stats.backwardsAt = stats.outputFrames - 1
        }
        if let last = lastTime, abs(f.time - last) <= 1e-9 {
          // Same timestamp as the previous output frame: a duplicate, never a match.
          stats.duplicated += 1
          return try peek()
        }
        lastTime = f.time
        lookahead = f
      } else {
        exhausted = true
      }
    }
    return lookahead
  }

  /// The output frame for the reference frame at `time`, or `nil` if it was dropped.
  public func match(referenceTime time: Double) throws -> Frame? {
    stats.referenceFrames += 1
    var best: (offset: Double, frame: Frame)?
    while let f = try peek() {
      let offset = f.time - time
      if offset > window + 1e-9 { break }
      lookahead = nil
      if offset < -window - 1e-9 {
        stats.extra += 1
        continue
      }
      if let b = best {
        if abs(offset) < abs(b.offset) { best = (offset, f.frame) }
        if higherRate { stats.extra += 1 } else { stats.duplicated += 1 }
      } else {
        best = (offset, f.frame)
      }
    }
    guard let best else {
      stats.dropped += 1
      return nil
    }
    stats.matched += 1
    stats.maxOffset = max(stats.maxOffset, abs(best.offset))
    return best.frame
  }

  /// Reads what is left of the output (counted as extra) and returns the final figures.
  public func finish() throws -> AlignmentStats {
    while try peek() != nil {
      lookahead = nil
      stats.extra += 1
    }
    return stats
  }
}
