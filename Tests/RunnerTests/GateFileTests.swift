import Clips
import Foundation
import Testing

@testable import Runner
@testable import Verdict

@Suite struct GateFileTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  func write(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "gate-\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func theShippedGateIsTheDefault() throws {
    let shipped = try GateFile.load(Self.repository + "/configs/gate.yaml")
    #expect(shipped == GatePolicy.standard)
    #expect(shipped.alpha == 0.05)
  }

  @Test func aUsersFileOverridesTheDefault() throws {
    let path = try write(
      """
      primaries: [hair/Grad, motion/dtSSD]
      margin: 0.04
      margins:
        hair/Grad: 0.08
      alpha: 0.01
      worst_clip_margin: 0.5
      min_clips: 10
      """)
    let p = try GateFile.load(path)
    #expect(p.primaries == [Endpoint(region: "hair", metric: "Grad"), Endpoint(region: "motion", metric: "dtSSD")])
    #expect(p.margin(of: Endpoint(region: "hair", metric: "Grad")) == 0.08)
    #expect(p.margin(of: Endpoint(region: "motion", metric: "dtSSD")) == 0.04)
    #expect(p.alpha == 0.01 && p.worstClipMargin == 0.5 && p.minClips == 10)
    // The stored text gives the same policy back, with measured noise bands too.
    var withBands = p
    withBands.noiseBands = [
      Endpoint(region: "hair", metric: "Grad"): 0.02, Endpoint(region: "frame", metric: "MSE"): 0.3,
    ]
    let back = try #require(GatePolicy(canonicalText: withBands.canonicalText))
    #expect(back == withBands)
    // A band is used as measured, but never above the endpoint's margin.
    #expect(back.noise(of: Endpoint(region: "hair", metric: "Grad")) == 0.02)
    #expect(back.noise(of: Endpoint(region: "frame", metric: "MSE")) == 0.04)
    // Text stored before alpha, margins and bands existed still reads.
    let old = "primaries=hair/Grad\nmargin=0.05\nnoise=0.0\nworst_clip_margin=0.25\nmin_clips=6"
    #expect(GatePolicy(canonicalText: old)?.alpha == 0.05)
  }

  @Test func unknownKeysAndBadValuesAreErrorsNamingTheFileAndField() throws {
    let unknown = try write("primaries: [hair/Grad]\nmargn: 0.05\n")
    #expect {
      _ = try GateFile.load(unknown)
    } throws: { error in
      let e = error as? ConfigError
      return e?.file == unknown && "\(error)".contains("margn")
    }
    let badMargin = try write("margins:\n  hair/Gradient: 0.1\n")
    #expect {
      _ = try GateFile.load(badMargin)
    } throws: { error in
      (error as? ConfigError)?.field == "margins" && "\(error)".contains("hair/Gradient")
    }
    let badAlpha = try write("alpha: 0.5\n")
    #expect {
      _ = try GateFile.load(badAlpha)
    } throws: { error in
      (error as? ConfigError)?.field == "alpha"
    }
  }

  @Test func aNoiseBandMakesSmallChangesTies() {
    // Eight clips 2% worse: significant against a zero band, a tie inside a 3% band.
    let obs = (0..<8).map { PairedObservation(clipID: "c\($0)", a: 1, b: 1.02) }
    let strict = PairedStatistics.analyse(obs, margin: 0.05, noise: 0)
    #expect(strict.label == .regressed && strict.losses == 8)
    let banded = PairedStatistics.analyse(obs, margin: 0.05, noise: 0.03)
    #expect(banded.label != .regressed && banded.ties == 8)
  }

  @Test func alphaSetsTheClipsTheIntervalsNeed() {
    // At α = 0.01 the 99% interval needs 2ⁿ·0.5% ≥ 1: 7 clips (128 patterns) are too few, 8 do.
    let seven = (0..<7).map { PairedObservation(clipID: "c\($0)", a: 1, b: 1.02) }
    let r7 = PairedStatistics.analyse(seven, margin: 0.05, noise: 0, alpha: 0.01)
    #expect(r7.note == "insufficient clips (n = 7, need ≥ 8)")
    let r8 = PairedStatistics.analyse(
      seven + [PairedObservation(clipID: "c7", a: 1, b: 1.02)], margin: 0.05, noise: 0, alpha: 0.01)
    #expect(r8.label == .regressed && r8.warning == "worse, within margin")
    #expect(r8.pValue == 2.0 / 256)
  }

  /// The message of the error `load` throws for `text`, or nil.
  func loadError(_ text: String) throws -> (error: ConfigError, path: String)? {
    let path = try write(text)
    do {
      _ = try GateFile.load(path)
      return nil
    } catch {
      return (error, path)
    }
  }

  @Test func modesAndTheirRefusals() throws {
    #expect(try GateFile.load(try write("mode: alarm\n")).mode == .alarm)
    #expect(try GateFile.load(try write("primaries: [hair/Grad]\n")).mode == .rollout)
    // The shipped gate is valid in alarm mode too (min_clips 8 attains α over 5 primaries).
    let shipped = try String(contentsOfFile: Self.repository + "/configs/gate.yaml", encoding: .utf8)
    #expect(
      try GateFile.load(try write(shipped.replacingOccurrences(of: "mode: rollout", with: "mode: alarm"))).mode
        == .alarm)
    let cases: [(String, String, Int, String)] = [
      ("description: x\nmode: strict\n", "mode", 2, "'strict' is not a gate mode"),
      ("margin: 0\n", "margin", 1, "must be in (0, 1)"),
      ("margin: 1.0\n", "margin", 1, "must be in (0, 1)"),
      ("margin: 0.05\nnoise: 0.06\n", "noise", 2, "must not exceed the margin"),
      ("noise: 0.03\nmargins:\n  hair/Grad: 0.02\n", "margins.hair/Grad", 3, "below the noise band"),
      ("primaries: [hair/Blur]\n", "primaries", 1, "'hair/Blur' is not region/metric"),
      ("primaries: [face/MSE]\n", "primaries", 1, "'face/MSE' is not region/metric"),
      (
        "mode: alarm\nmin_clips: 6\n", "min_clips", 2,
        "6 clips cannot reach α = 0.05 under Holm over 5 primaries (the smallest adjusted p is 5·2/2^6 = 0.156): alarm mode needs min_clips ≥ 8"
      ),
    ]
    for (text, field, line, message) in cases {
      let (error, path) = try #require(try loadError(text), "\(text) was accepted")
      #expect(error.file == path && error.field == field && error.line == line, "\(error)")
      #expect("\(error)".contains(message), "\(error)")
      #expect(!"\(error)".contains("\n"), "one line: \(error)")
    }
    // Rollout accepts 6 clips: no multiplicity adjustment decides it.
    #expect(try GateFile.load(try write("mode: rollout\nmin_clips: 6\n")).minClips == 6)
  }
}
