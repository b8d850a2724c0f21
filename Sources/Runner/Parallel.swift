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

/// A value handed to concurrent work although its type is not `Sendable`: for objects (such as
/// decoders) that only one piece of work uses at a time, which the caller guarantees.
struct Unchecked<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
