import Clips

/// The order a run (and `bench pipeline`) works through its clips.
enum ClipOrder {
  /// The most work first: duration × pixels, as the manifest records them. Clips are scored a
  /// few at a time, so a long clip started last would finish alone with the other cores idle;
  /// started first, it overlaps the short ones. Clips without a duration or size come last; ties
  /// keep the clip set's order. Each clip keeps its index in the set.
  static func mostWorkFirst(_ clips: [(offset: Int, element: Clip)]) -> [(offset: Int, element: Clip)] {
    clips.sorted { l, r in
      let (a, b) = (work(l.element), work(r.element))
      return a != b ? a > b : l.offset < r.offset
    }
  }

  /// Seconds × pixels per frame, or 0 when the manifest does not say.
  static func work(_ clip: Clip) -> Double {
    guard let duration = clip.duration, let size = clip.size else { return 0 }
    let parts = size.split(separator: "x").compactMap { Double($0) }
    guard parts.count == 2 else { return 0 }
    return duration * parts[0] * parts[1]
  }
}
