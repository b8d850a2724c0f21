import Clips
import Foundation
import NIOHTTP1
import Synchronization

/// The first 402 of a run: once set, every later submission is refused without a request.
///
/// `Sendable`: its state sits behind a `Mutex`.
final class CreditStop: Sendable {
  private let reason = Mutex<String?>(nil)

  /// Throws `not_submitted` when the run has stopped submitting.
  func check(_ request: JobRequest) throws(ProviderError) {
    if let reason = reason.withLock({ $0 }) {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "not_submitted",
        message: "not submitted: the run stopped submitting after \(reason)")
    }
  }

  /// Stops further submissions; the first reason stays.
  func stop(_ why: String) { reason.withLock { if $0 == nil { $0 = why } } }
}

extension JobRequest {
  /// The `metadata` object every create carries: mattegate's key (unique per run, clip and arm)
  /// and the team's `--owner` id when there is one.
  var metadata: [String: String] {
    var m = ["mattegate_key": idempotencyKey]
    if let owner { m["owner"] = owner }
    return m
  }
}

extension ProviderError {
  /// A failed job of `request`, with the service's job id when there is one.
  static func job(
    _ request: JobRequest, _ code: String, _ message: String, id: String? = nil, retryable: Bool = false
  ) -> ProviderError {
    var e = ProviderError(clipID: request.clipID, arm: request.arm, code: code, message: message, retryable: retryable)
    e.providerJobID = id
    return e
  }
}

extension ArmConfig {
  /// What every service provider refuses: an exec command and engine parameters, which only
  /// `exec` and `local` take.
  func refuseLocalSettings(provider: String, takes: String) throws(ConfigError) {
    if execCommand != nil {
      throw ConfigError(file: file, field: "exec", message: "exec settings are for provider exec, not \(provider)")
    }
    if let key = parameters.keys.sorted().first {
      throw ConfigError(
        file: file, field: "engine.\(key)", message: "engine parameters are for provider local; \(takes)")
    }
  }
}

extension HTTPTransport {
  /// How long to wait before attempt `attempt + 1` after `answer` (Retry-After when the
  /// service sent one, else jittered backoff), noted in the retry log.
  func waitBeforeRetry(_ method: String, _ path: String, answer: HTTPAnswer?, attempt: Int, why: String? = nil)
    async throws
  {
    let said = answer?.headers.first(name: "Retry-After").flatMap(Double.init)
    let wait =
      said ?? min(settings.retryCap, settings.retryBase * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1)
    let what = why ?? answer.map { "HTTP \($0.status)" } ?? "no answer"
    note(
      "\(method) \(path): \(what); attempt \(attempt + 1) after \(String(format: "%.2f", wait)) s"
        + (said != nil ? " (Retry-After)" : " (backoff)"))
    try await Task.sleep(for: .seconds(wait))
  }
}
