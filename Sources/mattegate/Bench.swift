import ArgumentParser
import Clips
import Engine
import Foundation
import MatteMetrics
import MediaIO
import Report
import Runner
import Verdict

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Release-mode figures.",
    subcommands: [
      Decode.self, MetricsCommand.self, EngineCommand.self, Pipeline.self, Coverage.self, Regions.self,
    ])

  struct Regions: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "How well the hard regions derived from ground truth alone match a set's exact masks (Markdown).",
      discussion: """
        For every clip with ground-truth alpha and region masks (a synthetic set), derives hair, \
        glass and motion from the alpha alone, as a run does for a clip without masks, and counts \
        per region the pixels both mark, only the rule marks and only the exact mask marks: IoU, \
        precision and recall per clip and pooled over the set. Prints the rule's version.
        """)

    @Argument(help: "The clip set folder.")
    var clipset: String

    @Option(help: "Only these clips (comma-separated ids).")
    var only: String?

    @Option(help: "Compare every Nth frame (every frame is still read, for the motion region).")
    var step = 1

    func run() throws {
      let set = try ClipSet.load(folder: clipset, verifyHashes: false)
      let only = only.map { Set($0.split(separator: ",").map(String.init)) }
      let results = try RegionAgreement.measure(set: set, only: only, step: max(1, step))
      guard !results.isEmpty else {
        throw ValidationError("\(clipset): no clip has both ground truth and region masks")
      }
      print("\(set.name): derived regions (\(regionsVersion)) against the exact masks\n")
      print(RegionAgreement.table(results))
    }
  }

  struct Coverage: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Simulated coverage of the decision interval and the gate's error rates (Markdown tables).",
      discussion: """
        A/A per-clip log-ratios (true centre 0) from a normal law, Student's t with 3 degrees of \
        freedom, and t3 and Cauchy with one clip 10 times the others' spread, at 6 to 50 clips: \
        the share of sets whose 95% and 90% intervals cover 0, for the sign-flip inversion the \
        gate uses, the t interval and the BCa bootstrap. Then, on one endpoint with a 5% margin, \
        how often rollout calls B non-inferior at a true +5% (false pass) and at 0, and how often \
        alarm mode fires at 0 and at +10%. Build with `swift build -c release`.
        """)

    @Option(help: "Simulated clip sets per row of the coverage table (at least 2000).")
    var sets = 4000

    @Option(help: "Simulated clip sets per row of the error-rate table.")
    var rateSets = 2000

    @Option(help: "Seed of the simulation.")
    var seed: UInt64 = 2026

    func validate() throws {
      if sets < 100 || rateSets < 100 { throw ValidationError("--sets and --rate-sets must be at least 100") }
    }

    func run() throws {
      let start = Date()
      print("Coverage of the true 0 by two-sided intervals, A/A log-ratios with spread \(CoverageSimulation.scale):\n")
      print(CoverageSimulation.coverageTable(CoverageSimulation.coverage(sets: sets, seed: seed)))
      print("The gate's error rates on one endpoint, margin 5%, no noise band:\n")
      print(CoverageSimulation.ratesTable(CoverageSimulation.rates(sets: rateSets, seed: seed)))
      print(String(format: "seed %llu, %.0f s", seed, Date().timeIntervalSince(start)))
    }
  }

  struct EngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "engine",
      abstract: "Frames per second of each embedded-engine model at 1920×1080 on one core.",
      discussion: """
        Makes a 1080p test source, then times each model's matte alone and whole jobs (decode, \
        matte, write) per transparent output format; the best of --repeats runs counts. Build with \
        `swift build -c release` for figures worth quoting.
        """)

    @Option(help: "Frames in the test source.")
    var frames = 25

    @Option(help: "Runs per row; the best counts.")
    var repeats = 3

    func validate() throws {
      if frames < 1 { throw ValidationError("--frames must be at least 1") }
      if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
      print("frames per second at 1920x1080, one core, best of \(repeats)")
      _ = try EngineBenchmark.run(frames: frames, repeats: repeats) { row in
        print(
          row.name.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.1f fps", row.framesPerSecond)
        )
      }
    }
  }

  struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "metrics",
      abstract: "Median ms per 1920×1080 frame pair for each metric and all together, one core and all cores.")

    @Option(help: "Runs per row, interleaved across rows; the median counts.")
    var repeats = 21

    @Flag(help: "Time the parts of the scoring kernels instead.")
    var parts = false

    @Option(help: "Only the rows whose name contains this text (for profiling).")
    var only: String?

    @Flag(help: "One core only: the same work whatever the machine's cores (for instruction counts).")
    var oneCore = false

    func run() throws {
      let cores = ProcessInfo.processInfo.activeProcessorCount
      print(
        "ms per 1920x1080 16-bit frame pair, median of \(max(1, repeats))".padding(
          toLength: 66, withPad: " ", startingAt: 0) + "  one core" + (oneCore ? "" : "  all \(cores) cores"))
      for row in MetricsBenchmark.run(repeats: max(1, repeats), parts: parts, only: only, allCores: !oneCore) {
        print(
          row.name.padding(toLength: 66, withPad: " ", startingAt: 0)
            + String(format: "%9.2f ms", row.medianMS) + (row.allCoresMS.map { String(format: "%9.2f ms", $0) } ?? ""))
      }
    }
  }

  struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Frames per second decoding each file, next to `ffmpeg -f null` on the same file.",
      discussion: """
        mattegate's figure is what scoring reads: alpha at full precision when the media has alpha, \
        8-bit RGB otherwise. Each side runs --repeats times; the best time counts. Build with \
        `swift build -c release` for figures worth quoting. Benchmarks/make-decode-fixtures makes \
        1080p files in every supported format.
        """)

    @Argument(help: "Media files, PNG-sequence folders or ZIPs.")
    var media: [String]

    @Option(help: "Runs per side; the best counts.")
    var repeats = 3

    func validate() throws {
      if media.isEmpty { throw ValidationError("give at least one media file") }
      if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
      print(DecodeBenchmark.header)
      _ = try DecodeBenchmark.run(media, repeats: repeats) { print($0) }
    }
  }

  struct Pipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "A run's work after the jobs (decode A, B and ground truth, all metrics, storage) against ffmpeg decoding the same streams.",
      discussion: """
        Takes a stored run whose outputs exist (make one with `mattegate run`), scores every clip \
        again into a scratch database with --jobs clips at once, as a run does, then times the \
        ffmpeg CLI decoding the same streams (both outputs, ground-truth alpha and region masks; \
        libvpx-vp9 for VP9 with alpha) with as many clips at once, once before and once after \
        mattegate's side (their mean counts, so drift in the machine's speed weighs on both \
        sides). Prints both times, their ratio \
        and this process's peak resident memory. Build with `swift build -c release`.
        """)

    @Option(help: "The clip set folder.")
    var clipset: String

    @Option(help: "The run's database.")
    var db: String = "reports/mattegate.sqlite"

    @Option(help: "The run whose outputs are scored (the newest on this clip set by default).")
    var run: String?

    @Option(help: "Only these clips (comma-separated ids).")
    var only: String?

    @Option(help: "Clips at once on each side.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("skip-ffmpeg"), help: "Time mattegate's side only.")
    var skipFFmpeg = false

    @Flag(help: "Make no preview videos, as `run --no-previews` (to measure what previews cost).")
    var noPreviews = false

    @Flag(
      name: .customLong("metrics-only"),
      help: "Time only the metric kernels, on the first clip's frames held in memory (one core).")
    var metricsOnly = false

    @Option(help: "With --metrics-only: frames of the clip to hold.")
    var frames: Int = 12

    @Option(help: "With --metrics-only: passes over those frames.")
    var repeats: Int = 7

    func run() async throws {
      if metricsOnly {
        let clips = only.map { $0.split(separator: ",").map(String.init) } ?? []
        guard let clip = clips.first else { throw ValidationError("--metrics-only needs --only CLIP") }
        let r = try MetricsOnlyBenchmark.run(
          clipsetFolder: clipset, database: db, runID: run, clipID: clip, frames: max(2, frames),
          repeats: max(1, repeats))
        func line(_ name: String, _ values: [Double]) -> String {
          let sorted = values.sorted()
          return String(format: "%@ %.2f ms min, %.2f ms median", name, sorted[0], sorted[sorted.count / 2])
        }
        print("metrics on \(clip), \(r.frames) frames in memory, \(repeats) passes, ms per frame:")
        print(line("  truth preparation", r.truthMS))
        print(line("  arm A            ", r.armAMS))
        print(line("  arm B            ", r.armBMS))
        return
      }
      let result = try await PipelineBenchmark.run(
        clipsetFolder: clipset, database: db, runID: run,
        only: only.map { $0.split(separator: ",").map(String.init) } ?? [], workers: max(1, jobs),
        skipFFmpeg: skipFFmpeg, previews: !noPreviews
      ) { FileHandle.standardError.write(Data($0.utf8)) }
      print(
        String(
          format: "pipeline: %d clips, %d frames, %d at once: mattegate %.2f s (%.1f frames/s)", result.clips,
          result.frames, result.workers, result.oursSeconds, Double(result.frames) / result.oursSeconds))
      if !result.previewSizes.isEmpty {
        let rates = result.previewSizes.map { Double($0.bytes) / max($0.seconds, 1e-9) }
        let budget = Double(PreviewLayout.budgetBytesPerSecond)
        print(
          String(
            format: "previews: %d clips, %.1f MB in all, largest %.0f kB; at most %.0f kB per second of clip "
              + "(budget %.0f kB/s: %@)", result.previewSizes.count,
            Double(result.previewSizes.map(\.bytes).reduce(0, +)) / 1e6,
            Double(result.previewSizes.map(\.bytes).max() ?? 0) / 1e3, (rates.max() ?? 0) / 1e3, budget / 1e3,
            (rates.max() ?? 0) <= budget ? "within" : "OVER"))
      }
      if let ffmpeg = result.ffmpegSeconds, let wall = result.ffmpegWallSeconds, let ratio = result.ratio {
        print(String(format: "ffmpeg decoding the same streams: %.2f s (busiest worker; %.2f s wall)", ffmpeg, wall))
        print(
          String(format: "ratio mattegate / ffmpeg: %.2f (wall against wall: %.2f)", ratio, result.oursSeconds / wall))
      }
      print(String(format: "peak resident memory: %.0f MiB", Double(result.peakResidentBytes) / 1_048_576))
    }
  }
}
