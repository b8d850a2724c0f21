import Clips
import Testing

@testable import Runner

/// The order a run scores its clips in: duration × pixels, most first.
@Suite struct ClipOrderTests {
  static func clip(_ id: String, duration: Double?, size: String?) -> Clip {
    var c = Clip(id: id, tags: [], source: PinnedFile(path: "\(id)/source.mp4", sha256: ""))
    c.duration = duration
    c.size = size
    return c
  }

  @Test func mostWorkFirstThenSetOrder() {
    let clips = [
      Self.clip("short", duration: 2, size: "1920x1080"),  // 4 147 200
      Self.clip("unknown", duration: nil, size: "1920x1080"),  // 0
      Self.clip("long", duration: 20, size: "1920x1080"),  // 41 472 000
      Self.clip("small-long", duration: 20, size: "640x360"),  // 4 608 000
      Self.clip("short-too", duration: 2, size: "1920x1080"),  // ties with "short"
      Self.clip("bad-size", duration: 5, size: "wide"),  // 0
    ]
    let ordered = ClipOrder.mostWorkFirst(Array(clips.enumerated()).map { (offset: $0.offset, element: $0.element) })
    #expect(ordered.map(\.element.id) == ["long", "small-long", "short", "short-too", "unknown", "bad-size"])
    // Each clip keeps its index in the set.
    #expect(ordered.map(\.offset) == [2, 3, 0, 4, 1, 5])
  }
}
