import Foundation
import Testing

/// End to end with differences planted on purpose: arm A is the ground truth itself and arm B
/// the ground truth degraded in one kind of region only, both written by the ffmpeg CLI through
/// the exec provider (losslessly, so the arms agree exactly wherever nothing was planted). The
/// verdict must blame exactly the regions that were degraded.
@Suite(.serialized) struct PlantedDifferenceTests {
  /// Eight small clips of hair, glass and motion (region codes: 32 motion, 64 hair, 128 glass).
  static let clips: String = {
    let dir = (try! CLI.folder()) + "/demo"
    let r = try! CLI.run(["synth", "--preset", "demo", "--out", dir, "--size", "96x54", "--frames", "6"])
    precondition(r.status == 0, "synth failed: \(r.stderr)")
    return dir
  }()

  static let encode = "-c:v libvpx-vp9 -lossless 1 -metadata:s:v:0 alpha_mode=1 {output}"

  /// A config whose output's alpha is the clip's ground truth passed through `filter`, which
  /// reads the 8-bit truth as [a] and [b] and the region codes as [r], and writes [o].
  static func config(_ name: String, filter: String, in dir: String, frameCount: Bool = false) throws -> String {
    let path = dir + "/\(name).yaml"
    let count =
      frameCount
      ? #"n=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$d/alpha.mkv");"#
      : ""
    try """
    name: \(name)
    model: planted-\(name)
    output_format: webm
    exec:
      command: >-
        d=$(dirname {input}); \(count)
        ffmpeg -v error -y -i "$d/alpha.mkv" -i "$d/regions.mkv" -i {input}
        -filter_complex "[0:v]format=gray,split[a][b];[1:v]null[r];\(filter);[2:v]format=yuv420p[c];[c][o]alphamerge,format=yuva420p"
        \((frameCount ? #"-frames:v "$n" "# : "") + encode)
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The configs and a gate whose primaries are the hair, glass and motion endpoints.
  static func setUp() throws -> (dir: String, exact: String, hair: String, motion: String, gate: String) {
    let dir = try CLI.folder()
    let exact = try config("exact", filter: "[b]nullsink;[r]nullsink;[a]null[o]", in: dir)
    // Hair strands blurred where the code is hair alone (64).
    let hair = try config(
      "hair-blurred",
      filter: "[b]boxblur=2:2[bl];[r]geq=lum='255*eq(lum(X,Y),64)'[m];[a][bl][m]maskedmerge[o]", in: dir)
    // One frame of lag where the code is motion alone (32), kept 6 pixels away from hair and glass
    // so that Grad's 9×9 neighbourhood there sees nothing planted.
    let motion = try config(
      "motion-lagged",
      filter:
        "[b]tpad=start=1:start_mode=clone[lag];[r]split[r1][r2];[r1]geq=lum='255*eq(lum(X,Y),32)'[mo];"
        + "[r2]geq=lum='255*gt(lum(X,Y),32)',dilation,dilation,dilation,dilation,dilation,dilation[near];"
        + "[mo][near]blend=all_expr='A*(1-B/255)'[m];[a][lag][m]maskedmerge[o]",
      in: dir, frameCount: true)
    let gate = dir + "/gate.yaml"
    try "primaries: [hair/Grad, hair/MSE, glass/MSE, motion/MAD, motion/dtSSD]\n"
      .write(toFile: gate, atomically: true, encoding: .utf8)
    return (dir, exact, hair, motion, gate)
  }

  /// Runs A against B and returns the exit status and the verdict JSON's primary endpoints.
  static func run(
    _ a: String, _ b: String, gate: String, dir: String
  ) throws -> (status: Int32, verdicts: [String: String], json: [String: Any], stdout: String) {
    let db = dir + "/m.sqlite"
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", a, "--b", b, "--provider", "exec", "--gate", gate, "--db", db, "--out",
      dir + "/reports",
    ])
    let line = try #require(
      r.stdout.split(separator: "\n").first { $0.hasPrefix("for CI: ") }, "\(r.stdout)\n\(r.stderr)")
    let json = try #require(line.dropFirst(8).split(separator: ", ").first { $0.hasSuffix("verdict.json") })
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: String(json)))) as? [String: Any])
    var verdicts: [String: String] = [:]
    for e in object["endpoints"] as? [[String: Any]] ?? [] where e["primary"] as? Bool == true {
      verdicts["\(e["region"]!)/\(e["metric"]!)"] = e["verdict"] as? String
    }
    return (r.status, verdicts, object, r.stdout)
  }

  @Test func hairBlurredRegressesHairOnly() throws {
    let s = try Self.setUp()
    let r = try Self.run(s.exact, s.hair, gate: s.gate, dir: s.dir)
    #expect(r.status == 2)
    // Flagged: worse past the margin (Inferior) or significantly worse (Regressed).
    let flagged: Set<String?> = ["Inferior", "Regressed"]
    #expect(flagged.contains(r.verdicts["hair/Grad"]), "\(r.verdicts)")
    #expect(flagged.contains(r.verdicts["hair/MSE"]), "\(r.verdicts)")
    for other in ["glass/MSE", "motion/MAD", "motion/dtSSD"] {
      #expect(
        r.verdicts[other] != nil && !flagged.contains(r.verdicts[other]), "\(other): \(r.verdicts[other] ?? "none")")
    }
    #expect(r.verdicts["glass/MSE"] == "Equivalent")  // nothing planted there: identical errors
  }

  @Test func motionLaggedRegressesMotionOnly() throws {
    let s = try Self.setUp()
    let r = try Self.run(s.exact, s.motion, gate: s.gate, dir: s.dir)
    #expect(r.status == 2)
    let flagged: Set<String?> = ["Inferior", "Regressed"]
    #expect(flagged.contains(r.verdicts["motion/MAD"]), "\(r.verdicts)")
    #expect(flagged.contains(r.verdicts["motion/dtSSD"]), "\(r.verdicts)")
    for other in ["hair/Grad", "hair/MSE", "glass/MSE"] {
      #expect(r.verdicts[other] == "Equivalent", "\(other): \(r.verdicts[other] ?? "none")")
    }
  }

  @Test func aAgainstItselfPassesAndCalibratesToAZeroBand() throws {
    let s = try Self.setUp()
    let r = try Self.run(s.exact, s.exact, gate: s.gate, dir: s.dir)
    #expect(r.status == 0)
    #expect(Set(r.verdicts.values) == ["Equivalent"])
    // `report` renders the same CI files again from SQLite, with the same exit code.
    let runID = try #require(r.json["run"] as? String)
    let junit = try CLI.run(["report", runID, "--format", "junit", "--db", s.dir + "/m.sqlite"])
    #expect(junit.status == 0)
    #expect(junit.stdout == (try String(contentsOfFile: s.dir + "/reports/\(runID)/junit.xml", encoding: .utf8)))
    // A/A calibration of a deterministic provider: every band is zero, stored, and used.
    let db = s.dir + "/m.sqlite"
    let c = try CLI.run([
      "calibrate", "--clipset", Self.clips, "--config", s.exact, "--provider", "exec", "--gate", s.gate, "--db", db,
      "--out", s.dir + "/reports",
    ])
    #expect(c.status == 0, "\(c.stderr)")
    #expect(c.stdout.contains("hair/Grad") && c.stdout.contains("0.00%"))
    let bands = try CLI.tool(
      URL(fileURLWithPath: "/usr/bin/sqlite3"), [db, "SELECT COUNT(*) >= 25, MAX(noise), MIN(clips) FROM calibrations"])
    #expect(bands.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("1|0.0|8"), "\(bands.stdout)")
    let next = try CLI.run([
      "run", "--clipset", Self.clips, "--a", s.exact, "--b", s.hair, "--provider", "exec", "--gate", s.gate, "--db",
      db, "--out", s.dir + "/reports",
    ])
    #expect(next.stderr.contains("noise bands from A/A calibration run"), "\(next.stderr)")
    #expect(next.status == 2)
    let stored = try CLI.tool(
      URL(fileURLWithPath: "/usr/bin/sqlite3"), [db, "SELECT gate_text FROM runs ORDER BY created_at DESC LIMIT 1"])
    #expect(
      stored.stdout.contains("noise_bands=frame/Conn=0.0,") && stored.stdout.contains(",hair/Grad=0.0,"),
      "\(stored.stdout)")
  }

  @Test func calibrationMeasuresTheBandOfANoisyProvider() throws {
    let s = try Self.setUp()
    // Fresh random noise on the alpha at every submission: A against itself differs.
    let noisy = try Self.config(
      "noisy",
      filter:
        #"[b]nullsink;[r]nullsink;[a]noise=alls=6:allf=u:all_seed=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')[o]"#,
      in: s.dir)
    let db = s.dir + "/m.sqlite"
    let c = try CLI.run([
      "calibrate", "--clipset", Self.clips, "--config", noisy, "--provider", "exec", "--gate", s.gate, "--db", db,
      "--out", s.dir + "/reports",
    ])
    #expect(c.status == 0, "\(c.stderr)")
    let band = try CLI.tool(
      URL(fileURLWithPath: "/usr/bin/sqlite3"),
      [db, "SELECT noise FROM calibrations WHERE region = 'frame' AND metric = 'MSE'"])
    let value = try #require(Double(band.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(band.stdout)")
    #expect(value > 0.0005 && value < 1, "frame/MSE band \(value)")
  }

  /// A config whose alpha is the 8-bit truth scaled by out/255: an opaque pixel's error is
  /// 255 − out codes, so two gains give a known ratio of MSE on every clip.
  static func gain(_ name: String, out: Int, in dir: String) throws -> String {
    try config(name, filter: "[b]nullsink;[r]nullsink;[a]lut=c0='val*\(out)/255'[o]", in: dir)
  }

  static func gate(_ text: String, in dir: String, _ name: String) throws -> String {
    let path = dir + "/\(name).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Significantly worse but inside the margin: opaque errors of 101 codes against 100, so
  /// frame/MSE is about 2% worse on all 8 clips (sign-flip p = 2/256). Rollout passes with the
  /// warning in every output; alarm fails on the same data.
  @Test func withinMarginPassesRolloutWithAWarningAndFailsTheAlarm() throws {
    let dir = try CLI.folder()
    let a = try Self.gain("a100", out: 155, in: dir)
    let b = try Self.gain("b101", out: 154, in: dir)
    let rollout = try Self.gate("mode: rollout\nprimaries: [frame/MSE]\nmin_clips: 6\n", in: dir, "rollout")
    let alarm = try Self.gate("mode: alarm\nprimaries: [frame/MSE]\nmin_clips: 6\n", in: dir, "alarm")
    let r = try Self.run(a, b, gate: rollout, dir: dir)
    #expect(r.status == 0, "\(r.json["gate"] ?? "")")
    #expect(r.verdicts["frame/MSE"] == "Regressed")
    let runID = try #require(r.json["run"] as? String)
    let gate = try #require(r.json["gate"] as? [String: Any])
    #expect(gate["mode"] as? String == "rollout")
    #expect((gate["warnings"] as? [String])?.first?.contains("frame/MSE: worse, within margin") == true)
    let endpoint = try #require((r.json["endpoints"] as? [[String: Any]])?.first { $0["primary"] as? Bool == true })
    let estimate = try #require(endpoint["estimate_pct"] as? Double)
    let upper = try #require((endpoint["decision_interval"] as? [String: Any])?["high_pct"] as? Double)
    #expect(estimate > 1 && estimate < 3.5 && upper < 5, "\(estimate) \(upper)")
    let folder = dir + "/reports/\(runID)"
    let junit = try String(contentsOfFile: folder + "/junit.xml", encoding: .utf8)
    #expect(junit.contains("failures=\"0\"") && junit.contains("<skipped message=\"WARNING: worse, within margin"))
    let md = try String(contentsOfFile: folder + "/summary.md", encoding: .utf8)
    #expect(
      md.contains("✅ PASS (exit 0, rollout mode)") && md.contains("⚠️ **Warning**: frame/MSE: worse, within margin"))
    let html = try String(contentsOfFile: folder + "/index.html", encoding: .utf8)
    #expect(html.contains("rollout mode") && html.contains("⚠ worse, within margin"))
    #expect(html.contains("<td class=\"num ci90\">[+"))
    // The terminal says the same.
    #expect(r.stdout.contains("gate mode: rollout"))
    #expect(r.stdout.contains("Regressed — WARNING: worse, within margin"), "\(r.stdout)")
    #expect(r.stdout.contains("PASS (rollout)"))
    // `report` renders the same summary again from SQLite (without the report's path).
    let again = try CLI.run(["report", runID, "--format", "md", "--db", dir + "/m.sqlite"])
    #expect(again.status == 0 && md.hasPrefix(again.stdout.components(separatedBy: "\nFull report:")[0]))
    let alarmed = try Self.run(a, b, gate: alarm, dir: dir)
    #expect(alarmed.status == 2)
    #expect(alarmed.verdicts["frame/MSE"] == "Regressed")
    #expect(((alarmed.json["gate"] as? [String: Any])?["summary"] as? String)?.hasPrefix("FAIL (alarm)") == true)
  }

  /// Seven clips, B uniformly about 19% worse on frame/MSE (opaque errors 109 against 100):
  /// the default gate (5 primaries, min_clips 8) fails in both modes: the 90% interval lies above
  /// the 5% margin, and a confident regression needs no quorum.
  @Test func aUniformRegressionOnSevenClipsFailsInBothModes() throws {
    let dir = try CLI.folder()
    let seven = dir + "/seven"
    try FileManager.default.copyItem(atPath: Self.clips, toPath: seven)
    let manifest = seven + "/clipset.yaml"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    let last = try #require(text.range(of: "\n  - id:", options: .backwards))
    try String(text[..<last.lowerBound] + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
    let a = try Self.gain("a100", out: 155, in: dir)
    let b = try Self.gain("b109", out: 146, in: dir)
    let shipped = try String(
      contentsOfFile: CLI.repository.path + "/configs/gate.yaml", encoding: .utf8)
    for mode in ["rollout", "alarm"] {
      let gate = try Self.gate(
        shipped.replacingOccurrences(of: "mode: rollout", with: "mode: \(mode)"), in: dir, "gate-\(mode)")
      let r = try CLI.run([
        "run", "--clipset", seven, "--a", a, "--b", b, "--provider", "exec", "--gate", gate, "--db",
        dir + "/m-\(mode).sqlite", "--out", dir + "/reports",
      ])
      #expect(r.status == 2, "\(mode): \(r.stdout)\n\(r.stderr)")
      #expect(r.stdout.contains("frame/MSE"), "\(r.stdout)")
      #expect(r.stdout.contains("Inferior"), "\(mode): \(r.stdout)")
      #expect(r.stdout.contains("n=7"), "\(r.stdout)")
      #expect(r.stdout.contains("FAIL (\(mode))"), "\(r.stdout)")
    }
  }
}
