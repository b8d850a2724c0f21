import APIServer
import ArgumentParser
import Foundation

struct ServeAPI: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve-api",
    abstract: "Serve the job API (docs/api) on loopback, with the embedded engine behind it.",
    discussion: """
      The server accepts the API key in MATTEGATE_API_KEY (X-Api-Key header), fetches inputs only \
      from itself or loopback addresses, and offers the contract's test controls under /_test/. \
      It prints `listening on http://HOST:PORT` once bound (use --port 0 for a free port).
      """)

  @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
  var port: Int = 8080

  @Option(help: "Loopback address to bind: 127.0.0.1, ::1 or localhost.")
  var host: String = "127.0.0.1"

  @Option(help: "Folder for uploads and outputs (default: a new temporary folder).")
  var storage: String?

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
  }

  func run() async throws {
    guard let key = ProcessInfo.processInfo.environment["MATTEGATE_API_KEY"], !key.isEmpty else {
      throw ValidationError("serve-api needs the API key it accepts in the environment variable MATTEGATE_API_KEY")
    }
    let folder =
      storage ?? (NSTemporaryDirectory() + "mattegate-serve-api-\(ProcessInfo.processInfo.processIdentifier)")
    var options = ReferenceServerOptions(port: port, apiKey: key, storage: folder)
    options.host = host
    options.webhookSecret = ProcessInfo.processInfo.environment["MATTEGATE_WEBHOOK_SECRET"]
    try await ReferenceServer.run(options) { port in
      FileHandle.standardOutput.write(Data("listening on http://\(host):\(port) (storage \(folder))\n".utf8))
    }
  }
}
