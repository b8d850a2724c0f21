import APIServer
import ArgumentParser
import Foundation

struct ServeAPI: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve-api",
    abstract: "Serve the job API (docs/api), or a vendor's dialect of it, on loopback over the embedded engine.",
    discussion: """
      The server accepts the API key in MATTEGATE_API_KEY, fetches inputs only from itself or \
      loopback addresses, and offers the test controls under /_test/ in every dialect. --dialect \
      contract speaks mattegate's job API; removebgvideo speaks that vendor's documented API \
      (docs/providers.md). It prints `listening on http://HOST:PORT` once bound (use --port 0 \
      for a free port).
      """)

  @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
  var port: Int = 8080

  @Option(help: "Loopback address to bind: 127.0.0.1, ::1 or localhost.")
  var host: String = "127.0.0.1"

  @Option(help: "Folder for uploads and outputs (default: a new temporary folder).")
  var storage: String?

  @Option(help: "The API to speak: \(APIDialect.allCases.map(\.rawValue).joined(separator: ", ")).")
  var dialect: String = "contract"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
    guard APIDialect(rawValue: dialect) != nil else {
      throw ValidationError(
        "--dialect '\(dialect)' is not one of \(APIDialect.allCases.map(\.rawValue).joined(separator: ", "))")
    }
  }

  func run() async throws {
    guard let key = ProcessInfo.processInfo.environment["MATTEGATE_API_KEY"], !key.isEmpty else {
      throw ValidationError("serve-api needs the API key it accepts in the environment variable MATTEGATE_API_KEY")
    }
    let folder =
      storage ?? (NSTemporaryDirectory() + "mattegate-serve-api-\(ProcessInfo.processInfo.processIdentifier)")
    var options = ReferenceServerOptions(port: port, apiKey: key, storage: folder)
    options.host = host
    options.dialect = APIDialect(rawValue: dialect) ?? .contract
    options.webhookSecret = ProcessInfo.processInfo.environment["MATTEGATE_WEBHOOK_SECRET"]
    try await ReferenceServer.run(options) { port in
      FileHandle.standardOutput.write(
        Data("listening on http://\(host):\(port) (\(dialect) dialect, storage \(folder))\n".utf8))
    }
  }
}
