import Clips
import Foundation
import MediaIO

/// Runs a user command per clip: any tool (an open-source model's inference script, an ffmpeg
/// filter chain) evaluated without writing Swift. The arm config's `exec.command` is run by
/// `/bin/sh -c` with `{input}` (the source), `{output}` (where the output must be written) and
/// `{config}` (the arm config file) replaced by single-quoted paths. The command's standard
/// error is kept next to the output (`<output>.stderr.txt`) and quoted in a failure's message.
public struct ExecProvider: Provider {
  public var name: String { "exec" }
  /// The command is part of each config, so of the cache key's config part.
  public var identity: String { "exec" }

  public init() {}

  public func validate(_ config: ArmConfig) throws {
    guard config.execCommand != nil else {
      throw ConfigError(
        file: config.file, field: "exec.command",
        message: "the exec provider needs exec.command, with {input} and {output} placeholders")
    }
  }

  /// `text` quoted for `/bin/sh`: single quotes, each inner one written as '\''.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// The command line with its placeholders filled in.
  static func commandLine(_ template: String, input: String, output: String, config: String) -> String {
    template.replacingOccurrences(of: "{input}", with: shellQuoted(input))
      .replacingOccurrences(of: "{output}", with: shellQuoted(output))
      .replacingOccurrences(of: "{config}", with: shellQuoted(config))
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    let started = Date()
    guard let template = request.config.execCommand else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "invalid_config", message: "no exec.command in the config")
    }
    let line = Self.commandLine(
      template, input: request.sourcePath, output: request.outputPath, config: request.config.file)
    let stderrPath = request.outputPath + ".stderr.txt"
    try? FileManager.default.removeItem(atPath: request.outputPath)
    _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
    let errorHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
    defer { try? errorHandle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", line]
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = errorHandle
    let finished = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in finished.signal() }
    do {
      try process.run()
    } catch {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "exec_failed", message: "could not start /bin/sh: \(error)")
    }
    let deadline = DispatchTime.now() + request.config.execTimeout
    let timedOut = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
      DispatchQueue.global().async {
        if finished.wait(timeout: deadline) == .success {
          done.resume(returning: false)
          return
        }
        // Past the time limit: ask, then insist. Foundation starts the shell as the leader of
        // its own process group, so the signal reaches everything the command started (an
        // orphan left running would keep the job open); the shell alone otherwise.
        let pid = process.processIdentifier
        func signal(_ number: Int32) { if kill(-pid, number) != 0 { kill(pid, number) } }
        signal(SIGTERM)
        if finished.wait(timeout: .now() + 2) == .timedOut {
          signal(SIGKILL)
          finished.wait()
        }
        done.resume(returning: true)
      }
    }
    let stderrTail = Self.tail(of: stderrPath)
    if timedOut {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "timeout",
        message:
          "the command ran longer than exec.timeout (\(request.config.execTimeout) s) and was stopped; stderr in \(stderrPath)"
          + (stderrTail.isEmpty ? "" : ": \(stderrTail)"), retryable: true, stderrPath: stderrPath)
    }
    guard process.terminationStatus == 0 else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "exec_failed",
        message:
          "the command exited with status \(process.terminationStatus); stderr in \(stderrPath)"
          + (stderrTail.isEmpty ? "" : ": \(stderrTail)"), stderrPath: stderrPath)
    }
    guard FileManager.default.fileExists(atPath: request.outputPath) else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "exec_no_output",
        message: "the command succeeded but wrote nothing at \(request.outputPath) ({output})", stderrPath: stderrPath)
    }
    let hash = try FileHash.sha256(ofFile: request.outputPath)
    let finishedAt = Date()
    var outcome = JobOutcome(
      providerJobID: "exec-\(request.idempotencyKey)", outputPath: request.outputPath, outputSHA256: hash,
      serviceVersion: nil, credits: 0, startedAt: started, finishedAt: finishedAt)
    outcome.queuedMS = 0
    outcome.processingMS = Int((finishedAt.timeIntervalSince(started) * 1000).rounded())
    outcome.stderrPath = stderrPath
    return outcome
  }

  /// The last lines of the command's standard error, at most 400 characters, on one line.
  static func tail(of path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let lines = text.split(separator: "\n").suffix(3).joined(separator: " | ")
    return lines.count > 400 ? "…" + String(lines.suffix(400)) : lines
  }
}
