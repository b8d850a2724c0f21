import Dispatch
import Synchronization

/// Runs independent pieces of CPU work at once on Dispatch's worker threads.
enum Parallel {
  /// `transform` of every element, computed concurrently (the calling thread takes part), in
  /// the elements' order.
  static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
    guard items.count > 1 else { return items.map(transform) }
    let results = Mutex([R?](repeating: nil, count: items.count))
    DispatchQueue.concurrentPerform(iterations: items.count) { i in
      let r = transform(items[i])
      results.withLock { $0[i] = r }
    }
    return results.withLock { $0.map { $0! } }
  }
}
