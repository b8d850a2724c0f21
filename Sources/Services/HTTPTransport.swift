import AsyncHTTPClient
public import Foundation
import NIOCore
public import NIOHTTP1
import Synchronization

/// How a service wants its key.
public enum KeyStyle: Sendable {
  /// `X-Api-Key: <key>` (mattegate's contract, RemoveBGVideo, VideoBGRemover).
  case apiKeyHeader
  /// `Authorization: Bearer <key>` (Replicate).
  case bearer
}

/// One answer of a service.
public struct HTTPAnswer: Sendable {
  public var status: Int
  public var headers: HTTPHeaders
  public var body: Data

  public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data) {
    self.status = status
    self.headers = headers
    self.body = body
  }
}

/// The HTTP calls every provider dialect makes, with one retry policy and the operational log.
///
/// Network errors, 429, 500, 502, 503 and 504 are retried (Retry-After honoured, else
/// jittered exponential backoff); any other answer is returned to the dialect, which knows what
/// it means. A call that must not be repeated blindly (a create without an idempotency key, a
/// charging start) passes `retryPolicy: .answersOnly` or `.never`, and the dialect decides.
public final class HTTPTransport: Sendable {
  public enum RetryPolicy: Sendable {
    /// Network errors and the retryable statuses.
    case all
    /// The retryable statuses only: a request whose answer was lost is not sent again (the
    /// caller gets the transport error and reconciles).
    case answersOnly
    /// Never: one attempt.
    case never
  }

  public let settings: HTTPProviderSettings
  public let keyStyle: KeyStyle
  public let providerName: String
  public let log: RequestLog
  private let notes = Mutex<[String]>([])

  public init(settings: HTTPProviderSettings, keyStyle: KeyStyle, providerName: String, log: RequestLog) {
    self.settings = settings
    self.keyStyle = keyStyle
    self.providerName = providerName
    self.log = log
  }

  /// Every retry and URL renewal so far, one line each (for tests and the run's output).
  public var retryLog: [String] { notes.withLock { $0 } }

  public func note(_ line: String) { notes.withLock { $0.append(line) } }

  static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

  /// One API call. `path` is relative to the base URL unless it is absolute (`http…`), in
  /// which case no key is sent (a signed URL carries its own authority).
  public func call(
    _ method: String, _ path: String, body: Data? = nil, contentType: String? = nil,
    headers extra: [(String, String)] = [], operation: String, authenticated: Bool = true,
    retryPolicy: RetryPolicy = .all, tag: RequestTag? = nil, timeout: Double? = nil
  ) async throws -> HTTPAnswer {
    let absolute = path.hasPrefix("http://") || path.hasPrefix("https://")
    let url = absolute ? path : settings.baseURL + path
    var attempt = 0
    while true {
      attempt += 1
      var request = HTTPClientRequest(url: url)
      request.method = HTTPMethod(rawValue: method)
      if authenticated && !absolute {
        switch keyStyle {
        case .apiKeyHeader: request.headers.add(name: "X-Api-Key", value: settings.apiKey)
        case .bearer: request.headers.add(name: "Authorization", value: "Bearer \(settings.apiKey)")
        }
      }
      for (name, value) in extra { request.headers.add(name: name, value: value) }
      if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
      if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
      let sent = Date()
      var entry = RequestLog.Entry(
        time: RequestLog.timestamp(sent), provider: providerName, clip: tag?.clipID, arm: tag?.arm, method: method,
        path: RequestLog.redact(absolute ? url : path), latencyMS: 0, attempt: attempt)
      var wait: Double?
      var problem: String
      var final: HTTPAnswer?
      do {
        let response = try await HTTPClient.deadlineOnly.execute(
          request, timeout: .milliseconds(Int64((timeout ?? settings.requestTimeout) * 1000)))
        let data = Data(try await response.body.collect(upTo: 1 << 30).readableBytesView)
        let status = Int(response.status.code)
        entry.status = status
        entry.requestID = Self.requestID(response.headers, body: data)
        let answer = HTTPAnswer(status: status, headers: response.headers, body: data)
        problem = "HTTP \(status)" + (Self.errorCode(data).map { " " + $0 } ?? "")
        wait = response.headers.first(name: "Retry-After").flatMap(Double.init)
        if !Self.retryableStatuses.contains(status) || retryPolicy == .never || attempt >= settings.maxAttempts {
          final = answer
        }
      } catch {
        problem = "no answer (\(Self.transportDescription(error)))"
        if retryPolicy != .all || attempt >= settings.maxAttempts {
          entry.latencyMS = Int(Date().timeIntervalSince(sent) * 1000)
          entry.note = problem
          log.record(entry)
          throw TransportError(
            operation: operation, method: method, path: RequestLog.redact(absolute ? url : path), attempts: attempt,
            last: problem)
        }
      }
      entry.latencyMS = Int(Date().timeIntervalSince(sent) * 1000)
      if let final {
        log.record(entry)
        return final
      }
      let backoff = min(settings.retryCap, settings.retryBase * pow(2, Double(attempt - 1)))
      let delay = wait ?? backoff * Double.random(in: 0.5...1)
      entry.retry = problem
      entry.waitSeconds = (delay * 1000).rounded() / 1000
      entry.waitSource = wait != nil ? "retry-after" : "backoff"
      log.record(entry)
      note(
        "\(method) \(RequestLog.redact(absolute ? url : path)): \(problem); attempt \(attempt + 1) after \(String(format: "%.2f", delay)) s"
          + (wait != nil ? " (Retry-After)" : " (backoff)"))
      try await Task.sleep(for: .seconds(delay))
    }
  }

  /// Streams `url` into `path`; the final HTTP status (200 when written). Retryable statuses
  /// and network errors are tried again; the output is limited to `maxOutputBytes`.
  public func download(_ url: String, to path: String, what: String, tag: RequestTag?) async throws -> Int {
    var attempt = 0
    while true {
      attempt += 1
      let sent = Date()
      var entry = RequestLog.Entry(
        time: RequestLog.timestamp(sent), provider: providerName, clip: tag?.clipID, arm: tag?.arm, method: "GET",
        path: RequestLog.redact(url), latencyMS: 0, attempt: attempt)
      do {
        let response = try await HTTPClient.deadlineOnly.execute(
          HTTPClientRequest(url: url), timeout: .milliseconds(Int64(settings.requestTimeout * 1000)))
        let status = Int(response.status.code)
        entry.status = status
        entry.requestID = Self.requestID(response.headers, body: Data())
        guard status == 200 else {
          _ = try? await response.body.collect(upTo: 1 << 20)
          entry.latencyMS = Int(Date().timeIntervalSince(sent) * 1000)
          if Self.retryableStatuses.contains(status) && attempt < settings.maxAttempts {
            let delay = settings.retryBase * Double.random(in: 0.5...1)
            entry.retry = "HTTP \(status)"
            entry.waitSeconds = (delay * 1000).rounded() / 1000
            entry.waitSource = "backoff"
            log.record(entry)
            try await Task.sleep(for: .seconds(delay))
            continue
          }
          log.record(entry)
          return status
        }
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
          throw ProviderSetupError("\(path): cannot be created")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
          throw ProviderSetupError("\(path): cannot be written")
        }
        defer { try? handle.close() }
        var written = 0
        for try await chunk in response.body {
          written += chunk.readableBytes
          // A service that never stops sending must not fill the disk.
          guard written <= settings.maxOutputBytes else {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            entry.note = "refused: larger than \(settings.maxOutputBytes) bytes"
            log.record(entry)
            throw ProviderSetupError(
              "\(what) is larger than the limit of \(settings.maxOutputBytes) bytes for one output; refusing it")
          }
          handle.write(Data(chunk.readableBytesView))
        }
        entry.latencyMS = Int(Date().timeIntervalSince(sent) * 1000)
        entry.note = "\(written) bytes"
        log.record(entry)
        return 200
      } catch let error as ProviderSetupError {
        throw error
      } catch {
        entry.latencyMS = Int(Date().timeIntervalSince(sent) * 1000)
        let problem = "no answer (\(Self.transportDescription(error)))"
        if attempt >= settings.maxAttempts {
          entry.note = problem
          log.record(entry)
          throw ProviderSetupError("downloading \(what) failed \(attempt) times: \(problem)")
        }
        let delay = settings.retryBase * Double.random(in: 0.5...1)
        entry.retry = problem
        entry.waitSeconds = (delay * 1000).rounded() / 1000
        entry.waitSource = "backoff"
        log.record(entry)
        try await Task.sleep(for: .seconds(delay))
      }
    }
  }

  /// `error.code` of a JSON error body, when it has one.
  static func errorCode(_ body: Data) -> String? {
    guard body.first == UInt8(ascii: "{"),
      let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
      let error = object["error"] as? [String: Any]
    else { return nil }
    return error["code"] as? String
  }

  /// The service's request id: a header, or `error.request_id` in a JSON error body.
  static func requestID(_ headers: HTTPHeaders, body: Data) -> String? {
    for name in ["X-Request-Id", "X-Request-ID", "Request-Id", "X-Amzn-Requestid"] {
      if let value = headers.first(name: name) { return value }
    }
    guard body.first == UInt8(ascii: "{"),
      let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
      let error = object["error"] as? [String: Any]
    else { return nil }
    return error["request_id"] as? String
  }

  static func transportDescription(_ error: any Error) -> String {
    if let e = error as? HTTPClientError { return "\(e)" }
    return String(describing: type(of: error))
  }
}

/// A call that got no answer (after the retries its policy allows).
public struct TransportError: Error, CustomStringConvertible, Sendable {
  public var operation: String
  public var method: String
  public var path: String
  public var attempts: Int
  public var last: String
  public var description: String {
    "\(operation): \(method) \(path) failed \(attempts) time\(attempts == 1 ? "" : "s"); last: \(last)"
  }
}
