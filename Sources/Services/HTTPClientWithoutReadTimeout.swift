public import AsyncHTTPClient
import NIOCore

extension HTTPClient {
  /// The client every request of mattegate goes through: `HTTPClient.shared`'s settings (redirects
  /// followed, responses decompressed within a ratio), except that nothing but the deadline each
  /// call passes to `execute(_:timeout:)` limits a request. The shared client also gives up on a
  /// connection that sends nothing for 90 s, below the 120 s a provider's request may take and
  /// the 600–900 s the tests allow their in-process servers: on a loaded machine a test failed
  /// with `readTimeout` at 90 s although its own deadline was 600 s.
  public static let deadlineOnly: HTTPClient = {
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.timeout = .init(connect: .hours(1), read: nil)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }()
}
