import Foundation
import Synchronization

/// Which job a request belongs to, for the operational log.
public struct RequestTag: Sendable {
  public var clipID: String
  public var arm: String
  public init(clipID: String, arm: String) {
    self.clipID = clipID
    self.arm = arm
  }
}

/// The operational log: one JSON line per HTTP request a provider makes (method, path without
/// secrets, status, the service's request id, latency, attempt, and why it was retried).
///
/// Lines go to `requests.jsonl` in the run's folder; the lines of one clip's arm also go to
/// `requests/<clip>.<arm>.jsonl`, which the report links from a failed job. Lines written before
/// the run's folder is known (the preflight) are kept and written when it is attached. The API
/// key travels in headers only and is never logged; query values are replaced by `REDACTED`
/// except a short list of harmless paging parameters, so a signed URL's token never appears.
///
/// `Sendable`: its state sits behind a `Mutex`.
public final class RequestLog: Sendable {
  public struct Entry: Codable, Sendable, Equatable {
    public var time: String
    public var provider: String
    public var clip: String?
    public var arm: String?
    public var method: String
    public var path: String
    /// nil when nothing answered.
    public var status: Int?
    public var requestID: String?
    public var latencyMS: Int
    public var attempt: Int
    /// Why this attempt is followed by another (`HTTP 503 service_unavailable`, `no answer (…)`), else nil.
    public var retry: String?
    /// Seconds waited before the next attempt, and whether the service said so (Retry-After).
    public var waitSeconds: Double?
    public var waitSource: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
      case time, provider, clip, arm, method, path, status, attempt, retry, note
      case requestID = "request_id"
      case latencyMS = "latency_ms"
      case waitSeconds = "wait_seconds"
      case waitSource = "wait_source"
    }
  }

  private struct State {
    var folder: String?
    var pending: [Entry] = []
    var all: [Entry] = []
  }

  private let state = Mutex(State())

  public init() {}

  /// Starts writing to `folder` (the run's folder); earlier lines are written now.
  public func attach(folder: String) throws {
    let pending = state.withLock { s -> [Entry] in
      s.folder = folder
      defer { s.pending = [] }
      return s.pending
    }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for entry in pending { write(entry, folder: folder) }
  }

  /// Every line so far (for tests and the run's summary).
  public var entries: [Entry] { state.withLock { $0.all } }

  public func record(_ entry: Entry) {
    let folder = state.withLock { s -> String? in
      s.all.append(entry)
      if s.folder == nil { s.pending.append(entry) }
      return s.folder
    }
    if let folder { write(entry, folder: folder) }
  }

  /// The file holding one clip's arm's lines, relative to the run's folder.
  public static func jobFile(clipID: String, arm: String) -> String {
    let safe = String(clipID.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    return "requests/\(safe).\(arm).jsonl"
  }

  private func write(_ entry: Entry, folder: String) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard var line = try? encoder.encode(entry) else { return }
    line.append(0x0A)
    // Appends are serialised so that lines never interleave.
    state.withLock { _ in
      Self.append(line, to: folder + "/requests.jsonl")
      if let clip = entry.clip, let arm = entry.arm {
        try? FileManager.default.createDirectory(atPath: folder + "/requests", withIntermediateDirectories: true)
        Self.append(line, to: folder + "/" + Self.jobFile(clipID: clip, arm: arm))
      }
    }
  }

  private static func append(_ data: Data, to path: String) {
    if !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    guard let handle = FileHandle(forWritingAtPath: path) else { return }
    defer { try? handle.close() }
    _ = try? handle.seekToEnd()
    try? handle.write(contentsOf: data)
  }

  /// Query parameters whose values are never secret.
  static let harmlessQuery: Set<String> = ["limit", "offset", "status", "page", "days"]

  /// `url` (absolute or a path) as it may be logged: path and query names, secret values
  /// replaced. Hosts are kept for absolute URLs (a signed storage URL is worth seeing), but
  /// never user info.
  public static func redact(_ url: String) -> String {
    guard var components = URLComponents(string: url) else { return "(unparseable URL)" }
    components.user = nil
    components.password = nil
    components.fragment = nil
    if let items = components.queryItems, !items.isEmpty {
      components.queryItems = items.map { item in
        URLQueryItem(
          name: item.name, value: harmlessQuery.contains(item.name.lowercased()) ? item.value : "REDACTED")
      }
    }
    return components.string ?? "(unparseable URL)"
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }
}
