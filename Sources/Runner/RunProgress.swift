import Foundation
import Synchronization

/// How a run shows its progress.
public enum ProgressStyle: Sendable {
  /// One line redrawn in place on a terminal: clips done of total, jobs in flight, failures, ETA.
  case bar
  /// Plain lines (CI logs): each event, and a progress line after each clip.
  case lines
}

/// Counts clips and jobs as they go and shows them: a bar on a terminal, lines elsewhere. The
/// run's detailed messages pass through it so the bar is redrawn below them.
///
/// `Sendable`: its counters sit behind a `Mutex`.
final class RunProgress: Sendable {
  private struct State {
    var done = 0
    /// Clips stored before this process started (a resume): done, but not part of the rate.
    var carried = 0
    var failed = 0
    var inFlight = 0
    var started = Date()
    var barShown = false
  }

  let total: Int
  let style: ProgressStyle
  private let emit: @Sendable (String) -> Void
  private let state = Mutex(State())

  /// - Parameters:
  ///   - total: clips this run will process.
  ///   - emit: writes raw text (lines end in "\n"; the bar uses "\r").
  init(total: Int, style: ProgressStyle, emit: @escaping @Sendable (String) -> Void) {
    self.total = total
    self.style = style
    self.emit = emit
  }

  /// A message line, printed above the bar.
  func line(_ text: String) {
    state.withLock { s in
      if style == .bar && s.barShown { emit("\r\u{1B}[2K") }
      emit(text + "\n")
      if style == .bar { drawBar(&s) }
    }
  }

  func jobStarted() { update { $0.inFlight += 1 } }
  func jobEnded() { update { $0.inFlight -= 1 } }

  /// A clip a resumed run already has.
  func clipCarriedOver() {
    state.withLock { s in
      s.done += 1
      s.carried += 1
    }
  }

  /// A clip finished, scored or not.
  func clipDone(failed: Bool) {
    state.withLock { s in
      s.done += 1
      if failed { s.failed += 1 }
      if style == .lines {
        emit("progress: " + Self.summary(s, total: total) + "\n")
      } else {
        drawBar(&s)
      }
    }
  }

  /// Removes the bar before the run's final output.
  func finish() {
    state.withLock { s in
      if style == .bar && s.barShown {
        emit("\r\u{1B}[2K")
        s.barShown = false
      }
    }
  }

  private func update(_ change: (inout State) -> Void) {
    state.withLock { s in
      change(&s)
      if style == .bar { drawBar(&s) }
    }
  }

  private func drawBar(_ s: inout State) {
    let width = 24
    let filled = total == 0 ? width : width * s.done / total
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    emit("\r\u{1B}[2K[\(bar)] " + Self.summary(s, total: total))
    s.barShown = true
  }

  private static func summary(_ s: State, total: Int) -> String {
    var text = "\(s.done)/\(total) clips, \(s.inFlight) job\(s.inFlight == 1 ? "" : "s") in flight, \(s.failed) failed"
    if s.done > s.carried && s.done < total {
      let elapsed = Date().timeIntervalSince(s.started)
      text += ", ETA " + duration(elapsed / Double(s.done - s.carried) * Double(total - s.done))
    } else if s.done == total {
      text += ", done in " + duration(Date().timeIntervalSince(s.started))
    }
    return text
  }

  static func duration(_ seconds: Double) -> String {
    let t = Int(seconds.rounded())
    if t < 60 { return "\(t) s" }
    if t < 3600 { return "\(t / 60) min \(t % 60) s" }
    return "\(t / 3600) h \(t % 3600 / 60) min"
  }
}
