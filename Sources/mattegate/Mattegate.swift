import ArgumentParser
import Clips
import Foundation
import MediaIO
import Runner

@main
struct Mattegate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mattegate",
    abstract: "A/B quality gate for video background removal.",
    discussion: """
      Exit codes of `run`: 0 gate passed · 1 error (bad input, provider failure) · 2 gate failed: \
      regression · 3 inconclusive · 64 usage.
      """,
    version: harnessVersion,
    subcommands: [
      Synth.self, ClipSetCommand.self, Run.self, Calibrate.self, ReportCommand.self, Merge.self, History.self,
      Promote.self, Rollback.self, DefaultsCommand.self, RunsCommand.self, NoteCommand.self,
      Extract.self, Score.self, Bench.self,
      Serve.self, ServeAPI.self,
    ]
  )

  static func main() async {
    AllocatorTuning.keepLargeBuffersOnTheHeap()
    do {
      var command = try parseAsRoot(nil)
      if var command = command as? any AsyncParsableCommand {
        try await command.run()
      } else {
        try command.run()
      }
    } catch  where ErrorText.isFoundation(error) {
      // Foundation's errors (file operations) as one sentence, never its NSError dump.
      printError("Error: " + ErrorText.plain(error))
      Foundation.exit(1)
    } catch {
      exit(withError: error)
    }
  }
}

/// Writes a line to standard error.
func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
