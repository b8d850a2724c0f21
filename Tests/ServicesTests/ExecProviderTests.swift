import Clips
import Foundation
import MediaIO
import Testing

@testable import Services

/// The exec provider runs a real command through /bin/sh per clip.
@Suite(.serialized) struct ExecProviderTests {
  func folder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-exec-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  func request(_ config: ArmConfig, source: String, output: String) -> JobRequest {
    JobRequest(
      clipID: "clip-1", sourcePath: source, sourceSHA256: "", cleanPlatePath: nil, arm: "B", config: config,
      outputPath: output, idempotencyKey: UUID().uuidString)
  }

  func config(_ command: String, timeout: String = "") throws -> ArmConfig {
    let yaml =
      "name: tool\nmodel: external\noutput_format: webm\nexec:\n  command: \"\(command)\"\n" + timeout
    return try ArmConfig.load(try writeConfig(yaml))
  }

  @Test func pathsWithSpacesAndQuotesReachTheCommandIntact() async throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let source = dir + "/it's a clip.mp4"
    try Data("source bytes".utf8).write(to: URL(fileURLWithPath: source))
    let output = dir + "/out put.webm"
    let outcome = try await ExecProvider().submit(
      request(try config("cp {input} {output}"), source: source, output: output))
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("source bytes".utf8))
    #expect(outcome.outputSHA256 == (try FileHash.sha256(ofFile: output)))
    #expect(outcome.providerJobID.hasPrefix("exec-"))
  }

  @Test func anFFmpegKeyingChainProducesAReadableMatte() async throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A gray frame with a white square: ffmpeg's colorkey removes the gray.
    let source = dir + "/src.mp4"
    let writer = try VideoWriter(
      path: source, width: 32, height: 16, frameRate: 25, encoding: .h264(crf: 0, preset: "ultrafast"))
    for _ in 0..<3 {
      var pixels = [UInt8](repeating: 90, count: 32 * 16 * 3)
      for y in 4..<12 { for x in 8..<20 { for c in 0..<3 { pixels[(y * 32 + x) * 3 + c] = 250 } } }
      try writer.append(rgb: RGBImage(width: 32, height: 16, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    let chain =
      "ffmpeg -v error -y -i {input} -vf colorkey=0x5a5a5a:0.1:0,format=yuva420p -c:v libvpx-vp9 -metadata:s:v:0 alpha_mode=1 {output}"
    let output = dir + "/out.webm"
    _ = try await ExecProvider().submit(request(try config(chain), source: source, output: output))
    let reader = try MediaInput.open(output, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    let alpha = try #require(try reader.nextFrame()?.alpha)
    // Inside the square: opaque; the gray background: transparent.
    #expect(alpha.samples[8 * 32 + 12] > 200 && alpha.samples[0] < 50)
    #expect(FileManager.default.fileExists(atPath: output + ".stderr.txt"))
  }

  @Test func aFailingCommandIsRecordedWithItsStatusAndStderr() async throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let source = dir + "/src.mp4"
    try Data("x".utf8).write(to: URL(fileURLWithPath: source))
    let failing = try config("echo model crashed: out of memory >&2; exit 3 # {input} {output}")
    let error = try await #require(throws: ProviderError.self) {
      try await ExecProvider().submit(request(failing, source: source, output: dir + "/out.webm"))
    }
    #expect(error.code == "exec_failed")
    #expect(error.message.contains("status 3") && error.message.contains("model crashed: out of memory"))
    #expect(error.description.contains("clip-1"))
    let kept = try String(contentsOfFile: dir + "/out.webm.stderr.txt", encoding: .utf8)
    #expect(kept.contains("model crashed"))
  }

  @Test func aCommandPastItsTimeLimitIsStopped() async throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let source = dir + "/src.mp4"
    try Data("x".utf8).write(to: URL(fileURLWithPath: source))
    let slow = try config("sleep 30 # {input} {output}", timeout: "  timeout: 0.5\n")
    let started = Date()
    let error = try await #require(throws: ProviderError.self) {
      try await ExecProvider().submit(request(slow, source: source, output: dir + "/out.webm"))
    }
    #expect(error.code == "timeout")
    #expect(Date().timeIntervalSince(started) < 20)
  }

  @Test func aCommandWithoutTheOutputPlaceholderIsRefused() throws {
    let error = try #require(throws: ConfigError.self) { try config("tool {input}") }
    #expect(error.description.contains("exec.command") && error.description.contains("{output}"))
    let none = try ArmConfig.load(try writeConfig("name: tool\nmodel: external\noutput_format: webm\n"))
    #expect(throws: ConfigError.self) { try ExecProvider().validate(none) }
  }
}
