import Synchronization

/// A counting semaphore for async code: at most `count` bodies run at once; the others wait
/// their turn in arrival order.
///
/// `Sendable`: its count and queue sit behind a `Mutex`.
final class Slots: Sendable {
  private struct State {
    var free: Int
    var waiting: [CheckedContinuation<Void, Never>] = []
  }

  private let state: Mutex<State>
  /// How many bodies may run at once.
  let count: Int

  init(_ count: Int) {
    self.count = max(1, count)
    state = Mutex(State(free: max(1, count)))
  }

  /// Runs `body` once a slot is free.
  func run<T>(_ body: () async throws -> T) async rethrows -> T {
    await acquire()
    defer { release() }
    return try await body()
  }

  private func acquire() async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
      let now = state.withLock { s -> Bool in
        if s.free > 0 {
          s.free -= 1
          return true
        }
        s.waiting.append(c)
        return false
      }
      if now { c.resume() }
    }
  }

  private func release() {
    let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
      if s.waiting.isEmpty {
        s.free += 1
        return nil
      }
      return s.waiting.removeFirst()
    }
    next?.resume()
  }
}
