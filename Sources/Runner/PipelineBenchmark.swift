import Clips
import Foundation
import MatteMetrics
import MediaIO
import Report
import Services
import Store
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `mattegate bench pipeline`: everything a run does after the jobs (decoding A, B and the
/// ground truth, every metric, the review images, storing the rows) for a stored run whose
/// outputs exist, against the ffmpeg CLI only decoding the same streams (before and after
/// mattegate's side, averaged), in one invocation.
public enum PipelineBenchmark {
  public struct Result: Sendable {
    public var clips: Int
    public var frames: Int
    /// Wall time of mattegate's side.
    public var oursSeconds: Double
    /// ffmpeg's side: the busiest worker's summed decoding loops (`-benchmark` rtime, without
    /// process start-up), and the wall time of the whole side; each the mean of a pass before
    /// mattegate's side and one after.
    public var ffmpegSeconds: Double?
    public var ffmpegWallSeconds: Double?
    /// Peak resident memory of this process after mattegate's side, in bytes.
    public var peakResidentBytes: Int
    public var workers: Int
    /// Each clip's preview: its size in bytes and its length in seconds (none with
    /// `--no-previews`).
    public var previewSizes: [(bytes: Int, seconds: Double)] = []
    public var ratio: Double? { ffmpegSeconds.map { oursSeconds / $0 } }
  }

  /// - Parameters:
  ///   - database: the run's database; the run's completed (or reused) outputs are scored.
  ///   - runID: the run, or the newest on this clip set when nil.
  ///   - only: clip ids to keep (all when empty).
  ///   - workers: clips at once on each side (the cores by default, as a run does).
  public static func run(
    clipsetFolder: String, database: String, runID: String?, only: [String], workers: Int, skipFFmpeg: Bool,
    previews: Bool = true, output: @escaping @Sendable (String) -> Void
  ) async throws -> Result {
    // The run already checked every pinned file against its sha256 as it loaded the set (the
    // manifest's hash ties the run to the set); scoring here does what it does after that load,
    // motion archives without their per-member CRC-32s included. Hashing the set again (5 GB for
    // the standard set) would only add to the process's instruction count, not to either side.
    var clipSet = try ClipSet.load(folder: clipsetFolder, verifyHashes: false)
    clipSet.hashesVerified = true
    let (run, outputs) = try storedOutputs(database: database, runID: runID, clipSet: clipSet)
    // In the order a run scores them (the most work first).
    let clips = ClipOrder.mostWorkFirst(
      clipSet.clips.enumerated().filter { item in
        (only.isEmpty || only.contains(item.element.id)) && outputs[item.element.id]?.count == 2
          && item.element.alpha != nil
      })
    guard !clips.isEmpty else { throw RunError("run \(run.id) has no clip with both outputs and ground truth") }
    let configA = try config(run.configAText, name: run.configAName)
    let configB = try config(run.configBText, name: run.configBName)

    // ffmpeg's side: the streams mattegate decodes (A, B, ground-truth alpha and region masks),
    // each with `ffmpeg -benchmark -f null`, the same number of clips at once; once before
    // mattegate's side and once after.
    var ffmpegPlan: [[[String]]]?
    var cleanups: [() -> Void] = []
    defer { for cleanup in cleanups { cleanup() } }
    var ffmpegBefore: (busiest: Double, wall: Double)?
    if !skipFFmpeg {
      var planned: [[[String]]] = []
      for (_, clip) in clips {
        var perClip: [[String]] = []
        var streams = [outputs[clip.id]!["A"]!, outputs[clip.id]!["B"]!, clipSet.path(of: clip.alpha!)]
        if let masks = clip.regionMasks { streams.append(clipSet.path(of: masks)) }
        for path in streams {
          let probe = try MediaInput.open(path, options: ReadOptions(rgb: .none))
          let (arguments, cleanup) = try DecodeBenchmark.ffmpegArguments(
            for: path, format: probe.formatDescription, colorToo: false)
          perClip.append(arguments)
          cleanups.append(cleanup)
        }
        planned.append(perClip)
      }
      ffmpegPlan = planned
      let before = try await ffmpegSide(planned, workers: workers)
      output(
        String(format: "ffmpeg, before: busiest worker %.2f s of decoding, %.2f s wall\n", before.busiest, before.wall))
      ffmpegBefore = before
    }

    // mattegate's side, into a scratch database and folder, as a run would.
    let scratch = NSTemporaryDirectory() + "mattegate-bench-pipeline-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let scratchStore = try ResultStore(path: scratch + "/bench.sqlite")
    var record = run
    record.id = "bench"
    try scratchStore.insert(record)
    let progress = RunProgress(total: clips.count, style: .lines, emit: { _ in })
    var setup = ClipContext(
      runID: "bench", runFolder: scratch, clipSet: clipSet, configA: configA, configB: configB,
      providers: ["A": LocalProvider(), "B": LocalProvider()], alignment: AlignmentPolicy(), store: scratchStore,
      progress: progress,
      scoring: Slots(workers))
    setup.previews = previews
    let context = setup
    output("mattegate: \(clips.count) clips of run \(run.id), \(workers) at once\n")
    let start = DispatchTime.now().uptimeNanoseconds
    var frames = 0
    try await withThrowingTaskGroup(of: Int.self) { group in
      var next = 0
      func launch() {
        let (index, clip) = clips[next]
        let pair = outputs[clip.id]!
        group.addTask {
          try FileManager.default.createDirectory(
            atPath: scratch + "/clips/" + clip.id, withIntermediateDirectories: true)
          return try context.scoreAndStore(clip: clip, index: index, outputA: pair["A"]!, outputB: pair["B"]!)
        }
        next += 1
      }
      while next < min(workers, clips.count) { launch() }
      while let n = try await group.next() {
        frames += n
        if next < clips.count { launch() }
      }
    }
    let ours = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let peak = peakResidentBytes()
    output(String(format: "mattegate: %.2f s, peak RSS %.0f MiB\n", ours, Double(peak) / 1_048_576))
    // The previews' sizes, against the budget the docs state.
    var previewSizes: [(bytes: Int, seconds: Double)] = []
    for clip in clips {
      let (layout, _, _) = ReportBuilder.preview(clipID: clip.1.id, runFolder: scratch)
      if let layout { previewSizes.append((layout.bytes, Double(layout.frames.count) / layout.fps)) }
    }

    // ffmpeg's side again: with the pass before ours, a machine that speeds up or slows down
    // during the benchmark weighs on both sides alike.
    var ffmpegBusiest: Double?
    var ffmpegWall: Double?
    if let plan = ffmpegPlan, let before = ffmpegBefore {
      let after = try await ffmpegSide(plan, workers: workers)
      output(
        String(format: "ffmpeg, after: busiest worker %.2f s of decoding, %.2f s wall\n", after.busiest, after.wall))
      ffmpegBusiest = (before.busiest + after.busiest) / 2
      ffmpegWall = (before.wall + after.wall) / 2
    }
    return Result(
      clips: clips.count, frames: frames, oursSeconds: ours, ffmpegSeconds: ffmpegBusiest,
      ffmpegWallSeconds: ffmpegWall, peakResidentBytes: peak, workers: workers, previewSizes: previewSizes)
  }

  /// Runs the planned ffmpeg commands (per clip, its streams in turn) with `workers` clips at
  /// once; returns the busiest worker's summed decoding time (ffmpeg's own rtime) and the wall
  /// time.
  static func ffmpegSide(_ commands: [[[String]]], workers: Int) async throws -> (busiest: Double, wall: Double) {
    let queue = TicketCounter()
    let wallStart = DispatchTime.now().uptimeNanoseconds
    // Each worker takes the next clip's streams until none is left; it returns its summed
    // decoding time, or the command that failed.
    let perWorker = await withTaskGroup(of: (Double, String?).self) { group in
      for _ in 0..<workers {
        group.addTask {
          var total = 0.0
          while case let i = queue.next(), i < commands.count {
            for arguments in commands[i] {
              guard let t = DecodeBenchmark.runFFmpeg(arguments) else {
                return (total, (["ffmpeg"] + arguments).joined(separator: " "))
              }
              total += t
            }
          }
          return (total, nil)
        }
      }
      return await group.reduce(into: []) { $0.append($1) }
    }
    if let command = perWorker.compactMap(\.1).first { throw RunError("ffmpeg failed: \(command)") }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9
    return (perWorker.map(\.0).max() ?? 0, wall)
  }

  /// A stored run on `clipSet` (the newest when `runID` is nil) and its completed or reused
  /// outputs, per clip and arm.
  static func storedOutputs(
    database: String, runID: String?, clipSet: ClipSet
  ) throws -> (run: RunRecord, outputs: [String: [String: String]]) {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let store = try ResultStore(path: database)
    let runs = try store.runs().filter { $0.clipsetSHA256 == clipSet.manifestSHA256 }
    guard let run = runID.flatMap({ id in runs.first { $0.id == id } }) ?? (runID == nil ? runs.last : nil) else {
      throw RunError(
        "\(database): no run \(runID.map { "\($0) " } ?? "")on clip set \(clipSet.name); make one with mattegate run first"
      )
    }
    var outputs: [String: [String: String]] = [:]
    for job in try store.jobs(runID: run.id) where ["completed", "reused"].contains(job.status) {
      if let path = job.outputPath { outputs[job.clipID, default: [:]][job.arm] = path }
    }
    return (run, outputs)
  }

  /// A stored config back from its canonical text (the settings the outputs were made with).
  static func config(_ text: String, name: String) throws -> ArmConfig {
    let path = NSTemporaryDirectory() + "mattegate-bench-config-\(UUID().uuidString).yaml"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var yaml = "name: \(name)\n"
    var engine: [String] = []
    var exec: [String] = []
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<eq])
      let value = String(line[line.index(after: eq)...])
      if key.hasPrefix("engine.") {
        engine.append("  \(key.dropFirst(7)): \(value)")
      } else if key.hasPrefix("exec.") {
        exec.append("  \(key.dropFirst(5)): \"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"")
      } else {
        let plain = value.allSatisfy { $0.isLetter || $0.isNumber || "._-/".contains($0) }
        yaml += "\(key): " + (plain ? value : "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"") + "\n"
      }
    }
    if !engine.isEmpty { yaml += "engine:\n" + engine.joined(separator: "\n") + "\n" }
    if !exec.isEmpty { yaml += "exec:\n" + exec.joined(separator: "\n") + "\n" }
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return try ArmConfig.load(path)
  }

  /// The process's peak resident set size so far.
  static func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
  }
}

/// Hands out 0, 1, 2, … to concurrent workers.
///
/// `Sendable`: the count sits behind a `Mutex`.
final class TicketCounter: Sendable {
  private let count = Mutex(0)

  func next() -> Int {
    count.withLock { c in
      defer { c += 1 }
      return c
    }
  }
}
