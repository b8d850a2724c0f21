import ArgumentParser
import Clips
import Foundation
import MediaIO
import Runner

@main
struct Mattegate: ParsableCommand {
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

  /// A synchronous entry point: an async subcommand runs as a task while this thread waits.
  /// Swift's async `main` hands the main thread to `dispatch_main`, which parks it in
  /// `sigsuspend` for good; valgrind 3.19 crashes as soon as another thread starts after that,
  /// so no command that starts threads (`bench pipeline`, `run`) could have its instructions
  /// counted (Benchmarks/instructions). Nothing here uses the main queue or the main actor.
  static func main() {
    AllocatorTuning.keepLargeBuffersOnTheHeap()
    do {
      var command = try parseAsRoot(nil)
      if let asyncCommand = command as? any AsyncParsableCommand {
        try Blocking.run(asyncCommand)
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

/// Runs an async command to its end from synchronous code.
enum Blocking {
  private final class Outcome: @unchecked Sendable {
    // Written by the task before it signals, read after the wait: the semaphore orders them.
    var error: (any Error)?
  }

  private struct Command: @unchecked Sendable {
    var value: any AsyncParsableCommand
  }

  static func run(_ command: any AsyncParsableCommand) throws {
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let box = Command(value: command)
    Task {
      var command = box.value
      do { try await command.run() } catch { outcome.error = error }
      done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
  }
}
