import ArgumentParser
import Foundation
import ReviewServer

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Browse the stored runs on loopback: reports, comparisons of two runs, history, blind A/B votes.",
    discussion: """
      Pages are rendered from the SQLite store on every request; review crops come from the run \
      folders under --reports. Blind votes are stored in the store's votes table and counted in \
      each run's report with a sign test. Prints `listening on http://HOST:PORT` once bound \
      (use --port 0 for a free port).
      """)

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @Option(help: "Folder of run folders, as `mattegate run --out` wrote them.")
  var reports: String = "reports"

  @Option(help: "Port on the loopback address (0 picks a free one).")
  var port: Int = 8090

  @Option(help: "Loopback address to bind: 127.0.0.1, ::1 or localhost.")
  var host: String = "127.0.0.1"

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
  }

  func run() async throws {
    var options = ReviewServerOptions(database: db, reports: reports, port: port)
    options.host = host
    let host = host
    try await ReviewServer.run(options) { port in
      FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
    }
  }
}
