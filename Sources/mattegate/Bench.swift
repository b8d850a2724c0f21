import ArgumentParser
import Engine
import Foundation
import MatteMetrics
import MediaIO

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Release-mode figures.", subcommands: [Decode.self, MetricsCommand.self, EngineCommand.self])

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

    func run() throws {
      let cores = ProcessInfo.processInfo.activeProcessorCount
      print(
        "ms per 1920x1080 16-bit frame pair, median of \(max(1, repeats))".padding(
          toLength: 66, withPad: " ", startingAt: 0) + "  one core  all \(cores) cores")
      for row in MetricsBenchmark.run(repeats: max(1, repeats), parts: parts, only: only) {
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
}
