import Clips
import Foundation
import MatteMetrics
import MediaIO
import Services
import TestSupport
import Testing

@testable import Runner

/// Composited outputs and clips without ground truth through the clip scorer, with outputs the
/// embedded engine really writes.
@Suite(.serialized) struct ExtraMeasuresTests {
  func config(_ dir: String, _ text: String) throws -> ArmConfig {
    let path = dir + "/\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try ArmConfig.load(path)
  }

  func engineOutput(_ set: ClipSet, _ clip: Clip, _ config: ArmConfig, to path: String) async throws -> String {
    let request = JobRequest(
      clipID: clip.id, sourcePath: set.path(of: clip.source), sourceSHA256: clip.source.sha256,
      cleanPlatePath: clip.cleanPlate.map { set.path(of: $0) }, arm: "B", config: config, outputPath: path,
      idempotencyKey: UUID().uuidString)
    return try await LocalProvider().submit(request).outputPath
  }

  @Test func aCompositeArmGetsCompositeErrorTheDetectedFitAndTheAspectClass() async throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let set = try SyntheticClipSet.generate(preset: .smoke, folder: dir + "/set", size: (64, 36), frames: 6)
    let clip = set.clips[0]
    // A square background for a 16:9 source: aspect class large; contain pads top and bottom.
    _ = try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc=s=48x48", "-frames:v", "1", dir + "/bg.png"])
    let transparent = try config(dir, "name: a\nmodel: soft-keyer\n")
    let composite = try config(
      dir, "name: b\nmodel: soft-keyer\noutput_format: mp4\nbg_type: image\nbg_image: bg.png\nfit: contain\n")
    try LocalProvider().validate(composite)
    let a = try await engineOutput(set, clip, transparent, to: dir + "/a.webm")
    let b = try await engineOutput(set, clip, composite, to: dir + "/b.mp4")
    let score = try ClipScorer.score(
      clip: clip, in: set, outputA: a, outputB: b, configA: transparent, configB: composite,
      alignment: AlignmentPolicy())
    #expect(score.frames == 6 && score.misalignment == nil)
    // Arm A keeps its alpha metrics; arm B has none (no alpha) but composite measures.
    #expect(score.totalsA.value(.frame, .mad) != nil && score.totalsB.value(.frame, .mad) == nil)
    let armB = score.extras.filter { $0.arm == "B" }
    let mse = try #require(armB.first { $0.measure == "composite_mse" && $0.region == "frame" }?.value)
    let psnr = try #require(armB.first { $0.measure == "composite_psnr" && $0.region == "frame" }?.value)
    #expect(mse > 0 && mse < 50 && psnr > 13)
    let fit = try #require(armB.first { $0.measure == "applied_fit" }?.detail)
    #expect(fit.hasPrefix("detected contain, configured contain"), "\(fit)")
    #expect(armB.first { $0.measure == "aspect_class" }?.detail?.hasPrefix("large") == true)
    #expect(score.extras.allSatisfy { $0.arm == "B" })
  }

  @Test func aClipWithoutGroundTruthGetsItsOwnMeasures() async throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let set = try SyntheticClipSet.generate(preset: .smoke, folder: dir + "/set", size: (64, 36), frames: 6)
    var clip = set.clips[0]
    clip.alpha = nil
    clip.regionMasks = nil
    let c = try config(dir, "name: a\nmodel: soft-keyer\n")
    let a = try await engineOutput(set, clip, c, to: dir + "/a.webm")
    let score = try ClipScorer.score(
      clip: clip, in: set, outputA: a, outputB: a, configA: c, configB: c, alignment: AlignmentPolicy())
    #expect(!score.hasTruth && score.frames == 6 && score.totalsA.value(.frame, .mad) == nil)
    func value(_ arm: String, _ measure: String, _ region: String = "frame") -> Double? {
      score.extras.first { $0.arm == arm && $0.measure == measure && $0.region == region }?.value
    }
    // The same output on both arms: no disagreement anywhere, equal flicker and alignment.
    #expect(value("A-B", "disagreement") == 0)
    #expect(value("A", "flicker") != nil && value("A", "flicker") == value("B", "flicker"))
    let edge = try #require(value("A", "edge_alignment", "transition"))
    #expect(edge > 0 && edge <= 1)
    let lines = ReportBuilder.extraLines(score.extras, hasTruth: false)
    #expect(lines.first?.hasPrefix("No ground truth") == true && lines.contains { $0.hasPrefix("A-B: disagreement") })
  }
}
