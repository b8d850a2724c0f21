import Foundation
import MediaIO
import TestSupport
import Testing

/// Feeds `times` to an aligner and matches the reference times; returns the matched output
/// indices (nil = dropped) and the final figures.
func align(
  reference: [Double], output: [Double], interval: Double, outputRate: Double,
  policy: AlignmentPolicy = AlignmentPolicy()
) throws -> ([Int?], AlignmentStats) {
  var i = 0
  let aligner = FrameAligner<Int>(referenceInterval: interval, outputRate: outputRate, policy: policy) {
    defer { i += 1 }
    return i < output.count ? (output[i], i) : nil
  }
  var matched: [Int?] = []
  for t in reference { matched.append(try aligner.match(referenceTime: t)) }
  return (matched, try aligner.finish())
}

@Suite struct AlignmentTests {
  let ref = (0..<10).map { Double($0) / 25 }

  @Test func identicalTimelinesMatchOneToOne() throws {
    let (m, s) = try align(reference: ref, output: ref, interval: 0.04, outputRate: 25)
    #expect(m == Array(0..<10))
    #expect(s.matched == 10 && s.dropped == 0 && s.duplicated == 0 && s.extra == 0 && s.maxOffset == 0)
    #expect(s.problem(under: AlignmentPolicy()) == nil)
  }

  @Test func droppedFrameIsCountedAndNeighboursStayPut() throws {
    var out = ref
    out.remove(at: 3)
    let (m, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 25)
    // Reference frame 3 has no output; frame 4 still gets output index 3 (time 0.16), not a shift.
    #expect(m == [0, 1, 2, nil, 3, 4, 5, 6, 7, 8])
    #expect(s.dropped == 1 && s.matched == 9)
    // 1 of 10 is beyond the default 5% limit: inconclusive, with the reason.
    #expect(s.problem(under: AlignmentPolicy())?.contains("1 of 10 reference frames") == true)
    #expect(s.problem(under: AlignmentPolicy(maxDroppedFraction: 0.1)) == nil)
  }

  @Test func repeatedTimestampIsADuplicate() throws {
    var out = ref
    out.insert(ref[4], at: 5)
    let (m, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 25)
    #expect(m == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10])
    #expect(s.duplicated == 1 && s.dropped == 0 && s.matched == 10)
  }

  @Test func higherOutputRateMatchesByTimeAndCountsTheRestAsExtra() throws {
    let out = (0..<20).map { Double($0) / 50 }
    let (m, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 50)
    #expect(m == (0..<10).map { $0 * 2 })
    #expect(s.matched == 10 && s.extra == 10 && s.duplicated == 0 && s.maxOffset == 0)
    #expect(s.problem(under: AlignmentPolicy()) == nil)
  }

  @Test func lowerOutputRateDropsHalf() throws {
    let out = (0..<5).map { Double($0) / 12.5 }
    let (m, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 12.5)
    #expect(m == [0, nil, 1, nil, 2, nil, 3, nil, 4, nil])
    #expect(s.dropped == 5)
    #expect(s.problem(under: AlignmentPolicy()) != nil)
  }

  @Test func jitterWithinTheWindowMatchesAndReportsTheLargestOffset() throws {
    let jitter = [0.0, 0.006, -0.004, 0.019, 0.0, -0.015, 0.002, 0.0, 0.01, -0.003]
    let out = zip(ref, jitter).map { $0 + $1 }
    let (m, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 25)
    #expect(m == Array(0..<10))
    #expect(abs(s.maxOffset - 0.019) < 1e-12)
  }

  @Test func constantShiftBeyondTheWindowIsNotSilentlyScored() throws {
    let out = ref.map { $0 + 0.012 }  // 0.3 of a frame late, with a window of 0.25 frame
    let (m, s) = try align(
      reference: ref, output: out, interval: 0.04, outputRate: 25, policy: AlignmentPolicy(window: 0.25))
    #expect(m.allSatisfy { $0 == nil })
    #expect(s.matched == 0 && s.dropped == 10)
    #expect(s.problem(under: AlignmentPolicy(window: 0.25)) != nil)
    // With the default half-frame window the same output matches, and the offset is reported.
    let (_, loose) = try align(reference: ref, output: out, interval: 0.04, outputRate: 25)
    #expect(loose.matched == 10 && abs(loose.maxOffset - 0.012) < 1e-12)
  }

  @Test func backwardsTimestampsAreReported() throws {
    var out = ref
    out.swapAt(4, 5)
    let (_, s) = try align(reference: ref, output: out, interval: 0.04, outputRate: 25)
    #expect(s.backwardsAt == 5)
    #expect(s.problem(under: AlignmentPolicy())?.contains("backwards") == true)
  }
}

/// The same alignment on real files made by the ffmpeg CLI: timestamps come from the
/// containers, frames arrive in presentation order whatever the decode order.
@Suite struct FileAlignmentTests {
  /// Ground truth: 25 frames at 25 fps, lossless.
  func makeReference(_ dir: String) throws -> String {
    let p = dir + "/gt.mkv"
    try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=s=32x24:r=25:d=1", "-c:v", "ffv1", p])
    return p
  }

  func alignFiles(reference: String, output: String) throws -> ([Int?], AlignmentStats) {
    let gt = try VideoReader(path: reference, options: ReadOptions(rgb: .none))
    let out = try VideoReader(path: output, options: ReadOptions(rgb: .none))
    let aligner = FrameAligner<Int>(referenceInterval: 1 / gt.frameRate, outputRate: out.frameRate, policy: .init()) {
      guard let f = try out.nextFrame() else { return nil }
      return (f.time, f.index)
    }
    var matched: [Int?] = []
    while let g = try gt.nextFrame() { matched.append(try aligner.match(referenceTime: g.time)) }
    return (matched, try aligner.finish())
  }

  func output(_ dir: String, _ name: String, _ args: [String]) throws -> String {
    let p = dir + "/" + name
    try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=s=32x24:r=25:d=1"] + args + [p])
    return p
  }

  /// A frame reached by time, with non-reference frames before it discarded, is the very
  /// picture a full decode shows at that time (H.264 with B-frames, so some are discarded).
  @Test func frameAtTimeEqualsTheFullDecodeAtThatTime() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bframes = try output(dir, "b.mp4", ["-c:v", "libx264", "-bf", "3", "-g", "25", "-crf", "30"])
    let full = try VideoReader(path: bframes, options: ReadOptions(rgb: .eight, decoderThreads: 1))
    var pictures: [(time: Double, rgb: RGBImage)] = []
    while let f = try full.nextFrame() { pictures.append((f.time, f.rgb!)) }
    #expect(pictures.count == 25)
    for index in [0, 1, 7, 13, 22, 24] {
      let reader = try VideoReader(path: bframes, options: ReadOptions(rgb: .eight, decoderThreads: 1))
      let f = try #require(try reader.frame(at: pictures[index].time, tolerance: 0.02))
      #expect(abs(f.time - pictures[index].time) < 1e-9, "frame \(index)")
      #expect(f.rgb == pictures[index].rgb, "frame \(index)")
    }
    let past = try VideoReader(path: bframes, options: ReadOptions(rgb: .eight, decoderThreads: 1))
    #expect(try past.frame(at: 5, tolerance: 0.02) == nil)
  }

  @Test func bFramesVFRDropsAndRateChangesFromRealContainers() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let gt = try makeReference(dir)

    // H.264 with B-frames: decode order differs from presentation order.
    let bframes = try output(dir, "b.mp4", ["-c:v", "libx264", "-bf", "3", "-g", "12", "-pix_fmt", "yuv420p"])
    let (m1, s1) = try alignFiles(reference: gt, output: bframes)
    #expect(m1 == Array(0..<25))
    #expect(s1.matched == 25 && s1.dropped == 0 && s1.duplicated == 0 && s1.maxOffset < 1e-6)

    // 50 fps output: every reference frame matched at its own time, the rest extra.
    let fast = try output(dir, "fast.mkv", ["-vf", "fps=50", "-c:v", "ffv1"])
    let (m2, s2) = try alignFiles(reference: gt, output: fast)
    #expect(m2 == (0..<25).map { $0 * 2 })
    #expect(s2.matched == 25 && s2.extra >= 24 && s2.duplicated == 0)

    // Variable frame rate: odd frames 8 ms late.
    let vfr = try output(
      dir, "vfr.mkv",
      [
        "-vf", "settb=1/1000,setpts=N/25/TB+mod(N\\,2)*0.008/TB", "-fps_mode", "passthrough", "-enc_time_base",
        "1:1000", "-c:v", "ffv1",
      ])
    let (m3, s3) = try alignFiles(reference: gt, output: vfr)
    #expect(m3 == Array(0..<25))
    #expect(abs(s3.maxOffset - 0.008) < 0.0011)  // MKV stores milliseconds

    // Frames 5 and 6 dropped, timestamps kept: the rest stay on their own reference frames.
    let dropped = try output(
      dir, "drop.mkv",
      ["-vf", "select=not(between(n\\,5\\,6))", "-fps_mode", "passthrough", "-enc_time_base", "1:1000", "-c:v", "ffv1"])
    let (m4, s4) = try alignFiles(reference: gt, output: dropped)
    #expect(s4.dropped == 2 && s4.matched == 23)
    #expect(m4[5] == nil && m4[6] == nil && m4[7] == 5)
    #expect(s4.problem(under: AlignmentPolicy()) != nil)

    // Frame 4 repeated in frame 3's slot and frame 4's slot left empty (a repeat-and-drop).
    let repeated = try output(
      dir, "rep.mkv",
      [
        "-vf", "settb=1/1000,setpts=(N-eq(N\\,4)*0.75)/25/TB", "-fps_mode", "passthrough", "-enc_time_base", "1:1000",
        "-c:v", "ffv1",
      ])
    let (m5, s5) = try alignFiles(reference: gt, output: repeated)
    #expect(s5.duplicated == 1 && s5.dropped == 1)
    #expect(m5[4] == nil)
  }
}
